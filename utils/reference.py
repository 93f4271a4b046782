"""The paper-style training loop, kept deliberately plain and independent of utils.train.

One model at a time, dense data, autograd, and an AdamW with signed decay
written out step by step from the algorithm in the paper's code
(liuyz0/SuperpositionScaling, exp/adamw.py and exp/exp-10.py). It is the
yardstick: the tests check the fast trainer against it, and `python -m utils
bench` measures the speed-up over it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .data import sample_dense, sample_sparse


class _PaperModel(nn.Module):
    def __init__(self, n: int, m: int, generator: torch.Generator):
        super().__init__()
        self.W = nn.Parameter(torch.randn(n, m, generator=generator) / math.sqrt(m))
        self.b = nn.Parameter(torch.randn(n, generator=generator))

    def forward(self, x):
        return torch.relu(x @ self.W @ self.W.T + self.b)


def _lr(step: int, steps: int, peak: float, warmup: int, final_fraction: float) -> float:
    s, low = step + 1, final_fraction * peak
    if warmup < steps:
        if s < warmup:
            return peak * s / warmup
        return (peak - low) * 0.5 * (1 + math.cos(math.pi * (s - warmup) / (steps - warmup))) + low
    return (peak - low) * 0.5 * (1 + math.cos(math.pi * s / steps)) + low


class _PaperAdamW:
    """AdamW with signed weight decay on W, none on b, state kept per parameter."""

    def __init__(self, W, b, gamma, betas=(0.9, 0.999), eps=1e-8):
        self.groups = [(W, gamma), (b, 0.0)]
        self.betas, self.eps, self.t = betas, eps, 0
        self.m1 = {id(p): torch.zeros_like(p) for p in (W, b)}
        self.m2 = {id(p): torch.zeros_like(p) for p in (W, b)}

    @torch.no_grad()
    def step(self, lr):
        self.t += 1
        b1, b2 = self.betas
        for p, wd in self.groups:
            if wd >= 0:
                p.mul_(1 - wd * lr)
            else:
                norms = p.norm(dim=1, keepdim=True) + self.eps
                p.add_(wd * p * (1 - 1 / norms), alpha=lr)
        for p, _ in self.groups:
            g, m1, m2 = p.grad, self.m1[id(p)], self.m2[id(p)]
            m1.mul_(b1).add_(g, alpha=1 - b1)
            m2.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (m2.sqrt() / math.sqrt(1 - b2 ** self.t)).add_(self.eps)
            p.addcdiv_(m1, denom, value=-lr / (1 - b1 ** self.t))


class PaperStyleTrainer:
    """One model trained the paper's way, one step at a time."""

    def __init__(self, p: torch.Tensor, gamma: float, n: int, m: int, steps: int, batch: int, seed: int,
                 lr: float = 1e-2, warmup: int = 2000, final_fraction: float = 0.05, data: str = "dense"):
        if data not in ("dense", "sparse"):
            raise ValueError(f"data must be 'dense' or 'sparse', got {data!r}")
        self.p, self.steps, self.batch, self.data = p, steps, batch, data
        self.schedule = (lr, warmup, final_fraction)
        self.gen = torch.Generator().manual_seed(seed)
        self.model = _PaperModel(n, m, self.gen)
        self.opt = _PaperAdamW(self.model.W, self.model.b, gamma)
        self.loss_fn = nn.MSELoss()

    def step(self, step: int) -> float:
        """Draw a batch, back-propagate the MSE loss, take one optimiser step; return the loss."""
        if self.data == "dense":
            x = sample_dense(self.p, self.batch, self.gen)
        else:
            x = sample_sparse(self.p, self.batch, self.gen).to_dense()
        self.model.W.grad = self.model.b.grad = None
        loss = self.loss_fn(self.model(x), x)
        loss.backward()
        self.opt.step(_lr(step, self.steps, *self.schedule))
        return loss.item()


def train_reference(p: torch.Tensor, gamma: float, n: int, m: int, steps: int, batch: int,
                    seed: int, lr: float = 1e-2, warmup: int = 2000, final_fraction: float = 0.05,
                    data: str = "dense"):
    """Train one model the paper's way; returns (W, b, losses).

    data="dense" draws batches as the paper does; data="sparse" draws them with
    utils.data.sample_sparse from the same generator stream as utils.train, so
    the two trainers see identical data and can be compared number for number.
    """
    t = PaperStyleTrainer(p, gamma, n, m, steps, batch, seed, lr, warmup, final_fraction, data)
    losses = torch.tensor([t.step(s) for s in range(steps)])
    return t.model.W.detach(), t.model.b.detach(), losses
