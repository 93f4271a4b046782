"""The capstone: beat the paper's training recipe at fixed widths and a fixed budget, scored reproducibly.

The task is fixed (`TASK`): n features with a power-law frequency, a few small
widths m, a step budget and a batch size. A *submission* chooses how to train
within that budget: a dict of settings (see `ALLOWED`), or a function of the
width m returning such a dict. `evaluate` trains every width with the grader's
seeds, measures each model's loss on one fixed fresh batch, and `score` turns
the losses into points against the baseline (the paper's recipe under the same
budget) and the 1/m reference curve. `utils.checks.score_capstone` prints the
report.

Everything is seeded: the same submission always gets the same score on the
same machine. Widths, the number of features, the data law, the step budget and
the batch are not the submission's to change; a submission that asks for more
is rejected with a message naming the limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from collections.abc import Mapping
from types import MappingProxyType

import torch

from .data import U_SQUARE_MEAN, power_law, sample_dense, sample_sparse_many
from .fits import fit_power_law
from .models import forward

#: the fixed task: what every submission is trained and measured on (read-only, so that a learner's
#: kernel cannot change what the grader trains; a changed copy, dict(TASK, ...), is for the tests)
TASK = MappingProxyType(dict(n=200, alpha=1.0, E=1.0, widths=(5, 10, 20), steps=1000, batch=256, seeds=3,
                             test_batch=20_000))

#: the paper's recipe, shrunk to the budget: the baseline every submission is compared with
#: (warmup None: a tenth of the steps, as the paper's 2,000 of 20,000)
BASELINE = MappingProxyType(dict(gamma=-1.0, lr=1e-2, warmup=None, final_lr_fraction=0.05, schedule="cosine",
                                 bias_init="normal", init_scale=1.0, curriculum_alpha=None, curriculum_steps=0))

#: what a submission may set, with the allowed range (defaults: the baseline)
ALLOWED = {
    "gamma": "signed weight decay, a number in [-2, 2] (negative: rows pulled to unit norm)",
    "lr": "peak learning rate, in (0, 0.2]",
    "warmup": "linear warm-up length, an integer number of steps in [0, steps) (default: a tenth of the steps)",
    "final_lr_fraction": "last learning rate as a fraction of the peak, in [0, 1]",
    "schedule": "shape after the warm-up: 'cosine', 'linear' or 'constant'",
    "bias_init": "'normal' (the paper's N(0, 1)) or a number in [-3, 3] for every b_i",
    "init_scale": "multiplies the paper's W ~ N(0, 1/m), in (0, 4]",
    "curriculum_alpha": "None, or a data exponent in [0, 4] to start from (data order)",
    "curriculum_steps": "steps over which the data exponent moves linearly from curriculum_alpha to the "
                        "task's alpha, an integer in [0, steps]",
    "steps": "may be given, but not above the budget",
    "batch": "may be given, but not above the budget",
}

#: how the 100 points are shared
POINTS = dict(improvement=60, beats_reference=20, exponent=20)
#: full improvement points for a loss this many times below the baseline's (geometric mean over widths)
FULL_RATIO = 4.0
#: full exponent points for an alpha_m this much above the baseline's
FULL_EXPONENT_GAIN = 0.5


class SubmissionError(ValueError):
    """A submission that breaks the rules or asks for an impossible setting."""


def _fail(message: str):
    raise SubmissionError(message)


def validate(settings: dict, m: int | None = None, task: dict = TASK) -> dict:
    """The full settings (baseline defaults filled in) of one submission, or SubmissionError saying what is wrong."""
    where = f" (for width m = {m})" if m is not None else ""
    if not isinstance(settings, Mapping):
        _fail(f"a submission must be a dict of settings or a function of m returning one{where}; "
              f"got {type(settings).__name__}")
    fixed = {"m": "widths", "width": "widths", "widths": "widths", "n": "n", "alpha": "alpha", "E": "E",
             "seed": "seeds", "seeds": "seeds", "test_batch": "test_batch"}
    for key, name in fixed.items():
        if key in settings:
            _fail(f"'{key}' cannot be set by a submission{where}: the task fixes {name} = {task[name]}. The widths "
                  "(so the parameter budget n m + n), the data and the grader's seeds are the same for everyone")
    unknown = sorted(set(settings) - set(ALLOWED))
    if unknown:
        _fail(f"unknown setting(s) {unknown}{where}; a submission may set: {sorted(ALLOWED)}")
    s = dict(BASELINE, steps=task["steps"], batch=task["batch"])
    s.update(settings)
    steps = s["steps"]
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        _fail(f"steps must be a positive integer{where}, got {steps!r}")
    if steps > task["steps"]:
        _fail(f"steps = {steps} exceeds the step budget of {task['steps']}{where}")
    batch = s["batch"]
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        _fail(f"batch must be a positive integer{where}, got {batch!r}")
    if batch > task["batch"]:
        _fail(f"batch = {batch} exceeds the batch budget of {task['batch']} samples per step{where}")
    _number(s, "gamma", -2.0, 2.0, where)
    _number(s, "lr", 0.0, 0.2, where, low_open=True)
    _number(s, "final_lr_fraction", 0.0, 1.0, where)
    _number(s, "init_scale", 0.0, 4.0, where, low_open=True)
    if s["warmup"] is None:
        s["warmup"] = steps // 10
    w = s["warmup"]
    if not isinstance(w, int) or isinstance(w, bool) or not 0 <= w < steps:
        _fail(f"warmup must be an integer number of steps in [0, {steps}){where}, got {w!r}")
    if s["schedule"] not in ("cosine", "linear", "constant"):
        _fail(f"schedule must be 'cosine', 'linear' or 'constant'{where}, got {s['schedule']!r}")
    if s["bias_init"] != "normal":
        _number(s, "bias_init", -3.0, 3.0, where)
    if s["curriculum_alpha"] is not None:
        _number(s, "curriculum_alpha", 0.0, 4.0, where)
    c = s["curriculum_steps"]
    if not isinstance(c, int) or isinstance(c, bool) or not 0 <= c <= steps:
        _fail(f"curriculum_steps must be an integer in [0, {steps}]{where}, got {c!r}")
    return s


def _number(s: dict, key: str, low: float, high: float, where: str, low_open: bool = False) -> None:
    v = s[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or v < low or v > high or (low_open and v == low):
        _fail(f"{key} must be a number in {'(' if low_open else '['}{low}, {high}]{where}, got {v!r}")
    s[key] = float(v)


def settings_for(submission, m: int, task: dict = TASK) -> dict:
    """The validated settings a submission uses at width m (it may be a dict, or a function of m)."""
    if callable(submission) and not isinstance(submission, dict):
        try:
            chosen = submission(m)
        except SubmissionError:
            raise
        except Exception as exc:
            _fail(f"the submission function raised {type(exc).__name__} for m = {m}: {exc}")
        return validate(chosen, m, task)
    return validate(submission, None, task)


def learning_rate(step: int, s: dict) -> float:
    """Learning rate at 0-based `step` for settings s: linear warm-up, then the chosen shape down to the last value."""
    steps, peak, warm = s["steps"], s["lr"], s["warmup"]
    low = s["final_lr_fraction"] * peak
    k = step + 1
    if k <= warm:
        return peak * k / warm
    if s["schedule"] == "constant":
        return peak
    t = (k - warm) / max(steps - warm, 1)
    if s["schedule"] == "linear":
        return peak + (low - peak) * t
    return low + (peak - low) * 0.5 * (1 + math.cos(math.pi * t))


def data_alpha(step: int, s: dict, task: dict = TASK) -> float:
    """The data exponent used at `step`: the curriculum's start value moving linearly to the task's alpha."""
    if s["curriculum_alpha"] is None or s["curriculum_steps"] == 0 or step >= s["curriculum_steps"]:
        return task["alpha"]
    t = step / s["curriculum_steps"]
    return s["curriculum_alpha"] + (task["alpha"] - s["curriculum_alpha"]) * t


@dataclass
class Evaluation:
    """Test losses of one submission: losses[m] lists one loss per grader seed."""

    losses: dict
    settings: dict
    seeds: list
    task: dict = field(default_factory=lambda: dict(TASK))

    def mean(self) -> dict:
        """Mean test loss over the seeds, per width."""
        return {m: sum(v) / len(v) for m, v in self.losses.items()}


def grader_seeds(seed: int = 0, task: dict = TASK) -> list[int]:
    """The training seeds the grader uses for a grading seed: one per repetition."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return [1000 * seed + k for k in range(task["seeds"])]


def evaluate(submission, seed: int = 0, task: dict = TASK) -> Evaluation:
    """Train the submission at every width with the grader's seeds; measure each model on one fixed fresh batch."""
    widths = list(task["widths"])
    settings = {m: settings_for(submission, m, task) for m in widths}
    seeds = grader_seeds(seed, task)
    models = [(m, sd) for m in widths for sd in seeds]
    W, b = _train([settings[m] for m, _ in models], [m for m, _ in models], [sd for _, sd in models], task)
    p = power_law(task["n"], task["alpha"], task["E"])
    x = sample_dense(p, task["test_batch"], torch.Generator().manual_seed(10_000 + seed))
    losses = {m: [] for m in widths}
    with torch.no_grad():
        for k, (m, _) in enumerate(models):
            losses[m].append(((forward(W[k][:, :m], b[k], x) - x) ** 2).mean().item())
    return Evaluation(losses=losses, settings=settings, seeds=seeds, task=dict(task))


def _train(settings: list, widths: list, seeds: list, task: dict):
    """K models (padded to the largest width) trained at once by `utils.train.train`, each with its own settings.

    Per model: its initialisation (init_scale, bias_init), its learning rate (schedule, warm-up,
    steps: 0 once its steps are done), its data (curriculum, batch) and gamma. With the baseline's
    settings it trains the same models as `utils.train.train` with the paper's schedule.
    """
    from .train import TrainConfig, train

    n, steps = task["n"], max(s["steps"] for s in settings)

    def init(k: int, g: torch.Generator):
        s, m = settings[k], widths[k]
        W = torch.randn(n, m, generator=g) / math.sqrt(m) * s["init_scale"]
        b = torch.randn(n, generator=g)  # drawn in every case, so the data stream does not depend on the choice
        return W, (b if s["bias_init"] == "normal" else torch.full((n,), float(s["bias_init"])))

    def lr(step: int) -> torch.Tensor:  # a model past its own number of steps gets 0: it no longer moves
        return torch.tensor([learning_rate(step, s) if step < s["steps"] else 0.0 for s in settings])

    data = _Batches(settings, task)
    cfg = TrainConfig(n=n, m=max(widths), steps=steps, batch=task["batch"], log_every=steps, progress=False)
    res = train(data.law(task["alpha"]), [s["gamma"] for s in settings], cfg, seeds=seeds, widths=widths,
                data=data, lr=lr, init=init)
    return res.W, res.b


class _Batches:
    """Each step's batches: a full batch from the model's data law at that step (the curriculum), of
    which the model keeps its first `batch` rows; nothing (an empty batch) once its steps are done."""

    def __init__(self, settings: list, task: dict):
        self.settings, self.task, self.laws = settings, task, {}

    def law(self, alpha: float) -> torch.Tensor:
        if alpha not in self.laws:
            self.laws[alpha] = power_law(self.task["n"], alpha, self.task["E"])
        return self.laws[alpha]

    def __call__(self, step: int, models: range, gens: list) -> list:
        from .data import SparseBatch

        s = self.settings
        active = [j for j, k in enumerate(models) if step < s[k]["steps"]]
        P = [self.law(round(data_alpha(step, s[models[j]], self.task), 4)) for j in active]
        drawn = dict(zip(active, sample_sparse_many(torch.stack(P), self.task["batch"], [gens[j] for j in active]))) \
            if active else {}
        none = torch.zeros(0, dtype=torch.long)
        return [_prefix(drawn[j], s[k]["batch"]) if j in drawn else
                SparseBatch(rows=none, cols=none, values=torch.zeros(0), batch=s[k]["batch"], n=self.task["n"])
                for j, k in enumerate(models)]


def _prefix(sb, size: int):
    """The first `size` rows of a sparse batch."""
    if size >= sb.batch:
        return sb
    from .data import SparseBatch

    keep = sb.rows < size
    return SparseBatch(rows=sb.rows[keep], cols=sb.cols[keep], values=sb.values[keep], batch=size, n=sb.n)


_BASELINE_CACHE: dict = {}


def baseline(seed: int = 0, task: dict = TASK) -> Evaluation:
    """The baseline's evaluation (computed once per grading seed and task, then reused)."""
    key = (seed, tuple(sorted((k, v if not isinstance(v, list) else tuple(v)) for k, v in task.items())))
    if key not in _BASELINE_CACHE:
        _BASELINE_CACHE[key] = evaluate(dict(BASELINE), seed, task)
    return _BASELINE_CACHE[key]


@dataclass
class Score:
    """Points of a submission, with what was measured and why."""

    total: float
    parts: dict
    losses: dict
    baseline: dict
    reference: dict
    exponent: float
    baseline_exponent: float
    ratio: float
    report: str


def score(result: Evaluation, base: Evaluation) -> Score:
    """Points out of 100 for `result` against the baseline `base` (same task and seed).

    - improvement (60): the geometric mean over widths of baseline loss / your loss; 1 (no gain)
      scores 0 and FULL_RATIO = 4 or more (a quarter of the loss) scores 60, linear in log between;
    - beats_reference (20): a share for every width where your loss is below the 1/m curve
      through the baseline's loss at the smallest width;
    - exponent (20): your fitted alpha_m (loss ~ m^-alpha_m across the widths) against the
      baseline's: 0 at or below the baseline's exponent, 20 at FULL_EXPONENT_GAIN = 0.5 above it,
      linear between.
    """
    widths = list(result.task["widths"])
    mine, theirs = result.mean(), base.mean()
    m0 = widths[0]
    reference = {m: theirs[m0] * m0 / m for m in widths}
    ratio = math.exp(sum(math.log(theirs[m] / mine[m]) for m in widths) / len(widths))
    improvement = POINTS["improvement"] * min(max(math.log(ratio) / math.log(FULL_RATIO), 0.0), 1.0)
    below = [m for m in widths if mine[m] < reference[m]]
    beats = POINTS["beats_reference"] * len(below) / len(widths)
    a_mine = fit_power_law(widths, [mine[m] for m in widths]).exponent
    a_base = fit_power_law(widths, [theirs[m] for m in widths]).exponent
    expo = POINTS["exponent"] * min(max((a_mine - a_base) / FULL_EXPONENT_GAIN, 0.0), 1.0)
    parts = dict(improvement=round(improvement, 1), beats_reference=round(beats, 1), exponent=round(expo, 1))
    total = round(sum(parts.values()), 1)
    n = result.task["n"]
    lines = [
        f"Capstone score: {total:.1f} / 100",
        f"Task: n = {n} features, power law alpha = {result.task['alpha']}, widths m = {widths}, "
        f"{result.task['steps']} steps of {result.task['batch']} samples, grader seeds {result.seeds}.",
        "Measured: each model's loss (MSE, mean over features) on one fixed fresh batch of "
        f"{result.task['test_batch']:,} samples, averaged over the seeds.",
        "",
        "   m   your loss   baseline   1/m reference   you / baseline",
    ]
    for m in widths:
        lines.append(f"{m:4d}   {mine[m]:.3e}   {theirs[m]:.3e}   {reference[m]:.3e}       {mine[m] / theirs[m]:.3f}")
    lines += [
        "",
        f"improvement     {parts['improvement']:5.1f} / {POINTS['improvement']}: your loss is {1 / ratio:.3f} times "
        f"the baseline's (geometric mean over widths); a quarter of the baseline's loss earns full points",
        f"1/m reference   {parts['beats_reference']:5.1f} / {POINTS['beats_reference']}: below the 1/m curve "
        f"through the baseline's m = {m0} loss at {len(below)} of {len(widths)} widths {below}",
        f"exponent        {parts['exponent']:5.1f} / {POINTS['exponent']}: your alpha_m = {a_mine:.2f}, the "
        f"baseline's {a_base:.2f}; 0.5 above the baseline's earns full points",
    ]
    return Score(total=total, parts=parts, losses=mine, baseline=theirs, reference=reference, exponent=a_mine,
                 baseline_exponent=a_base, ratio=ratio, report="\n".join(lines))


def zero_output_loss(task: dict = TASK) -> float:
    """The loss of a model that always answers 0: E E[u^2] / n (a sanity scale for the scores)."""
    return task["E"] * U_SQUARE_MEAN / task["n"]
