"""What a trained toy model looks like: row norms, represented fractions, overlaps, loss terms.

Definitions (the notation page of the book states them once):
- row norm ||W_i||: how strongly feature i is stored;
- phi_half: share of features with ||W_i|| > 1/2 (the represented ones);
- phi_one: share of features with ||W_i|| within `tol` of 1 (stored at full
  strength; the paper's code does not include this analysis, so the band
  1 +- 0.1 is this course's operational choice);
- mean square overlap: mean over pairs i != j of represented features of the
  squared cosine (W_i . W_j)^2 / (||W_i||^2 ||W_j||^2).
"""

from __future__ import annotations

import torch

from . import _validate as check
from . import geometry
from .data import U_SQUARE_MEAN, sample_dense
from .models import forward

REPRESENTED = 0.5


def _weights(W) -> torch.Tensor:
    W = W if isinstance(W, torch.Tensor) else torch.as_tensor(W, dtype=torch.float32)
    if W.dim() not in (2, 3):
        raise ValueError(f"W must have shape (n, m) or (K, n, m), got {tuple(W.shape)}")
    if not torch.isfinite(W).all():
        raise ValueError("W contains NaN or infinite values")
    return W.float()


def row_norms(W) -> torch.Tensor:
    """||W_i|| for every feature i: shape (n,) or (K, n)."""
    return torch.linalg.vector_norm(_weights(W), dim=-1)


def phi_half(W, threshold: float = REPRESENTED) -> torch.Tensor:
    """Share of features with row norm above `threshold` (1/2): the represented fraction."""
    threshold = check.finite_float("threshold", threshold, low=0.0)
    return (row_norms(W) > threshold).float().mean(-1)


def phi_one(W, tol: float = 0.1) -> torch.Tensor:
    """Share of features whose row norm lies within `tol` of 1 (stored at full strength)."""
    tol = check.finite_float("tol", tol, low=0.0, low_open=True)
    return ((row_norms(W) - 1).abs() <= tol).float().mean(-1)


def overlaps(W, threshold: float = REPRESENTED) -> torch.Tensor:
    """Cosines W_i . W_j / (||W_i|| ||W_j||) between represented rows of one W (n, m)."""
    W = _weights(W)
    if W.dim() != 2:
        raise ValueError(f"W must be one model's (n, m) matrix, got {tuple(W.shape)}")
    norms = torch.linalg.vector_norm(W, dim=1)
    keep = norms > threshold
    U = W[keep] / norms[keep].unsqueeze(1)
    return U @ U.T


def mean_square_overlap(W, threshold: float = REPRESENTED) -> float:
    """Mean over pairs i != j of represented rows of the squared cosine; NaN if fewer than 2 rows."""
    W = _weights(W)
    if W.dim() != 2:
        raise ValueError(f"W must be one model's (n, m) matrix, got {tuple(W.shape)}")
    rows = W[torch.linalg.vector_norm(W, dim=1) > check.finite_float("threshold", threshold, low=0.0)]
    return geometry.mean_square_overlap(rows) if len(rows) >= 2 else float("nan")


def unrepresented_loss(W, p, threshold: float = REPRESENTED) -> float:
    """Weak-regime prediction of the loss: (1/n) sum over rows with norm <= threshold of p_i E[u^2].

    In the units of torch's MSELoss (mean over features), like every loss in the course.
    """
    W = _weights(W)
    p = check.probabilities("p", p)
    if W.dim() != 2 or p.shape != (W.shape[0],):
        raise ValueError(f"W (n, m) and p (n,) must agree, got {tuple(W.shape)} and {tuple(p.shape)}")
    left_out = row_norms(W) <= threshold
    return (p[left_out].sum() * U_SQUARE_MEAN / W.shape[0]).item()


@torch.no_grad()
def sample_losses(W, b, p, batch: int = 20_000, generator: torch.Generator | None = None) -> torch.Tensor:
    """Loss of each sample of a fresh batch (not seen in training), shape (batch,) or (K, batch).

    In the units of torch's MSELoss: mean over the n features.
    """
    W = _weights(W)
    p = check.probabilities("p", p)
    if p.shape != (W.shape[-2],):
        raise ValueError(f"p must have one entry per feature (n={W.shape[-2]}), got shape {tuple(p.shape)}")
    x = sample_dense(p, batch, generator)
    y = forward(W, b, x)
    return ((y - x) ** 2).mean(dim=-1)


def test_loss(W, b, p, batch: int = 20_000, generator: torch.Generator | None = None) -> torch.Tensor:
    """Loss on a fresh batch of one model (n, m) or a stack (K, n, m): mean over batch and features."""
    return sample_losses(W, b, p, batch, generator).mean(dim=-1)
