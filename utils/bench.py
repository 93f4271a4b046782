"""`python -m utils bench`: the batched trainer against the paper-style loop, in one run."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .data import power_law, sample_sparse
from .reference import PaperStyleTrainer
from .sweep import PAPER_WIDTHS
from .train import StackTrainer, TrainConfig



@dataclass(frozen=True)
class BenchPreset:
    """Which models to time and for how many steps."""

    widths: tuple[int, ...]
    n_gammas: int
    warmup_steps: int = 3
    timed_steps: int = 20
    n: int = 1000
    batch: int = 2048
    alpha: float = 1.0


PRESETS = {
    "full": BenchPreset(widths=PAPER_WIDTHS, n_gammas=10),
    "quick": BenchPreset(widths=(10, 100), n_gammas=2),
}


def matmul_flops(size: int = 2048, reps: int = 5) -> float:
    """Measured FLOP/s of a plain fp32 size x size matmul (2 size^3 per product), best of reps."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * size ** 3 / best


def _time_steps(step, warmup: int, timed: int, total: int) -> float:
    """Seconds for `timed` calls of step(i) after `warmup` untimed ones."""
    for i in range(warmup):
        step(i)
    t = time.perf_counter()
    for i in range(warmup, warmup + timed):
        step(i)
    return time.perf_counter() - t


def run(preset: str = "full", progress: bool = True) -> dict:
    """Time both trainers on the preset's models; return per-width seconds per model-step and summary."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    pr = PRESETS[preset]
    gammas = torch.linspace(-1, 1, pr.n_gammas).tolist()
    p = power_law(pr.n, pr.alpha)
    total = pr.warmup_steps + pr.timed_steps
    rows = []
    from tqdm import tqdm

    bar = tqdm(total=len(pr.widths) * (len(gammas) + 1), desc="bench", unit="run", disable=not progress)
    for m in pr.widths:
        ref = 0.0
        for k, g in enumerate(gammas):
            t = PaperStyleTrainer(p, g, pr.n, m, steps=total, batch=pr.batch, seed=k, warmup=2)
            ref += _time_steps(t.step, pr.warmup_steps, pr.timed_steps, total)
            bar.update(1)
        cfg = TrainConfig(n=pr.n, m=m, steps=total, batch=pr.batch, warmup=2, progress=False)
        fast_trainer = StackTrainer(p, gammas, cfg)
        fast = _time_steps(fast_trainer.step, pr.warmup_steps, pr.timed_steps, total)
        bar.update(1)
        model_steps = len(gammas) * pr.timed_steps
        rows.append(dict(m=m, reference_s=ref / model_steps, batched_s=fast / model_steps))
    bar.close()
    peak = matmul_flops()
    top = rows[-1]
    m = top["m"]
    nominal = 6 * pr.batch * pr.n * m  # three dense B x n x m products, as the textbook backward pass does
    actual = 6 * _active_features(p, pr.batch) * pr.n * m  # three products of q x n x m (see train.loss_and_grads)
    return dict(preset=preset, threads=torch.get_num_threads(), rows=rows, matmul_flops=peak,
                speedup=sum(r["reference_s"] for r in rows) / sum(r["batched_s"] for r in rows),
                flop_fraction=nominal / top["batched_s"] / peak, flop_fraction_m=m,
                actual_flop_fraction=actual / top["batched_s"] / peak)


def _active_features(p: torch.Tensor, batch: int, draws: int = 20) -> float:
    """Mean number q of distinct features active in a batch (the trainer's products are q x n x m)."""
    g = torch.Generator().manual_seed(0)
    return sum(sample_sparse(p, batch, g).cols.unique().numel() for _ in range(draws)) / draws


def report(result: dict) -> str:
    """The table and the final `speedup <x> flop_fraction <f>` line."""
    lines = [f"threads {result['threads']}; matmul {result['matmul_flops'] / 1e9:.1f} GFLOP/s (fp32)",
             f"{'m':>5} {'paper-style ms':>15} {'batched ms':>11} {'speed-up':>9}   (per model-step)"]
    for r in result["rows"]:
        lines.append(f"{r['m']:>5} {r['reference_s'] * 1e3:>15.2f} {r['batched_s'] * 1e3:>11.2f} "
                     f"{r['reference_s'] / r['batched_s']:>8.1f}x")
    lines.append(f"FLOP fraction at m = {result['flop_fraction_m']} counts 6*B*n*m FLOP per model-step (the three "
                 f"dense products of the textbook backward pass); the trainer does 6*q*n*m (q: features active in the "
                 f"batch), a fraction "
                 f"{result['actual_flop_fraction']:.3f} of the measured peak")
    lines.append(f"speedup {result['speedup']:.2f} flop_fraction {result['flop_fraction']:.3f}")
    return "\n".join(lines)
