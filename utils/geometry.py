"""Geometry of many unit vectors in few dimensions: overlaps, the Welch bound, packing.

- Random unit vectors in R^m are nearly orthogonal: their overlap u.v has mean 0
  and E[(u.v)^2] = 1/m exactly, so its spread narrows like 1/sqrt(m).
- No arrangement of n > m unit vectors does much better: the Welch bound
  (n - m) / (m (n - 1)) bounds both the largest and the mean squared overlap
  from below; tight frames reach it for the mean.
- `pack` finds a tight frame by gradient descent on the mean square overlap.
- `overlap_ratio` = m times the mean square overlap of any matrix's rows: 1 for
  random vectors, the Welch value times m for the best packing.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from . import _validate as check


def _matrix(name: str, V) -> torch.Tensor:
    """V as a float64 tensor with two dimensions, no NaN, at least 2 rows and no zero row."""
    if isinstance(V, np.ndarray):
        V = torch.from_numpy(np.asarray(V, dtype=np.float64))
    V = check.tensor(name, V, dim=2).double()
    if V.shape[0] < 2 or V.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 rows (vectors) and 1 column, got shape {tuple(V.shape)}")
    if (torch.linalg.vector_norm(V, dim=1) == 0).any():
        raise ValueError(f"{name} has a zero row: the overlap of a zero vector is undefined")
    return V


@contextmanager
def single_thread():
    """Run a loop of many small tensor operations on one thread, then restore the setting.

    For matrices this small, handing work to a second thread costs more than it
    saves, and on a busy machine it can make a loop ten times slower.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def normalise_rows(V) -> torch.Tensor:
    """The rows of V scaled to unit length (float64)."""
    V = _matrix("V", V)
    return V / torch.linalg.vector_norm(V, dim=1, keepdim=True)


def random_unit_vectors(n: int, m: int, generator: torch.Generator | None = None,
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """n independent unit vectors, uniform on the sphere of R^m: an (n, m) tensor."""
    n, m = check.positive_int("n", n), check.positive_int("m", m)
    g = torch.randn(n, m, generator=generator, dtype=dtype)
    return g / torch.linalg.vector_norm(g, dim=1, keepdim=True)


def pair_overlaps(m: int, pairs: int, generator: torch.Generator | None = None,
                  dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """u.v for `pairs` independent pairs of random unit vectors in R^m."""
    pairs = check.positive_int("pairs", pairs)
    u = random_unit_vectors(2 * pairs, m, generator, dtype)
    return (u[:pairs] * u[pairs:]).sum(dim=1)


def overlaps(V) -> torch.Tensor:
    """The cosines of all pairs i < j of rows of V, as a flat tensor of n (n - 1) / 2 values."""
    U = normalise_rows(V)
    i, j = torch.triu_indices(len(U), len(U), offset=1)
    return (U @ U.T)[i, j]


def mean_square_overlap(V) -> float:
    """Mean over pairs i != j of the squared cosine of rows i and j (exact, without the n x n matrix)."""
    return float(_pair_cost(normalise_rows(V), 2))


def effective_dimension(V) -> float:
    """Participation ratio of the singular values of V (rows x m), (sum s^2)^2 / sum s^4: how many
    directions the rows fill, m for rows spread evenly over all directions, 1 for rows along one."""
    V = check.tensor("V", torch.as_tensor(V, dtype=torch.float64), dim=2)
    if V.numel() == 0 or not V.any():
        raise ValueError(f"V must have at least one non-zero row (a zero matrix fills no direction), "
                         f"got shape {tuple(V.shape)}{' of zeros' if V.numel() else ''}")
    s2 = torch.linalg.eigvalsh(V.T @ V)  # the squared singular values, from the small m x m Gram matrix
    return float(s2.sum() ** 2 / (s2 ** 2).sum())


def max_overlap(V) -> float:
    """The largest |cosine| between two different rows of V."""
    return float(overlaps(V).abs().max())


def overlap_ratio(V) -> float:
    """m times the mean square overlap of V's rows: 1 for random unit vectors, m times Welch at best."""
    V = _matrix("V", V)
    return V.shape[1] * mean_square_overlap(V)


def random_square_cosine_variance(m: int) -> float:
    """Variance of (u.v)^2 for independent random unit vectors in R^m: 2 (m - 1) / (m^2 (m + 2)).

    (u.v)^2 follows a Beta(1/2, (m - 1)/2) law, whose mean is 1/m; the paper's Fig. 5c sets a trained
    model's variance of squared cosines beside this one.
    """
    m = check.positive_int("m", m)
    return 2 * (m - 1) / (m ** 2 * (m + 2))


def welch_bound(n: int, m: int) -> float:
    """(n - m) / (m (n - 1)): the least possible mean (and max) squared overlap of n unit vectors in R^m."""
    n, m = check.positive_int("n", n), check.positive_int("m", m)
    if n < 2:
        raise ValueError(f"n must be at least 2 (an overlap needs two vectors), got n={n}")
    return max(n - m, 0) / (m * (n - 1))


def random_tail(m: int, eps: float, pairs: int = 100_000, generator: torch.Generator | None = None) -> float:
    """Share of random pairs in R^m with |u.v| >= eps (concentration: falls like exp(-m eps^2 / 2))."""
    eps = check.finite_float("eps", eps, low=0.0, high=1.0, low_open=True)
    overlap = pair_overlaps(m, pairs, generator, torch.float64)  # float64: no pair flips across platforms
    return float((overlap.abs() >= eps).double().mean())


def greedy_nearly_orthogonal(m: int, eps: float, candidates: int = 20_000,
                             generator: torch.Generator | None = None, chunk: int = 256) -> int:
    """How many random unit vectors in R^m can be kept with every pairwise |overlap| < eps.

    Draws `candidates` random directions and keeps each one that is nearly
    orthogonal to all those kept before it (a greedy Johnson-Lindenstrauss count).
    """
    m = check.positive_int("m", m)
    eps = check.finite_float("eps", eps, low=0.0, high=1.0, low_open=True)
    candidates = check.positive_int("candidates", candidates)
    kept = torch.empty(0, m, dtype=torch.float64)  # float64: no borderline decision flips across platforms
    with single_thread():
        for start in range(0, candidates, chunk):
            batch = random_unit_vectors(min(chunk, candidates - start), m, generator, torch.float64)
            if len(kept):
                batch = batch[(batch @ kept.T).abs().amax(dim=1) < eps]
            close = ((batch @ batch.T).abs() >= eps).numpy()  # the survivors must also avoid each other
            chosen: list[int] = []
            for i in range(len(batch)):
                if not close[i, chosen].any():
                    chosen.append(i)
            kept = torch.cat([kept, batch[chosen]])
    return len(kept)


@dataclass(frozen=True)
class Packing:
    """Result of `pack`: unit rows U (n, m) and the mean square overlap logged during descent."""

    U: torch.Tensor
    history: list[float]
    log_every: int

    @property
    def mean_square_overlap(self) -> float:
        """Mean square overlap of the final arrangement."""
        return mean_square_overlap(self.U)

    @property
    def max_overlap(self) -> float:
        """Largest |overlap| of the final arrangement."""
        return max_overlap(self.U)


def _pair_cost(U: torch.Tensor, power: int) -> torch.Tensor:
    """Mean over pairs i != j of |U_i.U_j|^power for unit rows U.

    For power 2 the sum over all i, j of (U_i.U_j)^2 is the squared Frobenius
    norm of the small m x m frame matrix U^T U, so the n x n matrix is never formed.
    """
    n = len(U)
    if power == 2:
        frame = U.T @ U
        return ((frame * frame).sum() - n) / (n * (n - 1))
    C = (U @ U.T).abs() ** power
    return (C.sum() - n) / (n * (n - 1))


def pack(n: int, m: int, steps: int = 400, lr: float = 0.02, power: int = 2,
         generator: torch.Generator | None = None, log_every: int = 10) -> Packing:
    """Spread n unit vectors in R^m by gradient descent (Adam) on the mean |overlap|^power.

    power = 2 minimises the mean square overlap (its minimum is the Welch bound,
    reached by tight frames); a larger even power also pushes the largest overlaps down.
    The history logs the mean square overlap whatever the power.
    """
    n, m = check.positive_int("n", n), check.positive_int("m", m)
    steps, log_every = check.positive_int("steps", steps), check.positive_int("log_every", log_every)
    lr = check.finite_float("lr", lr, low=0.0, low_open=True)
    power = check.positive_int("power", power)
    if n < 2:
        raise ValueError(f"n must be at least 2 to have overlaps, got n={n}")
    if power < 2 or power % 2:
        raise ValueError(f"power must be an even integer >= 2, got {power}")
    V = random_unit_vectors(n, m, generator).double().requires_grad_(True)
    opt = torch.optim.Adam([V], lr=lr)
    history = []
    with single_thread():
        for step in range(steps + 1):
            U = V / torch.linalg.vector_norm(V, dim=1, keepdim=True)
            if step % log_every == 0 or step == steps:
                history.append(_pair_cost(U.detach(), 2).item())
            if step == steps:
                break
            opt.zero_grad()
            _pair_cost(U, power).backward()
            opt.step()
    return Packing(U.detach(), history, log_every)


def simplex(m: int) -> torch.Tensor:
    """The m + 1 vertices of a regular simplex centred at 0 in R^m, as unit rows: every overlap is -1/m."""
    m = check.positive_int("m", m)
    E = torch.eye(m + 1, dtype=torch.float64) - 1.0 / (m + 1)  # centred basis of R^(m+1), rank m
    q, _ = torch.linalg.qr(E[:, :m])  # orthonormal basis of the hyperplane they span
    X = E @ q
    return X / torch.linalg.vector_norm(X, dim=1, keepdim=True)


def unbiased_bases(m: int) -> torch.Tensor:
    """The standard basis of R^m and a rotated one (a scaled Hadamard matrix), as 2m unit rows; m a power of 2.

    Every overlap across the two bases is +-1/sqrt(m): a tight frame of n = 2m vectors.
    """
    m = check.positive_int("m", m)
    if m & (m - 1):
        raise ValueError(f"m must be a power of 2 (1, 2, 4, 8, ...), got {m}")
    H = torch.ones(1, 1, dtype=torch.float64)
    while len(H) < m:  # Sylvester's construction
        H = torch.cat([torch.cat([H, H], 1), torch.cat([H, -H], 1)])
    return torch.cat([torch.eye(m, dtype=torch.float64), H / math.sqrt(m)])


def gaussian_overlap_density(m: int, x) -> np.ndarray:
    """The normal density with variance 1/m: the large-m law of the overlap of two random unit vectors."""
    m = check.positive_int("m", m)
    x = np.asarray(x, dtype=float)
    return np.sqrt(m / (2 * math.pi)) * np.exp(-m * x ** 2 / 2)
