"""AdamW with the paper's *signed* weight decay, and the paper's learning-rate schedule.

gamma >= 0: ordinary decoupled decay, W <- W (1 - lr gamma), pulling every row to 0.
gamma <  0: each row W_i moves toward unit norm,
            W_i <- W_i + lr gamma W_i (1 - 1/||W_i||),
            which shrinks rows longer than 1 and grows shorter ones.
The decay uses the weights before the Adam update of the same step, as in the
paper's code; the bias is never decayed.
"""

from __future__ import annotations

import math

import torch

from . import _validate as check

BETAS = (0.9, 0.999)
EPS = 1e-8


def paper_lr(step: int, steps: int, peak: float = 1e-2, warmup: int = 2000,
             final_fraction: float = 0.05) -> float:
    """Learning rate at 0-based `step`: linear warm-up, then cosine decay to final_fraction * peak."""
    steps = check.positive_int("steps", steps)
    if not 0 <= step < steps:
        raise ValueError(f"step must be in [0, steps={steps}), got {step}")
    warmup = check.integer("warmup", warmup, low=0, what=" (a number of steps; 0 for no warm-up)")
    if not 0 <= final_fraction <= 1:
        raise ValueError(f"final_fraction must be in [0, 1] (the final rate as a share of peak), got {final_fraction}")
    s = step + 1
    low = final_fraction * peak
    if warmup < steps:
        if s < warmup:
            return peak * s / warmup
        return low + (peak - low) * 0.5 * (1 + math.cos(math.pi * (s - warmup) / (steps - warmup)))
    return low + (peak - low) * 0.5 * (1 + math.cos(math.pi * s / steps))


def signed_weight_decay_(W: torch.Tensor, gamma: float | torch.Tensor, lr: float,
                         eps: float = EPS) -> torch.Tensor:
    """Apply the signed decay in place to W (n, m) or a stack (K, n, m) with one gamma per model."""
    g = torch.as_tensor(gamma, dtype=W.dtype, device=W.device)
    if W.dim() not in (2, 3):
        raise ValueError(f"W must be one model's (n, m) matrix or a stack (K, n, m), got shape {tuple(W.shape)}")
    if g.dim() > 0 and not (W.dim() == 3 and g.dim() == 1 and len(g) == len(W)):
        allowed = "one number" + (f" or one per model, shape ({len(W)},)" if W.dim() == 3 else " for one model")
        raise ValueError(f"gamma must be {allowed}; got shape {tuple(g.shape)} for W of shape {tuple(W.shape)}")
    if W.dim() == 3 and g.dim() == 1:
        g = g.view(-1, 1, 1)
    norms = torch.linalg.vector_norm(W, dim=-1, keepdim=True) + eps
    # one factor per row: (1 - lr g) for g >= 0, 1 + lr g (1 - 1/||W_i||) for g < 0
    factor = torch.where(g >= 0, 1 - lr * g, 1 + lr * g * (1 - 1 / norms))
    return W.mul_(factor)


class AdamState:
    """First and second moments of Adam for a list of tensors, updated in place."""

    def __init__(self, params: list[torch.Tensor], betas: tuple[float, float] = BETAS, eps: float = EPS):
        self.params = params
        self.betas, self.eps, self.step = betas, eps, 0
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def update_(self, grads: list[torch.Tensor], lr: float | torch.Tensor) -> None:
        """One bias-corrected Adam step on every parameter.

        lr is one number, or for stacked parameters (K, ...) a (K,) tensor: one
        learning rate per model (0 leaves that model's parameters as they are).
        """
        b1, b2 = self.betas
        self.step += 1
        bc1, bc2 = 1 - b1 ** self.step, 1 - b2 ** self.step
        for p, g, m1, m2 in zip(self.params, grads, self.exp_avg, self.exp_avg_sq):
            m1.mul_(b1).add_(g, alpha=1 - b1)
            m2.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (m2.sqrt() / math.sqrt(bc2)).add_(self.eps)
            if isinstance(lr, torch.Tensor):
                p.sub_(m1.div(denom).mul_(lr.view((-1,) + (1,) * (p.dim() - 1)) / bc1))
            else:
                p.addcdiv_(m1, denom, value=-lr / bc1)


class SignedAdamW(torch.optim.Optimizer):
    """AdamW whose weight_decay may be negative (the paper's optimiser) for nn.Module training."""

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.0,
                 betas: tuple[float, float] = BETAS, eps: float = EPS):
        check.finite_float("lr", lr, low=0.0)
        check.finite_float("weight_decay", weight_decay, low=-1e6)
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, betas=betas, eps=eps))
        self._adam = {}

    @torch.no_grad()
    def step(self, closure=None):
        """Decay (signed) then Adam, for every parameter group."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            key = id(group)
            if key not in self._adam:
                self._adam[key] = AdamState(params, group["betas"], group["eps"])
            gamma = group["weight_decay"]
            if gamma != 0:
                for p in params:
                    if p.dim() != 2:
                        raise ValueError("weight_decay != 0 needs 2-D parameters (rows are features)")
                    signed_weight_decay_(p, gamma, group["lr"], group["eps"])
            self._adam[key].update_([p.grad for p in params], group["lr"])
        return loss
