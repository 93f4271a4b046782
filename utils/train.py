"""Train one toy model, or K of them at once, with the paper's optimiser and schedule.

`train` is the single entry point. K models of the same size (n, m) are held
as stacked tensors W (K, n, m) and b (K, n); every step draws each model's own
sparse batch, runs the forward and a hand-written backward pass for the whole
stack, then applies the signed decay and Adam to the stack in one go. The
backward pass is the exact gradient of torch's MSELoss (mean over batch and
features), checked against autograd in the tests.
"""

from __future__ import annotations

import os
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import torch

from . import _validate as check
from .data import SparseBatch, sample_sparse_many
from .models import init_params
from .optim import AdamState, paper_lr, signed_weight_decay_

# torch calls its sparse CSR tensors 'beta'; the two products used here are plain and tested
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")


@dataclass
class TrainConfig:
    """Settings shared by every model of one training run (defaults: the paper's)."""

    n: int = 1000
    m: int = 10
    steps: int = 20_000
    batch: int = 2048
    lr: float = 1e-2
    warmup: int = 2000
    final_lr_fraction: float = 0.05
    seed: int = 0
    device: str = "cpu"
    log_every: int = 1
    progress: bool | None = None  # None: a bar unless running under pytest or COURSE_QUIET=1

    def __post_init__(self):
        self.m, self.n = check.width(self.m, self.n)
        self.steps = check.positive_int("steps", self.steps)
        self.batch = check.positive_int("batch", self.batch)
        self.log_every = check.positive_int("log_every", self.log_every)
        check.finite_float("lr", self.lr, low=0.0, low_open=True)
        check.finite_float("final_lr_fraction", self.final_lr_fraction, low=0.0, high=1.0)
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(f"warmup must be a non-negative integer number of steps, got {self.warmup!r}")
        if not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {self.device!r}")
        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("device='cuda' was asked for, but torch sees no CUDA GPU here; use device='cpu'")


@dataclass
class TrainResult:
    """Trained weights W (K, n, m), biases b (K, n) and logged training losses (K, steps // log_every)."""

    W: torch.Tensor
    b: torch.Tensor
    losses: torch.Tensor
    gammas: torch.Tensor
    p: torch.Tensor
    seeds: list[int]
    config: TrainConfig

    def __len__(self) -> int:
        return self.W.shape[0]

    def summary(self) -> dict:
        """Settings as a plain dict (for records and provenance)."""
        return dict(asdict(self.config), gammas=self.gammas.tolist(), seeds=self.seeds)


def _show_progress(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return not ("PYTEST_CURRENT_TEST" in os.environ or os.environ.get("COURSE_QUIET") == "1")


def _as_stack(p: torch.Tensor, gammas, seeds, cfg: TrainConfig):
    """Broadcast p (n,) or (K, n), gammas (scalar or K) and seeds to K models."""
    p = check.probabilities("p", p)
    if p.dim() not in (1, 2) or p.shape[-1] != cfg.n:
        raise ValueError(f"p must have shape (n,) or (K, n) with n={cfg.n}, got {tuple(p.shape)}")
    g = torch.as_tensor(gammas, dtype=torch.float32).reshape(-1)
    if g.numel() == 0 or not torch.isfinite(g).all():
        raise ValueError(f"gamma must be finite numbers, got {gammas!r}")
    K = max(g.numel(), p.shape[0] if p.dim() == 2 else 1)
    if g.numel() not in (1, K) or (p.dim() == 2 and p.shape[0] not in (1, K)):
        raise ValueError(f"gamma ({g.numel()} values) and p ({tuple(p.shape)}) disagree on the number of models")
    g = g.expand(K).clone()
    p = p.reshape(-1, cfg.n).expand(K, cfg.n).clone()
    if seeds is None:
        seeds = [cfg.seed + k for k in range(K)]
    seeds = [int(s) for s in seeds]
    if len(seeds) != K:
        raise ValueError(f"seeds must give one seed per model ({K}), got {len(seeds)}")
    return p, g, seeds


class StackTrainer:
    """K models of one size, stacked, advanced one optimisation step at a time.

    On CPU the stack is split between `workers` threads (default: one per
    torch thread), each running its models' sampling, forward and backward
    passes on one core: the kernels here are too small to use two cores well
    each, but independent models keep both busy. Every model's numbers are the
    same however the stack is split (each uses its own generator and
    single-threaded kernels). Decay and Adam then update the whole stack.
    A stack that is not split (one model, or workers=1) runs on one core.
    """

    def __init__(self, p: torch.Tensor, gamma: float | Sequence[float], config: TrainConfig | None = None,
                 seeds: Sequence[int] | None = None, workers: int | None = None):
        self.cfg = cfg = config or TrainConfig()
        p, gammas, self.seeds = _as_stack(p, gamma, seeds, cfg)
        dev = torch.device(cfg.device)
        self.gens = [torch.Generator(device=dev).manual_seed(s) for s in self.seeds]
        inits = [init_params(cfg.n, cfg.m, g, dev) for g in self.gens]
        self.W = torch.stack([w for w, _ in inits])
        self.b = torch.stack([bb for _, bb in inits])
        self.p, self.gammas = p.to(dev), gammas.to(dev)
        self.adam = AdamState([self.W, self.b])
        K = len(self.seeds)
        if workers is None:
            workers = torch.get_num_threads() if dev.type == "cpu" else 1
        workers = max(1, min(K, check.positive_int("workers", workers)))
        sizes = [K // workers + (i < K % workers) for i in range(workers)]
        starts = [sum(sizes[:i]) for i in range(workers)]
        self.slices = [slice(a, a + k) for a, k in zip(starts, sizes)]
        self.works = [{} for _ in self.slices]
        self.pool = None
        if workers > 1:
            self.pool = ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(1,))

    def _grads(self, i: int, need_loss: bool):
        sl = self.slices[i]
        batches = sample_sparse_many(self.p[sl], self.cfg.batch, self.gens[sl])
        return loss_and_grads(self.W[sl], self.b[sl], batches, need_loss, self.works[i])

    def step(self, step: int, need_loss: bool = True) -> torch.Tensor | None:
        """Step number `step` (0-based) of the schedule: sample, gradients, decay, Adam."""
        threads = torch.get_num_threads()
        if self.pool is None:
            if self.W.device.type != "cpu":
                return self._update(step, *self._grads(0, need_loss))
            # one model on CPU: one core. Its matrices are small, so a second OpenMP thread gains little
            # and, on a busy machine, stalls every step at a barrier (measured 16x slower under load)
            torch.set_num_threads(1)
            try:
                return self._update(step, *self._grads(0, need_loss))
            finally:
                torch.set_num_threads(threads)
        # one core per worker (MKL's setting is global); the main thread's decay and
        # Adam stay on one core too, or its idle OpenMP thread spins on the workers' cores
        torch.set_num_threads(1)
        try:
            parts = list(self.pool.map(self._grads, range(len(self.slices)), [need_loss] * len(self.slices)))
            loss = torch.cat([q[0] for q in parts]) if need_loss else None
            return self._update(step, loss, torch.cat([q[1] for q in parts]), torch.cat([q[2] for q in parts]))
        finally:
            torch.set_num_threads(threads)

    def _update(self, step: int, loss, gW, gb):
        cfg = self.cfg
        lr = paper_lr(step, cfg.steps, cfg.lr, cfg.warmup, cfg.final_lr_fraction)
        signed_weight_decay_(self.W, self.gammas, lr)
        self.adam.update_([gW, gb], lr)
        return loss

    def close(self) -> None:
        """Stop the worker threads (they also stop when the trainer is garbage-collected)."""
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None


def train(p: torch.Tensor, gamma: float | Sequence[float], config: TrainConfig | None = None,
          seeds: Sequence[int] | None = None, on_step: Callable[[], None] | None = None) -> TrainResult:
    """Train K = len(gamma) (or len(p)) toy models at once; K = 1 trains one model.

    Model k uses its own generator seeded with seeds[k] (default config.seed + k)
    for its initialisation and then its data, so training it alone with the
    same seed gives the same model. on_step, if given, is called after every
    step (the sweep's progress bar uses it).
    """
    t = StackTrainer(p, gamma, config, seeds)
    cfg = t.cfg
    losses = torch.empty(len(t.seeds), cfg.steps // cfg.log_every, device=t.W.device)
    bar = _progress_bar(cfg, len(t.seeds))
    try:
        for step in range(cfg.steps):
            log = (step + 1) % cfg.log_every == 0
            loss = t.step(step, need_loss=log)
            if log:
                losses[:, (step + 1) // cfg.log_every - 1] = loss
            if bar is not None:
                bar.update(1)
            if on_step is not None:
                on_step()
    finally:
        t.close()
        if bar is not None:
            bar.close()
    return TrainResult(W=t.W.cpu(), b=t.b.cpu(), losses=losses.cpu(), gammas=t.gammas.cpu(),
                       p=t.p.cpu(), seeds=t.seeds, config=cfg)


def _progress_bar(cfg: TrainConfig, K: int):
    if not _show_progress(cfg.progress):
        return None
    from tqdm import tqdm

    return tqdm(total=cfg.steps, desc=f"training {K} model{'s' * (K > 1)} (m={cfg.m})",
                unit="step", file=sys.stderr, leave=False, mininterval=0.5)


#: Widths from which the Gram route is used (below it, three thin dense products are
#: cheaper on CPU: measured with `python -m utils bench`, where both routes cost about
#: the same at m = 20 for n = 1000, B = 2048).
GRAM_MIN_WIDTH = 20


def use_gram(n: int, m: int, batch: int) -> bool:
    """Whether `loss_and_grads` takes the Gram route for this size (fewer FLOPs, see there)."""
    return m >= GRAM_MIN_WIDTH and 2 * n <= 3 * batch


@torch.no_grad()
def loss_and_grads(W: torch.Tensor, b: torch.Tensor, batches: list[SparseBatch], need_loss: bool = True,
                   work: dict | None = None):
    """MSE loss (mean over batch and features) of each stacked model and its gradients dW, db.

    With G = dL/dz = (2 / Bn) (y - x) where z > 0 (else 0) and x sparse (about
    E active entries per sample), two routes give the same numbers:
    - dense: h = x W (cheap), z = h W^T + b, dW = G^T h + x^T (G W):
      three dense products of B x n x m;
    - Gram: C = W W^T, z = x C + b (cheap), A = x^T G (cheap, n x n),
      dW = (A + A^T) W: two products of n x n x m, so 3B / 2n times fewer
      FLOPs (three times fewer at the paper's n = 1000, B = 2048).
    `use_gram` picks one. Models are processed one after another so each
    step's (B, n) block stays in cache; `work` keeps buffers between calls
    (allocating them every step is slow).
    """
    K, n, m = W.shape
    B = batches[0].batch
    work = {} if work is None else work
    gram = use_gram(n, m, B)
    if work.get("shape") != (B, n, m, W.device):
        work.clear()
        work.update(shape=(B, n, m, W.device), y=torch.empty(B, n, device=W.device))
        if gram:
            work.update({k: torch.empty(n, n, device=W.device) for k in ("C", "A", "S")})
            work["WtS"] = torch.empty(m, n, device=W.device)
        else:
            work["h1"] = torch.empty(B, m + 1, device=W.device)
    y = work["y"]
    loss = torch.zeros(K, device=W.device) if need_loss else None
    gW = torch.empty_like(W)
    gb = torch.empty_like(b)
    for k, sb in enumerate(batches):
        if gram:
            x, xt = _csr_pair(sb)
            torch.mm(W[k], W[k].T, out=work["C"])
            torch.addmm(b[k], x, work["C"], out=y)
        else:
            h1 = work["h1"]  # [x W, 1]: the column of ones carries the bias
            h1.zero_()
            h1[:, m] = 1.0
            h1[:, :m].index_add_(0, sb.rows, W[k][sb.cols] * sb.values.unsqueeze(1))
            torch.mm(h1, torch.cat([W[k], b[k].unsqueeze(1)], dim=1).T, out=y)
        lk = _relu_and_residual_(y, sb, need_loss)  # y becomes G / (2 / Bn)
        if need_loss:
            loss[k] = lk
        if gram:
            torch.mm(xt, y, out=work["A"])
            torch.add(work["A"], work["A"].T, out=work["S"])
            gW[k] = torch.mm(W[k].T, work["S"], out=work["WtS"]).T  # (A + A^T) W, as W^T S is faster
            torch.sum(y, 0, out=gb[k])
        else:
            gWb = torch.mm(h1.T, y)  # (m + 1, n): [h, 1]^T G
            gW[k] = gWb[:m].T
            gb[k] = gWb[m]
            GWt = torch.mm(W[k].T, y.T)  # (m, B): (G W)^T, the gradient w.r.t. h
            gW[k].index_add_(0, sb.cols, GWt[:, sb.rows].T * sb.values.unsqueeze(1))
    scale = 2.0 / (B * n)
    return loss, gW.mul_(scale), gb.mul_(scale)


def _relu_and_residual_(y: torch.Tensor, sb: SparseBatch, need_loss: bool):
    """Turn z (B, n) into y = ReLU(z), return the loss, then overwrite y with y - x where z > 0."""
    B, n = y.shape
    flat = y.relu_().view(-1)
    pos = sb.rows * n + sb.cols
    y_act = flat[pos]
    loss = None
    if need_loss:  # sum (y - x)^2 = sum y^2 - sum over active (2 y v - v^2)
        cross = (y_act * sb.values * 2 - sb.values * sb.values).sum()
        loss = (torch.dot(flat, flat) - cross) / (B * n)
    flat[pos] = torch.where(y_act > 0, y_act - sb.values, torch.zeros_like(y_act))  # y is 0 where z <= 0
    return loss


def _csr_pair(sb: SparseBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """x (B, n) and x^T (n, B) of a sparse batch as compressed-sparse-row tensors."""
    B, n, dev = sb.batch, sb.n, sb.values.device
    # entries come sorted by feature, then row: x^T's rows in order already
    xt = torch.sparse_csr_tensor(_row_pointers(sb.cols, n), sb.rows, sb.values, (n, B), check_invariants=False)
    order = torch.argsort(sb.rows, stable=True)
    x = torch.sparse_csr_tensor(_row_pointers(sb.rows, B), sb.cols[order], sb.values[order], (B, n),
                                check_invariants=False)
    return x, xt


def _row_pointers(rows: torch.Tensor, size: int) -> torch.Tensor:
    ptr = torch.zeros(size + 1, dtype=torch.long, device=rows.device)
    torch.cumsum(torch.bincount(rows, minlength=size), 0, out=ptr[1:])
    return ptr
