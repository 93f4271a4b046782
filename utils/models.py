"""The toy model y = ReLU(W W^T x + b): one model, or K models stacked."""

from __future__ import annotations

import math

import torch
from torch import nn

from . import _validate as check


def init_params(n: int, m: int, generator: torch.Generator | None = None,
                device: str | torch.device = "cpu", wide: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's initialisation: W ~ N(0, 1/m) entrywise (n x m), b ~ N(0, 1) (n).

    wide=True also allows m >= n (chapter 8's widths beyond the number of features).
    """
    m, n = check.width(m, n, wide)
    W = torch.randn(n, m, generator=generator, device=device) / math.sqrt(m)
    b = torch.randn(n, generator=generator, device=device)
    return W, b


def forward(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Output ReLU(x W W^T + b) for x of shape (batch, n); W may be (n, m) or stacked (K, n, m)."""
    if not isinstance(W, torch.Tensor) or W.dim() not in (2, 3):
        raise ValueError(f"W must be a tensor of shape (n, m) or (K, n, m), got {getattr(W, 'shape', W)!r}")
    W = check.tensor("W", W, W.dim())
    b = check.tensor("b", b, W.dim() - 1)
    x = check.tensor("x", x, 2)
    n = W.shape[-2]
    if x.shape[-1] != n:
        raise ValueError(f"x must have n={n} columns (one per feature), got shape {tuple(x.shape)}")
    if b.shape[-1] != n:
        raise ValueError(f"b must have n={n} entries, got shape {tuple(b.shape)}")
    h = x @ W
    return torch.relu(h @ W.transpose(-1, -2) + b.unsqueeze(-2))


class ToyModel(nn.Module):
    """One toy model as an nn.Module (for reading and for small experiments)."""

    def __init__(self, n: int, m: int, generator: torch.Generator | None = None):
        super().__init__()
        W, b = init_params(n, m, generator)
        self.W = nn.Parameter(W)
        self.b = nn.Parameter(b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ReLU(W W^T x + b) for a batch x of shape (batch, n)."""
        return forward(self.W, self.b, x)
