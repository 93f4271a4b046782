"""Frequency laws and the two samplers (dense, as the paper; sparse, the fast path)."""

import math

import pytest
import torch

from utils import data


def test_power_law_normalised_and_shaped():
    p = data.power_law(1000, 1.3, E=1.0)
    assert p.shape == (1000,)
    assert p.sum().item() == pytest.approx(1.0, rel=1e-5)
    assert (p[1:] <= p[:-1]).all()
    assert (p[0] / p[1]).item() == pytest.approx(2 ** 1.3, rel=1e-5)


def test_flat_and_steep_laws_are_valid():
    assert torch.allclose(data.power_law(10, 0.0), torch.full((10,), 0.1))
    steep = data.power_law(100, 3.0)  # alpha > 2 is allowed (chapter 8 uses it)
    assert steep[0].item() == pytest.approx(1 / sum(i ** -3.0 for i in range(1, 101)), rel=1e-5)


def test_exponential_and_linear_follow_the_paper_indexing():
    e = data.exponential(50, scale=10.0)
    assert (e[1] / e[0]).item() == pytest.approx(math.exp(-0.1), rel=1e-5)
    lin = data.linear(4)
    assert torch.allclose(lin, torch.tensor([4.0, 3, 2, 1]) / 10)


def test_raise_density_reaches_p1_equal_one():
    p = data.power_law(1000, 1.0)
    full = data.raise_density(p, 1.0)
    assert full[0].item() == pytest.approx(1.0)
    harmonic = sum(1 / i for i in range(1, 1001))
    assert full.sum().item() == pytest.approx(harmonic, rel=1e-4)  # E = 1/p_1 = H_1000 ~ 7.49
    assert torch.allclose(data.raise_density(p, 0.0), p)
    assert full.max().item() <= 1.0


@pytest.mark.parametrize("call, name", [
    (lambda: data.power_law(0, 1.0), "n"),
    (lambda: data.power_law(-5, 1.0), "n"),
    (lambda: data.power_law(10, -0.5), "alpha"),
    (lambda: data.power_law(10, float("nan")), "alpha"),
    (lambda: data.power_law(10, 1.0, E=0), "E"),
    (lambda: data.power_law(10, 2.0, E=5.0), "E"),
    (lambda: data.exponential(10, scale=0), "scale"),
    (lambda: data.raise_density(data.power_law(10, 1.0), 1.5), "s"),
    (lambda: data.sample_dense(torch.tensor([0.5, 1.2]), 4), "p"),
    (lambda: data.sample_dense(torch.full((2, 5), 0.1), 4), "p"),  # a stack: one model's vector only
    (lambda: data.sample_sparse(torch.tensor([0.5, float("nan")]), 4), "p"),
    (lambda: data.sample_sparse(torch.tensor([-0.1, 0.5]), 4), "p"),
    (lambda: data.sample_sparse(data.power_law(10, 1.0), 0), "batch"),
    (lambda: data.sample_sparse(torch.rand(3, 4), 8), "p"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


@pytest.mark.parametrize("alpha, s, redraw", [(0.0, 0.0, False), (1.0, 0.0, False), (2.0, 0.0, False),
                                              (1.0, 1.0, False), (1.0, 0.0, True)])
def test_sparse_sampler_has_the_data_distribution(alpha, s, redraw, monkeypatch):
    """Per-feature activation rates within 5 sigma of p_i; values Uniform(0, 2); no duplicates;
    entries sorted by feature, then sample (the trainer relies on it), also when features are redrawn."""
    if redraw:  # a budget of 2 gaps falls short for most features: the rare redraw path runs every batch
        monkeypatch.setattr(data, "_gap_budget", lambda q, batch: torch.full_like(q, 2, dtype=torch.long))
    p = data.raise_density(data.power_law(300, alpha), s)
    g = torch.Generator().manual_seed(1)
    batch, reps = 1024, 60
    counts = torch.zeros(300)
    values, per_row = [], []
    for _ in range(reps):
        sb = data.sample_sparse(p, batch, g)
        key = sb.rows * 300 + sb.cols
        assert key.unique().numel() == key.numel()
        order = sb.cols * batch + sb.rows
        assert (order[1:] > order[:-1]).all(), "entries must be sorted by feature, then sample"
        assert (sb.rows >= 0).all() and (sb.rows < batch).all()
        counts.index_add_(0, sb.cols, torch.ones(sb.cols.numel()))
        values.append(sb.values)
        per_row.append(torch.bincount(sb.rows, minlength=batch).float())
    freq = counts / (batch * reps)
    sd = torch.sqrt(p * (1 - p) / (batch * reps)) + 1e-9
    assert ((freq - p).abs() / sd).max().item() < 5.5
    v = torch.cat(values)
    assert v.min() >= 0 and v.max() <= 2
    assert v.mean().item() == pytest.approx(1.0, abs=0.02)
    assert (v ** 2).mean().item() == pytest.approx(4 / 3, abs=0.03)
    # active features per sample: mean E, variance sum p(1-p) (independent Bernoullis)
    rows = torch.cat(per_row)
    assert rows.mean().item() == pytest.approx(p.sum().item(), rel=0.03)
    assert rows.var().item() == pytest.approx((p * (1 - p)).sum().item(), rel=0.08)


def test_sparse_and_dense_samplers_agree_in_distribution():
    p = data.power_law(200, 1.0, E=2.0)
    g = torch.Generator().manual_seed(3)
    dense = torch.cat([data.sample_dense(p, 1024, g) for _ in range(30)])
    sparse = torch.cat([data.sample_sparse(p, 1024, g).to_dense() for _ in range(30)])
    for stat in (lambda x: (x > 0).float().mean(0), lambda x: x.mean(0)):
        a, b = stat(dense), stat(sparse)
        assert (a - b).abs().max().item() < 0.02


def test_sampling_is_reproducible_with_a_seeded_generator():
    p = data.power_law(100, 1.0)
    a = data.sample_sparse(p, 256, torch.Generator().manual_seed(7))
    b = data.sample_sparse(p, 256, torch.Generator().manual_seed(7))
    assert torch.equal(a.to_dense(), b.to_dense())


def test_feature_arrows_draws_each_row_and_refuses_other_widths():
    """Chapter 3's picture of an m = 2 model: one arrow (shaft and tip) per row of W."""
    from utils import plotting

    W = torch.tensor([[1.0, 0.0], [0.0, 0.8], [-0.3, 0.1]])
    fig = plotting.feature_arrows({"a": W, "b": 2 * W})
    ax = fig.axes[0]
    assert len(ax.lines) == 1 + 2 * len(W)  # the unit circle, then a shaft and a tip per row
    assert ax.lines[2].get_xydata().tolist() == [[1.0, 0.0]]  # row 1's tip
    assert "2 of 3 rows above 1/2" in ax.get_title()
    with pytest.raises(ValueError, match="shape \\(n, 2\\)"):
        plotting.feature_arrows({"c": torch.zeros(4, 3)})
