"""Train one toy model, or K of them at once, with the paper's optimiser and schedule.

`train` is the single entry point (chapter 8's widths beyond n and the capstone's
per-model settings call it too). K models of the same size (n, m) are held
as stacked tensors W (K, n, m) and b (K, n); every step draws each model's own
sparse batch, runs the forward and a hand-written backward pass for the whole
stack, then applies the signed decay and Adam to the stack in one go. The
backward pass is the exact gradient of torch's MSELoss (mean over batch and
features), checked against autograd in the tests.
"""

from __future__ import annotations

import ctypes
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from . import _validate as check
from .data import SparseBatch, sample_sparse_many
from .models import init_params
from .optim import AdamState, paper_lr, signed_weight_decay_


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
    wide: bool = False  # allow m >= n (chapter 8); the paper's models all have m < n

    def __post_init__(self):
        self.m, self.n = check.width(self.m, self.n, self.wide)
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
    """K models, stacked, advanced one optimisation step at a time (the course's one training loop).

    On CPU the stack is split between `workers` threads (default: one per
    torch thread), each running its models' sampling, forward and backward
    passes, decay and Adam on one core: the kernels here are too small to use
    two cores well each, but independent models keep both busy. Every model's
    numbers are the same however the stack is split (each uses its own
    generator and single-threaded kernels). A stack that is not split (one
    model, or workers=1) runs on one core. `train` explains widths, data, lr
    and init, which let chapter 8 (`implications.train_widths`) and the
    capstone (`capstone._train`) use this loop too.
    """

    def __init__(self, p: torch.Tensor, gamma: float | Sequence[float], config: TrainConfig | None = None,
                 seeds: Sequence[int] | None = None, workers: int | None = None,
                 widths: Sequence[int] | None = None, data: Callable | None = None,
                 lr: Callable[[int], float | torch.Tensor] | None = None, init: Callable | None = None):
        self.cfg = cfg = config or TrainConfig()
        p, gammas, self.seeds = _as_stack(p, gamma, seeds, cfg)
        K = len(self.seeds)
        dev = torch.device(cfg.device)
        self.widths = _widths(widths, K, cfg)
        self.gens = [torch.Generator(device=dev).manual_seed(s) for s in self.seeds]
        # model k uses the first widths[k] columns; the rest are zero and get no update (see `_advance`)
        self.W = torch.zeros(K, cfg.n, cfg.m, device=dev)
        self.b = torch.empty(K, cfg.n, device=dev)
        for k, (m, g) in enumerate(zip(self.widths, self.gens)):
            if init is None:
                self.W[k, :, :m], self.b[k] = init_params(cfg.n, m, g, dev, wide=cfg.wide)
            else:
                self.W[k, :, :m], self.b[k] = init(k, g)
        self.mask = None
        if min(self.widths) < cfg.m:
            self.mask = (torch.arange(cfg.m, device=dev) < torch.tensor(self.widths, device=dev)[:, None])
            self.mask = self.mask.float().unsqueeze(1)  # (K, 1, m)
        self.data, self.lr = data, lr
        self.p, self.gammas = p.to(dev), gammas.to(dev)
        if workers is None:
            workers = torch.get_num_threads() if dev.type == "cpu" else 1
        workers = max(1, min(K, check.positive_int("workers", workers)))
        sizes = [K // workers + (i < K % workers) for i in range(workers)]
        starts = [sum(sizes[:i]) for i in range(workers)]
        self.slices = [slice(a, a + k) for a, k in zip(starts, sizes)]
        # each worker owns its models' Adam moments (views of one stack), so it can update them itself
        self.adams = [AdamState([self.W[sl], self.b[sl]]) for sl in self.slices]
        self.works = [{} for _ in self.slices]
        self.pool = None
        if dev.type == "cpu":
            _keep_freed_memory()
        if workers > 1:
            self.pool = ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(1,))

    def _advance(self, i: int, step: int, lr: float | torch.Tensor, need_loss: bool):
        """Worker i's whole step for its models: sample, gradients, decay, Adam; returns their losses."""
        sl = self.slices[i]
        if self.data is None:
            batches = sample_sparse_many(self.p[sl], self.cfg.batch, self.gens[sl])
        else:
            batches = self.data(step, range(sl.start, sl.stop), self.gens[sl])
        loss, gW, gb = self._grads(i, batches, need_loss)
        if self.mask is not None:
            gW.mul_(self.mask[sl])
        if isinstance(lr, torch.Tensor):  # one rate per model: folded into the decay's gamma (same sign)
            lr = lr[sl]
            signed_weight_decay_(self.W[sl], self.gammas[sl] * lr, 1.0)
        else:
            signed_weight_decay_(self.W[sl], self.gammas[sl], lr)
        self.adams[i].update_([gW, gb], lr)
        return loss

    def _grads(self, i: int, batches: list[SparseBatch], need_loss: bool):
        """Loss and gradients of worker i's models, one call per batch size among them."""
        sl, works = self.slices[i], self.works[i]
        W, b = self.W[sl], self.b[sl]
        sizes = sorted({sb.batch for sb in batches})
        if len(sizes) == 1:
            return loss_and_grads(W, b, batches, need_loss, works.setdefault(sizes[0], {}))
        loss = torch.zeros(len(batches), device=W.device) if need_loss else None
        gW, gb = torch.empty_like(W), torch.empty_like(b)
        for size in sizes:
            idx = [j for j, sb in enumerate(batches) if sb.batch == size]
            part, gW[idx], gb[idx] = loss_and_grads(W[idx], b[idx], [batches[j] for j in idx], need_loss,
                                                    works.setdefault(size, {}))
            if need_loss:
                loss[idx] = part
        return loss, gW, gb

    def step(self, step: int, need_loss: bool = True) -> torch.Tensor | None:
        """Step number `step` (0-based) of the schedule: sample, gradients, decay, Adam."""
        cfg = self.cfg
        if self.lr is None:
            lr = paper_lr(step, cfg.steps, cfg.lr, cfg.warmup, cfg.final_lr_fraction)
        else:
            lr = self.lr(step)
        if self.W.device.type != "cpu":
            return self._advance(0, step, lr, need_loss)
        # one core per worker (MKL's setting is global). One model alone runs on one core too: its
        # matrices are small, so a second OpenMP thread gains little and, on a busy machine, stalls
        # every step at a barrier (measured 16x slower under load)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            if self.pool is None:
                return self._advance(0, step, lr, need_loss)
            n = len(self.slices)
            losses = list(self.pool.map(self._advance, range(n), [step] * n, [lr] * n, [need_loss] * n))
            return torch.cat(losses) if need_loss else None
        finally:
            torch.set_num_threads(threads)

    def close(self) -> None:
        """Stop the worker threads (they also stop when the trainer is garbage-collected)."""
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None


def _widths(widths, K: int, cfg: TrainConfig) -> list[int]:
    """Each model's width: cfg.m for all, or one per model, none above cfg.m (the stack's width)."""
    if widths is None:
        return [cfg.m] * K
    widths = [check.positive_int("width", m) for m in widths]
    if len(widths) != K:
        raise ValueError(f"widths must give one width per model ({K}), got {len(widths)}")
    if max(widths) != cfg.m:
        raise ValueError(f"the largest of widths must be config.m = {cfg.m} (the stack's width), got {max(widths)}")
    return widths


def _keep_freed_memory() -> None:
    """Ask glibc to reuse freed buffers instead of handing them back to the kernel (Linux; else nothing).

    Every step allocates a few buffers of several MB (embedding_bag has no out=). By default glibc
    maps each one fresh, and the kernel zero-fills its pages: about 800 page faults and 2 of the
    7 ms of CPU time of a model-step at m = 10 (measured with getrusage; README, "The benchmark").
    Raising the two thresholds keeps such buffers in the process for the next step. It changes no number.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...): keep the default
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_MMAP_THRESHOLD, 64 << 20)  # buffers below 64 MB come from the heap ...
    mallopt(M_TRIM_THRESHOLD, 256 << 20)  # ... which keeps up to 256 MB of free space


def train(p: torch.Tensor, gamma: float | Sequence[float], config: TrainConfig | None = None,
          seeds: Sequence[int] | None = None, on_step: Callable[[], None] | None = None,
          widths: Sequence[int] | None = None, data: Callable | None = None,
          lr: Callable[[int], float | torch.Tensor] | None = None, init: Callable | None = None) -> TrainResult:
    """Train K = len(gamma) (or len(p)) toy models at once; K = 1 trains one model.

    Model k uses its own generator seeded with seeds[k] (default config.seed + k)
    for its initialisation and then its data, so training it alone with the
    same seed gives the same model. on_step, if given, is called after every
    step (the sweep's progress bar uses it).

    widths: one width per model (default config.m for all): the stack is config.m wide and
    model k uses its first widths[k] columns (W[k, :, widths[k]:] stays 0). data: where each
    step's batches come from, data(step, models, generators) -> one SparseBatch per model
    (default: fresh draws from p with the models' own generators; chapter 8 passes finite
    pools, the capstone a curriculum and smaller batches). lr: the learning rate at each
    step, lr(step) -> a number or one per model (default: the paper's schedule from config).
    init: init(k, generator) -> (W_k, b_k), model k's starting point (default: the paper's).
    """
    t = StackTrainer(p, gamma, config, seeds, widths=widths, data=data, lr=lr, init=init)
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


@torch.no_grad()
def loss_and_grads(W: torch.Tensor, b: torch.Tensor, batches: list[SparseBatch], need_loss: bool = True,
                   work: dict | None = None):
    """MSE loss (mean over batch and features) of each stacked model and its gradients dW, db.

    With C = W W^T the model is z = x C + b, y = ReLU(z), and the gradient
    is G = dL/dz = (2 / Bn) (y - x) where z > 0 (else 0), dL/dC = A = x^T G,
    dW = (A + A^T) W. The data are sparse (about E active entries per
    sample), and two facts cut the work:
    - a sample with no active feature (about e^-E of them) has z = b: its
      loss and bias gradient are those of ReLU(b), counted once and
      multiplied by how many such samples there are;
    - only the q features active somewhere in the batch (about 500 of
      n = 1000 at alpha = 1, B = 2048) have non-zero columns in x, so only
      the rows J of C are needed, C_J = W_J W^T; only the rows J of A are
      non-zero, A_J = x_J^T G; and dW = A_J^T W_J + (A_J W added to rows J).
    That is three dense products of q x n x m, computed in the orientation
    that is fastest for thin matrices (m rows out). Models are processed one
    after another so each step's blocks stay in cache; `work` keeps the
    buffers between calls (allocating them every step is slow).
    """
    K, n, m = W.shape
    B = batches[0].batch
    work = {} if work is None else work
    if work.get("shape") != (B, n, m, W.device):
        work.clear()
        work.update(shape=(B, n, m, W.device), C=torch.empty(n, n, device=W.device),
                    **{k: torch.empty(m, n, device=W.device) for k in ("g", "h")})
    loss = torch.zeros(K, device=W.device) if need_loss else None
    gW = torch.empty_like(W)
    gb = torch.empty_like(b)
    for k, sb in enumerate(batches):
        y0 = b[k].relu()  # output, and residual, of a sample with no active feature
        J, entry_row, x, xt, rows = _compact(sb)
        idle = B - rows  # samples with no active feature
        if need_loss:
            loss[k] = idle * torch.dot(y0, y0)
        torch.mul(y0, idle, out=gb[k])
        if J.numel() == 0:
            gW[k] = 0.0
            continue
        q = J.numel()
        W_J = W[k][J]
        C_J = torch.mm(W_J, W[k].T, out=work["C"][:q])
        y = _bag_product(x, C_J).add_(b[k])
        lk = _relu_and_residual_(y, entry_row, sb, need_loss)  # y becomes G / (2 / Bn)
        if need_loss:
            loss[k] += lk
        gb[k] += y.sum(0)
        A_J = _bag_product(xt, y)
        g = torch.mm(W_J.T, A_J, out=work["g"])  # (A_J^T W_J)^T, (m, n)
        h = torch.mm(W[k].T, A_J.T, out=work["h"].view(-1)[:m * q].view(m, q))
        g.index_add_(1, J, h)  # + (A_J W)^T in columns J
        gW[k] = g.T
    scale = 2.0 / (B * n)
    if need_loss:
        loss.div_(B * n)
    return loss, gW.mul_(scale), gb.mul_(scale)


def _relu_and_residual_(y: torch.Tensor, entry_row: torch.Tensor, sb: SparseBatch, need_loss: bool):
    """Turn z into y = ReLU(z), return sum (y - x)^2, then overwrite y with y - x where z > 0.

    y holds the samples with an active feature; entry k of the batch is at row entry_row[k].
    """
    n = y.shape[1]
    flat = y.relu_().view(-1)
    pos = entry_row * n + sb.cols
    y_act = flat[pos]
    loss = None
    if need_loss:  # sum (y - x)^2 = sum y^2 - sum over active (2 y v - v^2)
        cross = (y_act * sb.values * 2 - sb.values * sb.values).sum()
        loss = torch.dot(flat, flat) - cross
    flat[pos] = torch.where(y_act > 0, y_act - sb.values, torch.zeros_like(y_act))  # y is 0 where z <= 0
    return loss


def _compact(sb: SparseBatch):
    """x without its all-zero rows and columns, as two lists of weighted bags for `embedding_bag`.

    Returns J (the q features active in the batch), each entry's row among the
    B' samples with an active feature, two (indices, offsets, weights)
    triples: x row by row (columns numbered within J) and x^T feature by
    feature, and B'. `embedding_bag(indices, M, offsets, per_sample_weights=weights)`
    then computes x M (B' x n) or x^T M (q x n) from a dense M, faster here
    than torch's sparse matrices. Relies on the SparseBatch order (entries
    sorted by feature, then sample).
    """
    J, entry_col = torch.unique_consecutive(sb.cols, return_inverse=True)
    used = torch.bincount(sb.rows, minlength=sb.batch) > 0
    entry_row = (torch.cumsum(used, 0) - 1)[sb.rows]
    q, rows = J.numel(), int(used.sum())
    by_feature = (entry_row, _row_pointers(entry_col, q), sb.values)
    order = torch.argsort(entry_row, stable=True)
    by_sample = (entry_col[order], _row_pointers(entry_row, rows), sb.values[order])
    return J, entry_row, by_sample, by_feature, rows


def _bag_product(bags, M: torch.Tensor) -> torch.Tensor:
    """The sparse matrix described by `bags` (see `_compact`) times the dense M."""
    indices, offsets, weights = bags
    return F.embedding_bag(indices, M, offsets, mode="sum", per_sample_weights=weights, include_last_offset=True)


def _row_pointers(rows: torch.Tensor, size: int) -> torch.Tensor:
    ptr = torch.zeros(size + 1, dtype=torch.long, device=rows.device)
    torch.cumsum(torch.bincount(rows, minlength=size), 0, out=ptr[1:])
    return ptr
