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
    p = _frequencies(p)
    batch = check.positive_int("batch", batch)
    n = p.shape[-1]
    opts = dict(generator=generator, device=p.device)
    active = torch.rand(batch, n, **opts) < p
    return active.float() * torch.rand(batch, n, **opts) * 2.0


@dataclass
class SparseBatch:
    """The active entries of a (batch, n) data matrix: x[rows[k], cols[k]] = values[k].

    Entries are sorted by feature (cols), then by sample (rows): the trainer relies on it.
    """

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
    return sample_sparse_many(_frequencies(p).unsqueeze(0), batch, [generator])[0]


def _frequencies(p) -> torch.Tensor:
    """One model's feature frequencies: a vector of n probabilities (a stack goes to sample_sparse_many)."""
    p = check.probabilities("p", p)
    if p.dim() != 1:
        raise ValueError(f"p must be a vector of n probabilities (one model), got shape {tuple(p.shape)}; "
                         "for K models at once use sample_sparse_many")
    return p


def sample_sparse_many(p: torch.Tensor, batch: int, generators: list) -> list[SparseBatch]:
    """One sparse batch for each row of p (K, n), row k drawn from generators[k].

    The K draws are vectorised, but each model consumes its own generator in
    the same order as `sample_sparse` would alone (gaps, rare continuations, values),
    so a model's batches do not depend on which other models share the stack.
    """
    p = check.probabilities("p", p)
    batch = check.positive_int("batch", batch)
    if p.dim() != 2 or len(generators) != p.shape[0]:
        raise ValueError(f"p must have shape (K, n) with one generator per row, got {tuple(p.shape)} "
                         f"and {len(generators)} generators")
    K, n = p.shape
    model, feats = torch.nonzero(p > 0, as_tuple=True)  # segments, sorted by model then feature
    q = p[model, feats].double()
    need = _gap_budget(q, batch)
    per_model = torch.zeros(K, dtype=torch.long, device=p.device).index_add_(0, model, need).tolist()
    u = torch.cat([_uniform(t, g, p.device) for t, g in zip(per_model, generators)])
    pos, seg = _geometric_positions(q, need, batch, u)
    counts = torch.bincount(seg, minlength=q.numel())
    short = (counts >= need) & (need < batch)  # all gaps landed inside: more may be due (rare)
    pieces = torch.bincount(model[seg], minlength=K).tolist()
    out = []
    for k, (pk, sk, g) in enumerate(zip(pos.split(pieces), seg.split(pieces), generators)):
        rows, cols = pk, feats[sk]
        redo = torch.nonzero(short & (model == k)).squeeze(1)
        if redo.numel():  # continue, with `batch` more gaps each, the features whose gaps fell short:
            # after a feature's last success the process starts afresh (it has no memory), so this is exact
            last = torch.full_like(need, -1).scatter_reduce_(0, sk, pk, "amax")[redo]
            full = torch.full_like(need[redo], batch)
            r2, s2 = _geometric_positions(q[redo], full, batch, _uniform(redo.numel() * batch, g, p.device))
            r2 = r2 + last[s2] + 1
            inside = r2 < batch
            rows, cols = torch.cat([rows, r2[inside]]), torch.cat([cols, feats[redo][s2[inside]]])
            order = torch.argsort(cols * batch + rows)  # back to the SparseBatch order
            rows, cols = rows[order], cols[order]
        values = torch.rand(rows.numel(), generator=g, device=p.device) * 2.0
        out.append(SparseBatch(rows=rows, cols=cols, values=values, batch=batch, n=n))
    return out


def _gap_budget(q: torch.Tensor, batch: int) -> torch.Tensor:
    """How many gaps to draw per feature: enough to cover the batch in all but about 1 batch in 2,000.

    When they do not, the features concerned are continued, so the draw stays exact either way.
    """
    mean = batch * q
    return (mean + 5.0 * torch.sqrt(mean * (1 - q)) + 3.0).ceil().long().clamp_(max=batch)


def _uniform(count: int, generator, device) -> torch.Tensor:
    return torch.rand(count, generator=generator, device=device, dtype=torch.float64)


def _geometric_positions(q, need, batch, u):
    """Positions (< batch) of successes of Bernoulli(q_j) processes, from need[j] uniforms each.

    Returns the positions and, for each, the index j of its process.
    """
    seg = torch.repeat_interleave(torch.arange(q.numel(), device=q.device), need)
    # Geometric(q) on {1, 2, ...} by inversion; q = 1 gives log(1 - q) = -inf and gaps of exactly 1
    gaps = torch.log1p(-u).div_(torch.log1p(-q)[seg]).floor_().add_(1.0)
    gaps.clamp_(max=batch + 1.0)  # a gap past the end ends the feature: keeps sums exact
    csum = torch.cumsum(gaps, 0)
    starts = torch.cumsum(need, 0) - need
    offset = torch.repeat_interleave(csum[starts] - gaps[starts], need)
    pos = csum - offset - 1.0
    inside = pos < batch
    return pos[inside].long(), seg[inside]
