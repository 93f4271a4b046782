"""`python -m utils sweep`: train a grid of toy models, resumably, and keep one record per model.

A preset names a grid of models over (distribution, E, gamma, alpha, m). A
*group* is the models that differ only in gamma; groups of the same width and
step count are trained together as one stack by `utils.train` (up to
MAX_STACK models), and their records are written when the stack finishes, so
a killed sweep loses at most the stack in progress. Every write replaces
DIR/sweep.json atomically (write a temporary file, then rename), so the file
is always either the old or the new version.

Each record holds the model's settings and what was measured after training:
- final_loss: the loss on a fresh batch of 20,000 samples that training never
  saw (MSELoss units: mean over the batch and the n features), with its
  standard error final_loss_se;
- train_loss: the mean logged training loss over the last 10% of steps;
- unrepresented_loss: the weak-regime prediction, (1/n) * sum over rows with
  norm <= 1/2 of p_i * E[u^2], in the same units;
- phi_half, phi_one, mean_square_overlap (squared cosines between represented
  rows), row_norms (3 decimals), a 20-point training-loss curve, and wall_s,
  the model's share of its stack's wall time.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import metrics, runfiles
from .data import exponential, linear, power_law, raise_density
from .paths import DATA
from .train import TrainConfig, train

FORMAT = "superposition-course sweep"
VERSION = 1
PAPER_WIDTHS = (10, 15, 25, 39, 63, 100)
EVAL_BATCH = 20_000


class SweepError(Exception):
    """A problem with a sweep's input or files, reported as one line by the command."""


@dataclass(frozen=True)
class Group:
    """Models trained together: one frequency law and width, several gammas."""

    distribution: str  # "power", "exponential" or "linear"
    m: int
    steps: int
    gammas: tuple[float, ...]
    alpha: float | None = None  # power-law exponent
    scale: float | None = None  # exponential decay length (in features)
    s: float = 0.0  # the paper's density raise (0: E = 1)
    part: str = "grid"  # which figure the group serves: grid, shapes, density, steps

    def frequencies(self, n: int) -> torch.Tensor:
        if self.distribution == "power":
            p = power_law(n, self.alpha)
            return raise_density(p, self.s) if self.s else p
        if self.distribution == "exponential":
            return exponential(n, self.scale)
        return linear(n)

    def keys(self) -> list[str]:
        return [model_key(self, g) for g in self.gammas]


def model_key(group: Group, gamma: float) -> str:
    """A model's identity in a sweep: everything that decides its training."""
    return (f"{group.distribution}|alpha={group.alpha}|scale={group.scale}|s={group.s:g}"
            f"|gamma={gamma:.6f}|m={group.m}|steps={group.steps}")


@dataclass(frozen=True)
class Preset:
    """A named grid; `settings()` is what makes two sweeps comparable."""

    name: str
    about: str
    n: int
    batch: int
    groups: tuple[Group, ...] = field(repr=False)
    lr: float = 1e-2
    warmup_fraction: float = 0.1  # the paper: 2,000 of 20,000 steps
    seed: int = 0

    def settings(self) -> dict:
        """What every model of the preset shares. The grid's extent is not part of it, so a
        preset that grows keeps the models already trained and trains only the new ones."""
        return dict(preset=self.name, n=self.n, batch=self.batch, lr=self.lr,
                    warmup_fraction=self.warmup_fraction, seed=self.seed, eval_batch=EVAL_BATCH)

    def model_steps(self, groups=None) -> int:
        return sum(len(g.gammas) * g.steps for g in (self.groups if groups is None else groups))


def _grid(widths, steps, gammas, alphas, part="grid", **kw) -> list[Group]:
    return [Group("power", m, steps, tuple(gammas), alpha=a, part=part, **kw) for a in alphas for m in widths]


def _paper() -> Preset:
    gammas = [round(g, 6) for g in torch.linspace(-1, 1, 10).tolist()]
    a = sorted(set(round(v, 6) for v in torch.linspace(-1, 0, 9).tolist() + torch.linspace(0, 1, 9).tolist()))
    groups = _grid(PAPER_WIDTHS, 20_000, gammas, [round(1 + v, 6) for v in a])
    return Preset("paper", "the paper's grid exactly: n=1000, batch 2048, 20,000 steps, 10 gammas in "
                  "[-1, 1], 17 alphas in [0, 2], widths 10..100 (1,020 models, 20.4 M model-steps; "
                  "about 20 hours on 2 CPU cores, so for a GPU or a long run: it resumes)",
                  n=1000, batch=2048, groups=tuple(groups))


COURSE_STEPS = 3000
COURSE_CHECK_STEPS = 12_000


def _course() -> Preset:
    W, S, pm = PAPER_WIDTHS, COURSE_STEPS, (-1.0, 1.0)
    groups = _grid(W, S, (-1.0, -0.5, 0.0, 0.5, 1.0), (0.0, 0.5, 1.0, 1.5, 2.0))
    groups += [Group("exponential", m, S, pm, scale=100.0, part="shapes") for m in W]
    groups += [Group("linear", m, S, pm, part="shapes") for m in W]
    groups += _grid(W, S, pm, (1.2,), part="shapes")
    for s in (0.25, 0.5, 0.75, 1.0):
        groups += _grid(W, S, pm, (1.0,), part="density", s=s)
    L = COURSE_CHECK_STEPS
    groups += _grid(W, L, pm, (1.0,), part="steps")
    # 3,000 steps leave the strong regime's exponent low (alpha = 1: 0.85 against 1.12 after
    # 12,000 steps), so the strong curves with alpha <= 1 are also trained for 12,000 steps
    groups += _grid(W, L, (-1.0, -0.5), (0.0, 0.5), part="long") + _grid(W, L, (-0.5,), (1.0,), part="long")
    return Preset("course", f"what chapters 4-6 show, at n=1000, batch 2048 and the paper's six widths, "
                  f"{S} steps: gamma in {{-1,-0.5,0,0.5,1}} x alpha in {{0,0.5,1,1.5,2}}; exponential "
                  f"(decay length 100), linear and power 1.2 shapes at gamma = +-1; the density sweep "
                  f"(alpha=1, s in 0.25..1) at gamma = +-1; alpha=1 at gamma = +-1 again with "
                  f"{L} steps, which showed that {S} steps are too few for the strong regime's exponent, "
                  f"so the strong curves (gamma = -1, -0.5) with alpha <= 1 are trained for {L} steps too "
                  f"(about 85 minutes on 2 cores)", n=1000, batch=2048, groups=tuple(groups))


def _quick() -> Preset:
    W, S, pm = (5, 8, 12, 20), 1500, (-1.0, 1.0)
    groups = _grid(W, S, pm, (0.5, 1.0, 1.5))
    groups += [Group("exponential", m, S, pm, scale=20.0, part="shapes") for m in W]
    groups += [Group("linear", m, S, pm, part="shapes") for m in W]
    groups += _grid(W, S, pm, (1.0,), part="density", s=1.0)
    return Preset("quick", "the smallest grid that shows every regime: n=200, batch 512, 1,500 steps, "
                  "gamma = +-1, alpha in {0.5,1,1.5}, widths 5..20, both other shapes and the highest "
                  "density (about a minute on 2 cores)", n=200, batch=512, groups=tuple(groups))


PRESETS = {"quick": _quick, "course": _course, "paper": _paper}


def preset(name: str) -> Preset:
    """The preset called `name` (quick, course or paper)."""
    if name not in PRESETS:
        raise SweepError(f"--preset must be one of {', '.join(PRESETS)}, got {name!r}")
    return PRESETS[name]()


def default_dir(name: str) -> Path:
    return DATA / f"sweep-{name}"


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """'K/N' -> (K, N) with 1 <= K <= N."""
    if text is None:
        return None
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise SweepError(f"--shard must look like K/N (e.g. 3/90), got {text!r}") from None
    if not 1 <= k <= n:
        raise SweepError(f"--shard K/N needs 1 <= K <= N, got {text!r}")
    return k, n


def shard_groups(pr: Preset, shard: tuple[int, int] | None) -> list[Group]:
    """The groups of one shard: every N-th group starting at the K-th (all groups without a shard)."""
    if shard is None:
        return list(pr.groups)
    k, n = shard
    return [g for i, g in enumerate(pr.groups) if i % n == k - 1]


# ---------------------------------------------------------------- files

def _settings(pr: Preset, shard) -> dict:
    return dict(pr.settings(), shard=None if shard is None else f"{shard[0]}/{shard[1]}")


def load(path: str | Path) -> dict:
    """Read a sweep.json (or the sweep.json inside a directory), refusing anything else."""
    return runfiles.read(path, "sweep.json", FORMAT, VERSION, SweepError, "a sweep", "python -m utils sweep")


def _open_sweep(out: Path, settings: dict) -> dict:
    """The existing sweep in `out` if it has the same settings, else a new empty one."""
    def detail(doc):
        other = doc.get("settings", {})
        return f" ({other.get('preset')}, shard {other.get('shard')})"

    return runfiles.resume(runfiles.output_dir(out, SweepError) / "sweep.json", settings, FORMAT, VERSION, load,
                           SweepError, "a sweep", detail)


# ---------------------------------------------------------------- running

def seed_of(key: str, base: int = 0) -> int:
    """A model's seed, from its key: the same model gets the same seed in any shard or order."""
    return (zlib.crc32(key.encode()) + base) % (2 ** 31)


def _records(group: Group, result, first: int, pr: Preset, p: torch.Tensor, wall: float) -> list[dict]:
    """The records of `group`, whose models are result's models first, first + 1, ...; wall: seconds per model."""
    n = pr.n
    recs = []
    for j, gamma in enumerate(group.gammas):
        k = first + j
        W, b = result.W[k], result.b[k]
        gen = torch.Generator().manual_seed(result.seeds[k] + 1)
        per_sample = _eval_losses(W, b, p, gen)
        losses = result.losses[k]
        tail = losses[-max(1, losses.numel() // 10):]
        curve = [float(c.mean()) for c in losses.chunk(20)]
        msq = metrics.mean_square_overlap(W)
        recs.append(dict(
            key=model_key(group, gamma), part=group.part, distribution=group.distribution,
            alpha=group.alpha, scale=group.scale, s=group.s, E=round(float(p.sum()), 6), gamma=gamma,
            m=group.m, n=n, batch=pr.batch, steps=group.steps, seed=result.seeds[k],
            final_loss=float(per_sample.mean()), final_loss_se=float(per_sample.std() / math.sqrt(per_sample.numel())),
            train_loss=float(tail.mean()), unrepresented_loss=metrics.unrepresented_loss(W, p),
            phi_half=float(metrics.phi_half(W)), phi_one=float(metrics.phi_one(W)),
            mean_square_overlap=None if math.isnan(msq) else msq,
            row_norms=[round(v, 3) for v in metrics.row_norms(W).tolist()],
            loss_curve=curve, wall_s=round(wall, 3)))
    return recs


@torch.no_grad()
def _eval_losses(W, b, p, gen) -> torch.Tensor:
    """Per-sample losses (mean over features) on EVAL_BATCH fresh samples, in chunks."""
    out = [metrics.sample_losses(W, b, p, 5000, gen) for _ in range(EVAL_BATCH // 5000)]
    return torch.cat(out)


#: At most this many models are trained in one stack: enough to keep both cores (or a GPU) busy
#: and amortise each step's fixed costs, few enough that an interrupted stack loses little work.
MAX_STACK = 40


def stacks(groups: list[Group], limit: int = MAX_STACK) -> list[list[Group]]:
    """Groups of the same width and step count, put together into stacks of at most `limit` models.

    Each model keeps its own seed and generator, so it trains to the same numbers in any stack
    (utils.train); stacking only saves time. Stacks come in the order of their first group.
    """
    out, open_ = [], {}
    for g in groups:
        key = (g.m, g.steps)
        stack = open_.get(key)
        if stack is None or sum(len(x.gammas) for x in stack) + len(g.gammas) > limit:
            stack = open_[key] = []
            out.append(stack)
        stack.append(g)
    return out


def run(name: str, out: str | Path | None = None, device: str = "cpu", shard: str | None = None,
        progress: bool | None = None, argv=None, stop_after: int | None = None) -> Path:
    """Train every model of the preset (or of one shard) not yet in out/sweep.json; return the file.

    Groups of the same width and step count are trained together (see `stacks`); the records of a
    stack are written when it finishes. stop_after: stop after this many stacks (for tests of resuming).
    """
    pr = preset(name)
    sh = parse_shard(shard)
    out = Path(out) if out is not None else default_dir(name)
    settings = _settings(pr, sh)
    doc = _open_sweep(out, settings)
    path = out / "sweep.json"
    done = {r["key"] for r in doc["records"]}
    todo = [g for g in shard_groups(pr, sh) if not set(g.keys()) <= done]
    run_info = runfiles.provenance(argv)
    run_info.update(device=device, groups_to_train=len(todo))
    doc["runs"].append(run_info)
    runfiles.write_atomic(path, doc)
    bar = runfiles.progress_bar(pr.model_steps(todo), progress, f"sweep {name}", "model-step")
    t_run, groups_done = time.time(), 0
    for i, stack in enumerate(stacks(todo, MAX_STACK)):
        if stop_after is not None and i >= stop_after:
            break
        m, steps = stack[0].m, stack[0].steps
        ps = [g.frequencies(pr.n) for g in stack]
        gammas = [gamma for g in stack for gamma in g.gammas]
        cfg = TrainConfig(n=pr.n, m=m, steps=steps, batch=pr.batch, lr=pr.lr,
                          warmup=int(round(pr.warmup_fraction * steps)), device=device,
                          log_every=max(1, steps // 200), progress=False)
        t = time.time()
        result = train(torch.cat([p.expand(len(g.gammas), -1) for p, g in zip(ps, stack)]), gammas, cfg,
                       seeds=[seed_of(k, pr.seed) for g in stack for k in g.keys()],
                       on_step=None if bar is None else (lambda: bar.update(len(gammas))))
        wall, recs, first = (time.time() - t) / len(gammas), [], 0
        for g, p in zip(stack, ps):
            recs += _records(g, result, first, pr, p, wall)
            first += len(g.gammas)
        keep = {r["key"] for r in recs}
        doc["records"] = [r for r in doc["records"] if r["key"] not in keep] + recs
        groups_done += len(stack)
        run_info["wall_s"] = round(time.time() - t_run, 1)
        run_info["groups_done"] = groups_done
        runfiles.write_atomic(path, doc)
    if bar is not None:
        bar.close()
    return path


def merge(out: str | Path, dirs: list[str | Path]) -> Path:
    """Combine the sweep.json of several shards of one preset into out/sweep.json."""
    if not dirs:
        raise SweepError("merge needs at least one shard directory")
    docs = [load(d) for d in dirs]
    base = {k: v for k, v in docs[0]["settings"].items() if k != "shard"}
    for d, doc in zip(dirs, docs):
        other = {k: v for k, v in doc["settings"].items() if k != "shard"}
        if other != base:
            raise SweepError(f"{d} is a sweep with other settings than {dirs[0]} "
                             f"({other.get('preset')} vs {base.get('preset')}); refusing to merge")
    records, runs = {}, []
    for d, doc in zip(dirs, docs):
        for r in doc["records"]:
            if r["key"] in records and records[r["key"]]["final_loss"] != r["final_loss"]:
                raise SweepError(f"model {r['key']} appears in two shards with different results")
            records[r["key"]] = r
        runs += [dict(run, shard=doc["settings"].get("shard"), merged_from=str(d)) for run in doc["runs"]]
    out = Path(out)
    doc = _open_sweep(out, dict(base, shard=None))
    doc["records"] = list(records.values())
    doc["runs"] = runs + [dict(runfiles.provenance(), merged=[str(d) for d in dirs])]
    path = out / "sweep.json"
    runfiles.write_atomic(path, doc)
    return path


def missing(doc: dict) -> list[str]:
    """Keys of the preset's models that the sweep file does not hold yet."""
    pr = preset(doc["settings"]["preset"])
    have = {r["key"] for r in doc["records"]}
    return [k for g in shard_groups(pr, parse_shard(doc["settings"].get("shard"))) for k in g.keys()
            if k not in have]


def summary(doc: dict) -> str:
    """One line: how many models, how much wall time."""
    n = len(doc["records"])
    wall = sum(r["wall_s"] for r in doc["records"])
    return (f"{n} models of preset {doc['settings']['preset']}, {len(missing(doc))} missing; "
            f"{wall / 60:.1f} min of training")


__all__ = ["Group", "Preset", "PRESETS", "SweepError", "load", "merge", "missing", "preset", "run",
           "seed_of", "shard_groups", "summary"]
