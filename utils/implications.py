"""Chapter 8, what superposition implies: widths up to and beyond n, finite data, packing, reading a model.

`train_widths` trains K toy models of *different* widths in one stack (any m >= 1,
also m >= n) on fresh data or on a finite pool of samples that is re-used. It
is a thin caller of `utils.train.train` (widths= pads the stack with zero
columns, which get no update; data= supplies the pools), so for m < n and
fresh data a model is the one `train` gives with the same seed.

The other functions are the small calculations of the chapter: local
exponents along a curve, the loss a finite pool cannot teach, where weak
superposition overtakes strong, how many features load on one direction, a
small sparse dictionary, and the exponents of the later "scaling laws
trilogy" argument (width, depth and training time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from . import _validate as check
from .geometry import single_thread
from .data import U_SQUARE_MEAN, SparseBatch, sample_dense, sample_sparse_many
from .models import forward


@dataclass
class WidthsResult:
    """Trained models of several widths: W[k] is (n, widths[k]), b is (K, n), losses (K, steps // log_every)."""

    W: list
    b: torch.Tensor
    widths: list
    gammas: list
    pools: list
    seeds: list
    losses: torch.Tensor

    def __len__(self) -> int:
        return len(self.W)


def _per_model(name: str, value, K: int) -> list:
    """A setting given once or once per model, as a list of K values."""
    if isinstance(value, (list, tuple)):
        if len(value) != K:
            raise ValueError(f"{name} must give one value per model ({K}), got {len(value)}")
        return list(value)
    return [value] * K


def train_widths(p: torch.Tensor, widths: Sequence[int], gamma: float | Sequence[float] = -1.0,
                 pool: int | None | Sequence[int | None] = None, steps: int = 2000, batch: int = 512,
                 lr: float = 1e-2, warmup: int | None = None, final_lr_fraction: float = 0.05,
                 seeds: Sequence[int] | None = None, seed: int = 0, log_every: int = 10) -> WidthsResult:
    """Train one toy model per entry of `widths` (any m >= 1), all at once, with the paper's optimiser.

    gamma and pool may be one value for all or one per model. pool=None draws a fresh batch
    every step; pool=D draws D samples once (from the model's own generator, after its
    initialisation) and every step picks `batch` of them at random, with replacement.
    warmup defaults to a tenth of the steps, as in the paper (2,000 of 20,000).
    The training is `utils.train.train`'s, with a stack as wide as the widest model.
    """
    from .train import TrainConfig, train

    p = check.probabilities("p", p)
    if p.dim() != 1:
        raise ValueError(f"p must be a vector of n probabilities, got shape {tuple(p.shape)}")
    widths = [check.positive_int("width", m) for m in widths]
    K = len(widths)
    if K == 0:
        raise ValueError("widths must hold at least one width")
    gammas = [check.finite_float("gamma", g) for g in _per_model("gamma", gamma, K)]
    pools = [None if d is None else check.positive_int("pool", d) for d in _per_model("pool", pool, K)]
    steps = check.positive_int("steps", steps)
    warmup = steps // 10 if warmup is None else warmup
    seeds = [seed + k for k in range(K)] if seeds is None else [int(s) for s in seeds]
    cfg = TrainConfig(n=p.numel(), m=max(widths), steps=steps, batch=batch, lr=lr, warmup=warmup,
                      final_lr_fraction=final_lr_fraction, log_every=log_every, progress=False, wide=True)
    data = None if all(d is None for d in pools) else _PoolData(p, pools, cfg.batch)
    res = train(p, gammas, cfg, seeds=seeds, widths=widths, data=data)
    return WidthsResult(W=[res.W[k, :, :m].clone() for k, m in enumerate(widths)], b=res.b, widths=widths,
                        gammas=gammas, pools=pools, seeds=seeds, losses=res.losses)


class _PoolData:
    """Batches for `train`: model k draws fresh ones, or (pools[k] = D) picks rows of D samples it drew once.

    A model's pool is drawn at its first batch, from its own generator, so after its initialisation.
    """

    def __init__(self, p: torch.Tensor, pools: list, batch: int):
        self.p, self.pools, self.batch, self.drawn = p, pools, batch, {}

    def __call__(self, step: int, models: range, gens: list) -> list:
        fresh = [j for j, k in enumerate(models) if self.pools[k] is None]
        new = dict(zip(fresh, sample_sparse_many(self.p.expand(len(fresh), self.p.numel()), self.batch,
                                                 [gens[j] for j in fresh]))) if fresh else {}
        return [new[j] if j in new else self._from_pool(k, gens[j]) for j, k in enumerate(models)]

    def _from_pool(self, k: int, gen: torch.Generator) -> SparseBatch:
        if k not in self.drawn:
            self.drawn[k] = sample_sparse_many(self.p.unsqueeze(0), self.pools[k], [gen])[0].to_dense()
        pool = self.drawn[k]
        X = pool[torch.randint(pool.shape[0], (self.batch,), generator=gen)]
        cols, rows = torch.nonzero(X.T, as_tuple=True)  # sorted by feature, then row, as the trainer expects
        return SparseBatch(rows=rows, cols=cols, values=X[rows, cols], batch=self.batch, n=X.shape[1])


@torch.no_grad()
def fresh_losses(result: WidthsResult, p: torch.Tensor, batch: int = 20_000, seed: int = 1,
                noise: float = 0.0) -> list[float]:
    """Each model's loss on one fresh batch (the same batch for all), optionally with noisy targets.

    With noise = sigma the target is x + sigma * N(0, 1) per entry: an irreducible part sigma^2
    that no width can remove.
    """
    p = check.probabilities("p", p)
    noise = check.finite_float("noise", noise, low=0.0)
    g = torch.Generator().manual_seed(seed)
    x = sample_dense(p, batch, g)
    target = x + noise * torch.randn(x.shape, generator=g) if noise > 0 else x
    return [((forward(W, b, x) - target) ** 2).mean().item() for W, b in zip(result.W, result.b)]


def local_exponents(widths: Sequence[float], losses: Sequence[float]) -> list[float]:
    """The exponent between each pair of neighbouring widths: -(log L2 - log L1) / (log m2 - log m1)."""
    if len(widths) != len(losses) or len(widths) < 2:
        raise ValueError("widths and losses must have the same length, at least 2")
    for name, v in (("widths", widths), ("losses", losses)):
        if any(not math.isfinite(x) or x <= 0 for x in v):
            raise ValueError(f"{name} must be finite and positive")
    pairs = list(zip(zip(widths, losses), zip(widths[1:], losses[1:])))
    if any(m2 == m1 for (m1, _), (m2, _) in pairs):
        raise ValueError("neighbouring widths must differ")
    return [-(math.log(L2) - math.log(L1)) / (math.log(m2) - math.log(m1)) for (m1, L1), (m2, L2) in pairs]


# ---- data-limited training

def unseen_loss(p: torch.Tensor, pool: int) -> float:
    """Expected loss of the features absent from a pool of `pool` samples, if the model answers 0 for them.

    Feature i is missing from the pool with probability (1 - p_i)^pool; answering 0 for it costs
    p_i E[u^2] / n (the course's loss units).
    """
    p = check.probabilities("p", p).double()
    pool = check.positive_int("pool", pool)
    return float((p * (1 - p) ** pool).sum() * U_SQUARE_MEAN / p.numel())


def seen_share(p: torch.Tensor, pool: int) -> float:
    """Expected share of the n features that appear at least once in a pool of `pool` samples."""
    p = check.probabilities("p", p).double()
    pool = check.positive_int("pool", pool)
    return float((1 - (1 - p) ** pool).mean())


# ---- packing at a small width (the ideal weak model is metrics.suitcase_loss, chapter 4)

def crossover(xs: Sequence[float], weak: Sequence[float], strong: Sequence[float]) -> float:
    """The first x at which weak drops below strong, interpolated on log(loss); NaN if it never does."""
    xs = check.numbers("xs", xs)
    weak, strong = check.numbers("weak", weak, low=0.0, low_open=True), check.numbers("strong", strong, low=0.0,
                                                                                        low_open=True)
    check.same_length(2, xs=xs, weak=weak, strong=strong)
    d = [math.log(w) - math.log(s) for w, s in zip(weak, strong)]
    if d[0] < 0:
        return float(xs[0])
    for (x0, d0), (x1, d1) in zip(zip(xs, d), zip(xs[1:], d[1:])):
        if d1 < 0 <= d0:
            return float(x0 + (x1 - x0) * d0 / (d0 - d1))
    return float("nan")


# ---- reading a model

def participation_ratio(v, dim: int = -1) -> torch.Tensor:
    """Effective number of entries carrying v: (sum v_i^2)^2 / sum v_i^4 (1 for one entry, k for k equal ones)."""
    v = torch.as_tensor(v, dtype=torch.float64)
    if v.numel() == 0 or not torch.isfinite(v).all():
        raise ValueError("v must be a non-empty array of finite numbers")
    s2 = (v ** 2).sum(dim)
    s4 = (v ** 4).sum(dim)
    if (s4 == 0).any():
        raise ValueError("v must not be all zeros along `dim`")
    return (s2 ** 2 / s4).float()


def unit_polysemanticity(W) -> torch.Tensor:
    """For every hidden coordinate k of W (n, m): how many features load on it (participation ratio of column k)."""
    W = check.tensor("W", W, 2)
    return participation_ratio(W, dim=0)


def cosines_to(W, j: int) -> torch.Tensor:
    """Cosine between every feature's direction W_i and feature j's direction W_j (rows of norm 0 give 0)."""
    W = check.tensor("W", W, 2).float()
    if not 0 <= j < W.shape[0]:
        raise ValueError(f"j must be a feature index in [0, {W.shape[0]}), got {j}")
    norms = torch.linalg.vector_norm(W, dim=1).clamp_min(1e-12)
    return (W @ W[j]) / (norms * norms[j])


@dataclass
class Dictionary:
    """A sparse dictionary of the hidden space: atoms (k, m) of unit norm, encoder (k, m) and bias (k)."""

    atoms: torch.Tensor
    encoder: torch.Tensor
    bias: torch.Tensor
    losses: list

    def codes(self, h: torch.Tensor) -> torch.Tensor:
        """Sparse codes ReLU(h E^T + c) of hidden vectors h (batch, m)."""
        return torch.relu(h @ self.encoder.T + self.bias)


def sparse_dictionary(h: torch.Tensor, atoms: int, l1: float = 1.0, steps: int = 1500, lr: float = 1e-2,
                      batch: int = 512, seed: int = 0) -> Dictionary:
    """Fit a sparse autoencoder to hidden vectors h (N, m): codes f = ReLU(E h + c), h ~ f D, L1 penalty on f.

    The atoms (rows of D) are kept at unit norm, so the penalty cannot be dodged by shrinking
    codes and growing atoms. Returns the learned dictionary; its atoms are candidate feature
    directions.
    """
    h = check.tensor("h", h, 2).float()
    atoms = check.positive_int("atoms", atoms)
    l1 = check.finite_float("l1", l1, low=0.0)
    steps = check.positive_int("steps", steps)
    batch = check.positive_int("batch", batch)
    g = torch.Generator().manual_seed(seed)
    m = h.shape[1]
    # start the atoms at random data points (normalised): a standard warm start
    start = h[torch.randint(h.shape[0], (atoms,), generator=g)] + 1e-3 * torch.randn(atoms, m, generator=g)
    D = (start / torch.linalg.vector_norm(start, dim=1, keepdim=True).clamp_min(1e-8)).requires_grad_(True)
    E = D.detach().clone().requires_grad_(True)
    c = torch.zeros(atoms, requires_grad=True)
    opt = torch.optim.Adam([D, E, c], lr=lr)
    losses = []
    with single_thread():
        for step in range(steps):
            x = h[torch.randint(h.shape[0], (min(batch, h.shape[0]),), generator=g)]
            Dn = D / torch.linalg.vector_norm(D, dim=1, keepdim=True)
            f = torch.relu(x @ E.T + c)
            loss = ((f @ Dn - x) ** 2).sum(1).mean() + l1 * f.sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if (step + 1) % 50 == 0:
                losses.append(loss.item())
    with torch.no_grad():
        Dn = D / torch.linalg.vector_norm(D, dim=1, keepdim=True)
    return Dictionary(atoms=Dn.detach(), encoder=E.detach(), bias=c.detach(), losses=losses)


def best_match(W, atoms) -> torch.Tensor:
    """For every feature i, the largest cosine between its direction W_i and any atom."""
    W = check.tensor("W", W, 2).float()
    A = check.tensor("atoms", atoms, 2).float()
    if A.shape[1] != W.shape[1]:
        raise ValueError(f"atoms must live in the same m = {W.shape[1]} dimensions as W, got {tuple(A.shape)}")
    U = W / torch.linalg.vector_norm(W, dim=1, keepdim=True).clamp_min(1e-12)
    V = A / torch.linalg.vector_norm(A, dim=1, keepdim=True).clamp_min(1e-12)
    return (U @ V.T).max(dim=1).values


# ---- beyond the paper: width, depth and training time (later work by the same author)

def shape_exponents(width: float = 1.0, depth: float = 1.0) -> dict:
    """Loss A m^-width + B l^-depth at N ~ m^2 l parameters, best shape: m ~ N^a, l ~ N^b, loss ~ N^-c.

    Minimising over m at fixed N (l = N / m^2) balances the two terms:
    m ~ N^(depth / (width + 2 depth)), loss ~ N^-(width depth / (width + 2 depth)).
    """
    a = check.finite_float("width", width, low=0.0, low_open=True)
    d = check.finite_float("depth", depth, low=0.0, low_open=True)
    m_exp = d / (a + 2 * d)
    return dict(m=m_exp, l=1 - 2 * m_exp, loss=a * d / (a + 2 * d))


def compute_exponents(width: float = 1.0, depth: float = 1.0, time: float = 1 / 3) -> dict:
    """With loss = model part ~ N^-c + training part ~ D^-time and compute C ~ 6 N D, the compute-optimal frontier.

    Balancing the two terms at fixed C gives N ~ C^(time / (c + time)), D ~ C^(c / (c + time)) and
    loss ~ C^-(c time / (c + time)). For width = depth = 1 and time = 1/3: N ~ D ~ C^(1/2), loss ~ C^(-1/6).
    """
    c = shape_exponents(width, depth)["loss"]
    t = check.finite_float("time", time, low=0.0, low_open=True)
    return dict(params=c, N=t / (c + t), D=c / (c + t), loss=c * t / (c + t))


def best_shape_loss(N: float, width: float = 1.0, depth: float = 1.0, A: float = 1.0, B: float = 1.0,
                    ratio: float = 12.0) -> tuple[float, float, float]:
    """The width m and depth l (N = ratio m^2 l) minimising A m^-width + B l^-depth, by search: (loss, m, l)."""
    N = check.finite_float("N", N, low=0.0, low_open=True)
    ms = torch.logspace(-1, math.log10(N), 4000, dtype=torch.float64)
    ls = N / (ratio * ms ** 2)
    L = A * ms ** (-width) + B * ls ** (-depth)
    k = int(torch.argmin(L))
    return float(L[k]), float(ms[k]), float(ls[k])
