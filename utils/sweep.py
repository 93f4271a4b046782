"""`python -m utils sweep`: train a grid of toy models, resumably, and keep one record per model.

A preset names a grid of models over (distribution, E, gamma, alpha, m). A
*group* is the models that differ only in gamma; groups of the same width and
step count are trained together as one stack by `utils.train` (up to
MAX_STACK models), and their records are written when the stack finishes, so
a killed sweep loses at most the stack in progress. Every write replaces
DIR/sweep.json atomically (write a temporary file, then rename), so the file
is always either the old or the new version.

Each record holds the model's settings and what was measured after training:
- final_loss: the loss on a fresh batch of the preset's eval_batch samples
  (20,000, or 200,000 for the paper-length presets) that training never saw
  (MSELoss units: mean over the batch and the n features), with its standard
  error final_loss_se;
- train_loss: the mean logged training loss over the last 10% of steps;
- unrepresented_loss: the weak-regime prediction, (1/n) * sum over rows with
  norm <= 1/2 of p_i * E[u^2], in the same units;
- phi_half (norm > 1/2), phi_one (norm > 1, the paper's phi_1), phi_band
  (|norm - 1| <= 0.1, the course's own), and the overlap statistics of
  `metrics.overlap_stats` (n_strong, msq_strong, var_strong, msq_all,
  msq_represented); row_norms (3 decimals), a 20-point training-loss curve, and
  wall_s, the model's share of its stack's wall time.
A preset with save_weights also keeps every model's W and b (float16) in
DIR/weights.npz, under the model's key.

Files written before these statistics existed (data/sweep-course) are read
with `load`, which derives phi_one and phi_band from the stored row norms and
names the old `mean_square_overlap` msq_represented; statistics that need W
(msq_strong, var_strong, msq_all) are absent from them.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
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
    rep: int = 0  # replica: the same models again with other seeds (0: the first)

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
    key = (f"{group.distribution}|alpha={group.alpha}|scale={group.scale}|s={group.s:g}"
           f"|gamma={gamma:.6f}|m={group.m}|steps={group.steps}")
    return key + (f"|rep={group.rep}" if group.rep else "")


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
    eval_batch: int = EVAL_BATCH
    save_weights: bool = False

    def settings(self) -> dict:
        """What every model of the preset shares. The grid's extent is not part of it, so a
        preset that grows keeps the models already trained and trains only the new ones."""
        return dict(preset=self.name, n=self.n, batch=self.batch, lr=self.lr,
                    warmup_fraction=self.warmup_fraction, seed=self.seed, eval_batch=self.eval_batch)

    def model_steps(self, groups=None) -> int:
        return sum(len(g.gammas) * g.steps for g in (self.groups if groups is None else groups))


def _grid(widths, steps, gammas, alphas, part="grid", **kw) -> list[Group]:
    return [Group("power", m, steps, tuple(gammas), alpha=a, part=part, **kw) for a in alphas for m in widths]


PAPER_STEPS = 20_000
PAPER_EVAL_BATCH = 200_000  # the paper averages its last 100 training batches: about 2 x 10^5 samples
PAPER_GAMMAS = tuple(round(g, 6) for g in torch.linspace(-1, 1, 10).tolist())


def paper_alphas() -> list[float]:
    """The paper's 17 alphas, 1 + a for a in linspace(-1, 0, 9) and linspace(0, 1, 9), in running order:
    every other one first (0, 0.25, ..., 2: the half-grid that already draws every figure), led by
    alpha = 1 and the steep 2 and 1.5; then the other eight."""
    a = sorted(set(round(1 + v, 6) for v in torch.linspace(-1, 0, 9).tolist() + torch.linspace(0, 1, 9).tolist()))
    lead = [1.0, 2.0, 1.5, 0.5, 0.0, 1.25, 1.75, 0.75, 0.25]
    return lead + [v for v in a if v not in lead]


#: `--shard K/17` of the paper preset is exactly one alpha (the K-th of `paper_alphas()`) at all widths
PAPER_SHARDS = 17


def _paper() -> Preset:
    # width-major, alpha-minor: group i has alpha number i % 17, so shard K/17 is one alpha
    groups = [Group("power", m, PAPER_STEPS, PAPER_GAMMAS, alpha=a) for m in PAPER_WIDTHS for a in paper_alphas()]
    return Preset("paper", "the paper's grid exactly: n=1000, batch 2048, 20,000 steps, 10 gammas in "
                  "[-1, 1], 17 alphas in [0, 2], widths 10..100 (1,020 models, 20.4 M model-steps; "
                  "about 20 hours on 2 CPU cores, so for a GPU or a long run: it resumes); losses on "
                  "200,000 fresh samples; --shard K/17 is one alpha (scripts/paper_grid.sh runs them "
                  "in order)", n=1000, batch=2048, groups=tuple(groups), eval_batch=PAPER_EVAL_BATCH)


SETTLE_GAMMAS = (-1.0, -0.777778)  # the paper's two most negative gammas


def _settle() -> Preset:
    groups = [Group("power", m, PAPER_STEPS, SETTLE_GAMMAS, alpha=1.0, part="settle", rep=r)
              for m in PAPER_WIDTHS for r in (0, 1)]
    return Preset("settle", "the strong regime at the paper's exact settings, weights kept: alpha = 1, "
                  "gamma in {-1, -0.78}, the six widths, two seeds, 20,000 steps, batch 2048, "
                  "n=1000; W and b in DIR/weights.npz (24 models, about 40 minutes on 2 cores)",
                  n=1000, batch=2048, groups=tuple(groups), eval_batch=PAPER_EVAL_BATCH, save_weights=True)


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
                  f"(about 84 minutes on 2 cores)", n=1000, batch=2048, groups=tuple(groups))


def _quick() -> Preset:
    W, S, pm = (5, 8, 12, 20), 1500, (-1.0, 1.0)
    groups = _grid(W, S, pm, (0.5, 1.0, 1.5))
    groups += [Group("exponential", m, S, pm, scale=20.0, part="shapes") for m in W]
    groups += [Group("linear", m, S, pm, part="shapes") for m in W]
    groups += _grid(W, S, pm, (1.0,), part="density", s=1.0)
    return Preset("quick", "the smallest grid that shows every regime: n=200, batch 512, 1,500 steps, "
                  "gamma = +-1, alpha in {0.5,1,1.5}, widths 5..20, both other shapes and the highest "
                  "density (about a minute on 2 cores)", n=200, batch=512, groups=tuple(groups))


PRESETS = {"quick": _quick, "course": _course, "settle": _settle, "paper": _paper}


def preset(name: str) -> Preset:
    """The preset called `name` (quick, course, settle or paper)."""
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
    """Read a sweep.json (or the sweep.json inside a directory), refusing anything else.

    A directory without its own sweep.json but with shard directories (DIR/shard-*/sweep.json, as
    scripts/paper_grid.sh writes them) is read as their merge. Records of files older than the
    paper's statistics are completed from their row norms (see the module's docstring).
    """
    path = Path(path)
    shards = sorted(path.glob("shard-*/sweep.json")) if path.is_dir() and not (path / "sweep.json").exists() else []
    if shards:
        doc = _merged([_read(s) for s in shards], [str(s.parent) for s in shards])
    else:
        doc = _read(path)
    for r in doc["records"]:
        _complete(r)
    return doc


def _read(path) -> dict:
    return runfiles.read(path, "sweep.json", FORMAT, VERSION, SweepError, "a sweep", "python -m utils sweep")


def _complete(r: dict) -> None:
    """Give a record of an older file the statistics that its row norms determine (in place)."""
    if "phi_band" not in r and "row_norms" in r:
        v = torch.tensor(r["row_norms"])
        r["phi_band"] = r["phi_one"]  # older files called the band statistic phi_one
        r["phi_one"] = float((v > metrics.STRONG).float().mean())
    if "msq_represented" not in r and "mean_square_overlap" in r:
        r["msq_represented"] = r.pop("mean_square_overlap")


def load_weights(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The kept weights of a save_weights sweep: {model key: (W (n, m), b (n,))} as float32 arrays."""
    path = Path(path)
    path = path / "weights.npz" if path.is_dir() else path
    if not path.exists():
        raise SweepError(f"{path} does not exist; run `python -m utils sweep --preset settle` first")
    with np.load(path) as z:
        keys = sorted({k[:-2] for k in z.files})
        return {k: (z[k + "|W"].astype(np.float32), z[k + "|b"].astype(np.float32)) for k in keys}


def _save_weights(path: Path, result, keys: list[str]) -> None:
    """Add the stack's W and b (float16) to the npz at `path`, replacing it in one rename."""
    arrays = {}
    if path.exists():
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
    for k, key in enumerate(keys):
        arrays[key + "|W"] = result.W[k].numpy().astype(np.float16)
        arrays[key + "|b"] = result.b[k].numpy().astype(np.float16)
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


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
        per_sample = _eval_losses(W, b, p, gen, pr.eval_batch)
        losses = result.losses[k]
        tail = losses[-max(1, losses.numel() // 10):]
        curve = [float(c.mean()) for c in losses.chunk(20)]
        recs.append(dict(
            key=model_key(group, gamma), part=group.part, distribution=group.distribution,
            alpha=group.alpha, scale=group.scale, s=group.s, E=round(float(p.sum()), 6), gamma=gamma,
            m=group.m, n=n, batch=pr.batch, steps=group.steps, seed=result.seeds[k],
            final_loss=float(per_sample.mean()), final_loss_se=float(per_sample.std() / math.sqrt(per_sample.numel())),
            train_loss=float(tail.mean()), unrepresented_loss=metrics.unrepresented_loss(W, p),
            phi_half=float(metrics.phi_half(W)), phi_one=float(metrics.phi_one(W)),
            phi_band=float(metrics.phi_band(W)), **metrics.overlap_stats(W),
            row_norms=[round(v, 3) for v in metrics.row_norms(W).tolist()],
            loss_curve=curve, wall_s=round(wall, 3)))
    return recs


@torch.no_grad()
def _eval_losses(W, b, p, gen, count: int = EVAL_BATCH) -> torch.Tensor:
    """Per-sample losses (mean over features) on `count` fresh samples, in chunks of 5,000."""
    out = [metrics.sample_losses(W, b, p, 5000, gen) for _ in range(count // 5000)]
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
        progress: bool | None = None, argv=None, stop_after: int | None = None, allow_dirty: bool = False) -> Path:
    """Train every model of the preset (or of one shard) not yet in out/sweep.json; return the file.

    Writing into data/ from a utils/ that differs from its commit is refused unless allow_dirty
    (runfiles.provenance says why; the provenance records it).

    Groups of the same width and step count are trained together (see `stacks`); the records of a
    stack are written when it finishes. stop_after: stop after this many stacks (for tests of resuming).
    """
    pr = preset(name)
    sh = parse_shard(shard)
    out = Path(out) if out is not None else default_dir(name)
    run_info = runfiles.provenance(argv, out=out, allow_dirty=allow_dirty, error=SweepError)
    settings = _settings(pr, sh)
    doc = _open_sweep(out, settings)
    path = out / "sweep.json"
    done = {r["key"] for r in doc["records"]}
    todo = [g for g in shard_groups(pr, sh) if not set(g.keys()) <= done]
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
        if pr.save_weights:
            _save_weights(out / "weights.npz", result, [k for g in stack for k in g.keys()])
        doc["records"] = [r for r in doc["records"] if r["key"] not in keep] + recs
        groups_done += len(stack)
        run_info["wall_s"] = round(time.time() - t_run, 1)
        run_info["groups_done"] = groups_done
        runfiles.write_atomic(path, doc)
    if bar is not None:
        bar.close()
    return path


def merge(out: str | Path, dirs: list[str | Path], argv=None, allow_dirty: bool = False) -> Path:
    """Combine the sweep.json of several shards of one preset into out/sweep.json (refused like `run`
    when it would write into data/ from a modified utils/, unless allow_dirty)."""
    if not dirs:
        raise SweepError("merge needs at least one shard directory")
    merged = _merged([_read(d) for d in dirs], [str(d) for d in dirs])
    out = Path(out)
    run_info = runfiles.provenance(argv, out=out, allow_dirty=allow_dirty, error=SweepError)
    doc = _open_sweep(out, merged["settings"])
    doc["records"] = merged["records"]
    doc["runs"] = merged["runs"] + [dict(run_info, merged=[str(d) for d in dirs])]
    path = out / "sweep.json"
    runfiles.write_atomic(path, doc)
    return path


def _merged(docs: list[dict], names: list[str]) -> dict:
    """One document holding the records of several shards of one preset (refusing mixed settings)."""
    base = {k: v for k, v in docs[0]["settings"].items() if k != "shard"}
    records, runs = {}, []
    for name, doc in zip(names, docs):
        other = {k: v for k, v in doc["settings"].items() if k != "shard"}
        if other != base:
            raise SweepError(f"{name} is a sweep with other settings than {names[0]} "
                             f"({other.get('preset')} vs {base.get('preset')}); refusing to merge")
        for r in doc["records"]:
            if r["key"] in records and records[r["key"]]["final_loss"] != r["final_loss"]:
                raise SweepError(f"model {r['key']} appears in two shards with different results")
            records[r["key"]] = r
        runs += [dict(run, shard=doc["settings"].get("shard"), merged_from=name) for run in doc["runs"]]
    return dict(format=FORMAT, version=VERSION, settings=dict(base, shard=None), runs=runs,
                records=list(records.values()))


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


__all__ = ["Group", "Preset", "PRESETS", "SweepError", "load", "load_weights", "merge", "missing", "preset", "run",
           "seed_of", "shard_groups", "summary"]
