"""utils.embeddings: the real tables load offline with the right shapes; neighbours, analogies, frequencies."""

import os
import subprocess
import sys

import numpy as np
import pytest

from utils import embeddings
from utils.paths import ROOT


@pytest.fixture(scope="module")
def glove():
    return embeddings.glove(top=50_000)


@pytest.fixture(scope="module")
def mini():
    return embeddings.minilm()


def test_minilm_is_the_bert_token_embedding(mini):
    assert mini.shape == (30_522, 384)
    assert mini.vectors.dtype == np.float32 and np.isfinite(mini.vectors).all()
    assert mini.words[:1] == ("[PAD]",) and "[CLS]" in mini and "##ing" in mini
    assert not mini.searchable[mini.index["##ing"]] and mini.searchable[mini.index["paris"]]
    assert embeddings.minilm() is mini  # cached


def test_glove_loads_the_most_frequent_words(glove):
    assert glove.shape == (50_000, 50)
    assert glove.words[0] == "the" and glove.index["the"] == 0
    assert embeddings.glove(top=50_000) is glove and embeddings.glove(50_000) is glove


def test_loading_needs_no_network():
    """A fresh interpreter with every network path closed still loads both tables."""
    code = ("import socket\n"
            "def no(*a, **k): raise OSError('network disabled in this test')\n"
            "socket.socket.connect = no; socket.create_connection = no\n"
            "from utils import embeddings\n"
            "print(embeddings.minilm().shape, embeddings.glove(1000).shape, "
            "len(embeddings.word_frequencies(100)[0]))\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "(30522, 384) (1000, 50) 100" in out.stdout


def test_cosine_and_similarity(glove):
    assert embeddings.cosine([1, 0], [0, 2]) == 0.0
    assert embeddings.cosine([1, 1], [2, 2]) == pytest.approx(1.0)
    assert embeddings.cosine([1, 0], [-3, 0]) == pytest.approx(-1.0)
    assert embeddings.similarity(glove, "paris", "france") > embeddings.similarity(glove, "paris", "banana")
    assert embeddings.similarity(glove, "King", " king ") == pytest.approx(1.0, abs=1e-6)  # case and spaces


def test_neighbours_are_sorted_and_exclude_the_word(glove, mini):
    for emb in (glove, mini):
        found = embeddings.neighbours(emb, "paris", k=8)
        words = [w for w, _ in found]
        scores = [s for _, s in found]
        assert len(found) == 8 and "paris" not in words
        assert scores == sorted(scores, reverse=True)
        assert "france" in words
        assert all(not w.startswith("##") for w in words)
    assert "tower" in [w for w, _ in embeddings.neighbours(glove, "eiffel", k=8)]


def test_analogies(glove):
    assert embeddings.analogy(glove, "man", "king", "woman")[0][0] == "queen"
    assert embeddings.analogy(glove, "france", "paris", "italy")[0][0] == "rome"
    assert all(w not in ("man", "king", "woman") for w, _ in embeddings.analogy(glove, "man", "king", "woman", k=5))


def test_projection_separates_groups(glove):
    words = ["dog", "cat", "horse", "france", "spain", "italy"]
    xy = embeddings.project_2d(glove, words)
    assert xy.shape == (6, 2)
    gap = np.linalg.norm(xy[:3].mean(0) - xy[3:].mean(0))
    spread = max(np.linalg.norm(xy[:3] - xy[:3].mean(0), axis=1).max(),
                 np.linalg.norm(xy[3:] - xy[3:].mean(0), axis=1).max())
    assert gap > 2 * spread


@pytest.mark.parametrize("word, hint", [("paaris", "paris"), ("kingg", "king")])
def test_unknown_word_gives_close_matches(glove, word, hint):
    with pytest.raises(ValueError, match=f"not in the GloVe vocabulary.*Close matches: .*{hint}"):
        embeddings.neighbours(glove, word)


@pytest.mark.parametrize("call, message", [
    (lambda g: embeddings.neighbours(g, ""), "non-empty string"),
    (lambda g: embeddings.neighbours(g, 42), "non-empty string"),
    (lambda g: embeddings.neighbours(g, "paris", k=0), "k must be a positive integer"),
    (lambda g: embeddings.neighbours(g, "paris", k=len(g)), r"k must be an integer in \[1, \d+\] \(the searchable"),
    (lambda g: embeddings.analogy(g, "man", "king", "woman", k=10 ** 6), "k must be an integer in"),
    (lambda g: embeddings.similarity(g, "paris", "qqqzzzxx"), "'qqqzzzxx' is not in the GloVe vocabulary"),
    (lambda g: embeddings.cosine([1, 2], [1, 2, 3]), "same length"),
    (lambda g: embeddings.cosine([0, 0], [1, 2]), "zero vector"),
    (lambda g: embeddings.glove(top=500_000), "at most 400000"),
    (lambda g: embeddings.zipf_fit([0.5, 0.3], start=5), "at least two ranks"),
])
def test_bad_inputs_get_clear_errors(glove, call, message):
    with pytest.raises(ValueError, match=message):
        call(glove)


def test_word_frequencies_follow_zipf():
    words, freq = embeddings.word_frequencies(top=10_000)
    assert len(words) == 10_000 and words[0] == "the"
    assert np.all(np.diff(freq) <= 0)
    fit = embeddings.zipf_fit(freq, start=10)
    assert -1.3 < fit.slope < -1.0 and fit.r2 > 0.97


def test_zipf_fit_recovers_a_planted_exponent():
    ranks = np.arange(1, 5001)
    fit = embeddings.zipf_fit(3.0 * ranks ** -1.3, start=1)
    assert fit.slope == pytest.approx(-1.3) and fit.prefactor == pytest.approx(3.0)


def test_gpt2_facts_agree_with_the_gpt2_configuration_and_are_stated_once():
    """Checked against another source than the constants themselves: transformers' GPT2Config defaults
    are GPT-2 small's configuration; every GPT-2 width is a whole number of 64-wide attention heads."""
    from transformers import GPT2Config

    config = GPT2Config()
    assert embeddings.GPT2_VOCAB == config.vocab_size
    assert embeddings.GPT2_WIDTHS["GPT-2 small"] == config.n_embd == 64 * config.n_head
    widths = list(embeddings.GPT2_WIDTHS.values())
    assert widths == sorted(widths) and all(w % 64 == 0 for w in widths)
    stating = [f.name for f in (ROOT / "utils").glob("*.py") if "50257" in f.read_text().replace("_", "")]
    assert stating == ["embeddings.py"], f"GPT-2's vocabulary size is written out in {stating}"
