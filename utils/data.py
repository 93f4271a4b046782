"""Feature-frequency laws and sparse batches of the toy model's data.

Every feature i of the toy model is active with probability p_i; when active its
value is u ~ Uniform(0, 2), so x_i = s_i * u_i with s_i ~ Bernoulli(p_i).
E = sum(p_i) is the expected number of active features per sample (the
*activation density*).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import _validate as check

#: E[u] and E[u^2] for u ~ Uniform(0, 2): the scale of a feature's value when active.
U_MEAN = 1.0
U_SQUARE_MEAN = 4.0 / 3.0


def _normalise(weights: torch.Tensor, E: float, name: str) -> torch.Tensor:
    """Scale non-negative weights to sum E, refusing any resulting p_i > 1."""
    E = check.finite_float("E", E, low=0.0, low_open=True)
    p = weights / weights.sum() * E
    if p.max().item() > 1.0 + 1e-6:
        raise ValueError(
            f"E={E} is too large for the {name} law with these settings: it would make "
            f"p_1 = {p.max().item():.3g} > 1 (a probability). Use a smaller E or a flatter law.")
    return p.clamp_(max=1.0)


def power_law(n: int, alpha: float, E: float = 1.0) -> torch.Tensor:
    """Frequencies p_i proportional to i^(-alpha), i = 1..n, summing to E."""
    n = check.positive_int("n", n)
    alpha = check.finite_float("alpha", alpha, low=0.0)
    i = torch.arange(1, n + 1, dtype=torch.float64)
    return _normalise(i.pow(-alpha), E, "power").float()


def exponential(n: int, scale: float, E: float = 1.0) -> torch.Tensor:
    """Frequencies p_i proportional to exp(-i / scale), i = 0..n-1, summing to E."""
    n = check.positive_int("n", n)
    scale = check.finite_float("scale", scale, low=0.0, low_open=True)
    i = torch.arange(n, dtype=torch.float64)
    return _normalise(torch.exp(-i / scale), E, "exponential").float()


def linear(n: int, E: float = 1.0) -> torch.Tensor:
    """Frequencies p_i proportional to (n - i) / n, i = 0..n-1, summing to E."""
    n = check.positive_int("n", n)
    i = torch.arange(n, dtype=torch.float64)
    return _normalise((n - i) / n, E, "linear").float()


def raise_density(p: torch.Tensor, s: float) -> torch.Tensor:
    """The paper's E sweep: scale p (summing to 1) by 1 + s (1/p_1 - 1), s in [0, 1].

    s = 0 leaves p unchanged (E = 1); s = 1 makes the most frequent feature
    always active (p_1 = 1) and E = 1 / p_1.
    """
    p = check.probabilities("p", p)
    s = check.finite_float("s", s, low=0.0, high=1.0)
    if abs(p.sum().item() - 1.0) > 1e-4:
        raise ValueError(f"p must sum to 1 before its density is raised, got sum {p.sum().item():.4g}")
    top = p.max().item()
    if top <= 0:
        raise ValueError("p must have at least one positive entry")
    return (p * (1.0 + s * (1.0 / top - 1.0))).clamp_(max=1.0)


def sample_dense(p: torch.Tensor, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A (batch, n) data matrix drawn the paper's way: two dense uniform draws per entry."""
    p = check.probabilities("p", p)
    batch = check.positive_int("batch", batch)
    n = p.shape[-1]
    opts = dict(generator=generator, device=p.device)
    active = torch.rand(batch, n, **opts) < p
    return active.float() * torch.rand(batch, n, **opts) * 2.0


@dataclass
class SparseBatch:
    """The active entries of a (batch, n) data matrix: x[rows[k], cols[k]] = values[k]."""

    rows: torch.Tensor
    cols: torch.Tensor
    values: torch.Tensor
    batch: int
    n: int

    def to_dense(self) -> torch.Tensor:
        """The full (batch, n) matrix."""
        x = torch.zeros(self.batch, self.n, device=self.values.device)
        x[self.rows, self.cols] = self.values
        return x


def sample_sparse(p: torch.Tensor, batch: int, generator: torch.Generator | None = None) -> SparseBatch:
    """Draw the same distribution as `sample_dense`, generating only the active entries.

    For each feature i the positions of its active rows form a Bernoulli(p_i)
    process along the batch, so the gaps between them are Geometric(p_i): we
    draw gaps, accumulate them, and keep positions inside the batch. Cost is
    proportional to batch * E instead of batch * n.
    """
    p = check.probabilities("p", p)
    batch = check.positive_int("batch", batch)
    if p.dim() != 1:
        raise ValueError(f"p must be a vector of n probabilities, got shape {tuple(p.shape)}")
    device = p.device
    feats = torch.nonzero(p > 0).squeeze(1)
    q = p[feats].double()
    # enough gaps per feature to cover the batch with overwhelming probability
    mean = batch * q
    need = (mean + 8.0 * torch.sqrt(mean * (1 - q)) + 8.0).ceil().long().clamp_(max=batch)
    rows, cols = _geometric_positions(q, feats, need, batch, generator)
    short = _features_needing_more(rows, cols, feats, need, batch)
    if short.numel():  # rare: redraw, with `batch` gaps each, the features whose gaps fell short
        keep = ~torch.isin(cols, feats[short])
        full = torch.full_like(need[short], batch)
        r2, c2 = _geometric_positions(q[short], feats[short], full, batch, generator)
        rows, cols = torch.cat([rows[keep], r2]), torch.cat([cols[keep], c2])
    values = torch.rand(rows.numel(), generator=generator, device=device) * 2.0
    return SparseBatch(rows=rows, cols=cols, values=values, batch=batch, n=p.numel())


def _geometric_positions(q, feats, need, batch, generator):
    """Positions (< batch) of successes of Bernoulli(q_j) processes, `need[j]` gaps each."""
    device = q.device
    seg = torch.repeat_interleave(torch.arange(q.numel(), device=device), need)
    u = torch.rand(seg.numel(), generator=generator, device=device, dtype=torch.float64)
    qs = q[seg]
    log_fail = torch.log1p(-qs)
    # Geometric(q) on {1, 2, ...} by inversion; q = 1 gives gaps of exactly 1
    gaps = torch.where(qs >= 1.0, torch.ones_like(u), torch.floor(torch.log1p(-u) / log_fail) + 1.0)
    gaps.clamp_(max=batch + 1.0)  # a gap past the end ends the feature: keeps sums exact
    csum = torch.cumsum(gaps, 0)
    starts = torch.cumsum(need, 0) - need
    offset = torch.repeat_interleave(csum[starts] - gaps[starts], need)
    pos = csum - offset - 1.0
    inside = pos < batch
    return pos[inside].long(), feats[seg[inside]]


def _features_needing_more(rows, cols, feats, need, batch):
    """Indices (into feats) whose drawn gaps all landed inside the batch (so more may be due)."""
    counts = torch.zeros(int(feats.max().item()) + 1 if feats.numel() else 1, dtype=torch.long, device=rows.device)
    counts.index_add_(0, cols, torch.ones_like(cols))
    return torch.nonzero((counts[feats] >= need) & (need < batch)).squeeze(1)
