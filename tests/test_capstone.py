"""The capstone grader: rules, determinism, the baseline's score, and the reference solution's score."""

import math

import nbformat
import pytest
import torch

from utils import capstone, checks, data
from utils.paths import SOLUTIONS
from utils.train import TrainConfig, train

SMALL = dict(capstone.TASK, widths=(4, 8), steps=60, seeds=2, test_batch=2000)


# --------------------------------------------------------------------------- rules

@pytest.mark.parametrize("submission, words", [
    ({"steps": capstone.TASK["steps"] + 1}, "exceeds the step budget"),
    ({"batch": capstone.TASK["batch"] * 2}, "exceeds the batch budget"),
    ({"m": 40}, "cannot be set by a submission"),
    ({"widths": (5, 10, 40)}, "parameter budget"),
    ({"n": 100}, "cannot be set"),
    ({"seed": 3}, "grader's seeds"),
    ({"optimizer": "sgd"}, "unknown setting"),
    ({"lr": 0.0}, "lr must be a number in (0.0, 0.2]"),
    ({"lr": 1.0}, "lr must be"),
    ({"gamma": float("nan")}, "gamma must be"),
    ({"warmup": capstone.TASK["steps"]}, "warmup must be"),
    ({"warmup": 2.5}, "warmup must be"),
    ({"schedule": "step"}, "schedule must be"),
    ({"bias_init": "zeros"}, "bias_init must be"),
    ({"init_scale": 0}, "init_scale must be"),
    ({"curriculum_alpha": 9.0}, "curriculum_alpha must be"),
    ({"curriculum_steps": capstone.TASK["steps"] + 1}, "curriculum_steps must be"),
    ([("lr", 0.03)], "must be a dict"),
])
def test_invalid_submissions_are_rejected_with_the_rule(submission, words):
    with pytest.raises(AssertionError) as err:
        checks.score_capstone(submission)
    assert "submission rejected" in str(err.value) and words in str(err.value), str(err.value)


def test_a_function_submission_is_checked_at_every_width():
    with pytest.raises(AssertionError, match="for width m = 20"):
        checks.score_capstone(lambda m: {"batch": 1000} if m == 20 else {})
    with pytest.raises(AssertionError, match="not implemented yet"):
        checks.score_capstone(lambda m: (_ for _ in ()).throw(NotImplementedError()))
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        checks.score_capstone(lambda m: {"lr": 1 / 0})


def test_defaults_are_the_baseline():
    s = capstone.validate({})
    assert s["warmup"] == capstone.TASK["steps"] // 10
    assert s == capstone.validate(dict(capstone.BASELINE))
    assert capstone.validate({"steps": 500})["warmup"] == 50


# --------------------------------------------------------------------------- training

def test_the_baseline_trains_like_the_course_trainer():
    """With the baseline's settings the grader's trainer gives the models of utils.train.train."""
    task = dict(SMALL, widths=(4, 24))
    s = capstone.validate({}, None, task)
    W, b = capstone._train([s, s], [4, 24], [3, 4], task)
    p = data.power_law(task["n"], task["alpha"])
    for k, (m, seed) in enumerate([(4, 3), (24, 4)]):
        ref = train(p, -1.0, TrainConfig(n=task["n"], m=m, steps=task["steps"], batch=task["batch"],
                                         warmup=s["warmup"], seed=seed, progress=False))
        assert torch.allclose(ref.W[0], W[k][:, :m], atol=1e-5)
        assert torch.allclose(ref.b[0], b[k], atol=1e-5)
    assert W[0][:, 4:].abs().max() == 0  # padding stays zero


def test_evaluation_is_deterministic_and_settings_matter():
    sub = dict(lr=0.03, bias_init=0.0, warmup=5, schedule="linear", curriculum_alpha=0.5, curriculum_steps=30)
    first = capstone.evaluate(sub, seed=1, task=SMALL)
    second = capstone.evaluate(sub, seed=1, task=SMALL)
    assert first.losses == second.losses
    other = capstone.evaluate(dict(sub, lr=0.01), seed=1, task=SMALL)
    assert other.losses != first.losses
    assert capstone.evaluate(sub, seed=2, task=SMALL).seeds == [2000, 2001]


def test_a_smaller_batch_and_fewer_steps_are_allowed():
    ev = capstone.evaluate(lambda m: dict(batch=128, steps=40) if m == 4 else {}, seed=0, task=SMALL)
    assert all(math.isfinite(v) for losses in ev.losses.values() for v in losses)
    assert ev.settings[4]["batch"] == 128 and ev.settings[8]["steps"] == SMALL["steps"]


def test_schedules_and_curriculum():
    s = capstone.validate(dict(lr=0.1, warmup=10, final_lr_fraction=0.1, schedule="cosine", steps=110))
    assert capstone.learning_rate(9, s) == pytest.approx(0.1)
    assert capstone.learning_rate(0, s) == pytest.approx(0.01)
    assert capstone.learning_rate(109, s) == pytest.approx(0.01)
    assert capstone.learning_rate(109, dict(s, schedule="linear")) == pytest.approx(0.01)
    assert capstone.learning_rate(50, dict(s, schedule="constant")) == pytest.approx(0.1)
    c = capstone.validate(dict(curriculum_alpha=2.0, curriculum_steps=100))
    assert capstone.data_alpha(0, c) == 2.0
    assert capstone.data_alpha(50, c) == pytest.approx(1.5)
    assert capstone.data_alpha(100, c) == capstone.TASK["alpha"]


def test_the_task_and_the_baseline_cannot_be_changed_from_a_kernel():
    with pytest.raises(TypeError):
        capstone.TASK["steps"] = 10 ** 6
    with pytest.raises(TypeError):
        capstone.BASELINE["lr"] = 0.1
    assert capstone.validate({})["steps"] == 1000


# one test per option: each does what ALLOWED says, checked on the trained numbers themselves

ONE_STEP = dict(SMALL, widths=(6,))


def _init_draws(task, m, seed, scale=1.0):
    """The paper's initialisation, drawn here from the seed (W ~ N(0, 1/m) times scale, then b ~ N(0, 1))."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(task["n"], m, generator=g) / math.sqrt(m) * scale
    return W, torch.randn(task["n"], generator=g), g


def _first_step(settings, task=ONE_STEP, seed=7):
    s = capstone.validate(dict(settings, steps=1, warmup=0, final_lr_fraction=1.0, gamma=0.0), None, task)
    W, b = capstone._train([s], [task["widths"][0]], [seed], task)
    return s, W[0], b[0]


def test_batch_option_trains_on_the_first_rows_of_the_graders_batch():
    """One step at batch 8 moves W by exactly Adam's first step on the gradient of those 8 samples,
    computed here with autograd from the drawn batch."""
    task, m, seed = ONE_STEP, ONE_STEP["widths"][0], 7
    s, W1, b1 = _first_step(dict(batch=8, lr=0.01), task, seed)
    W0, b0, g = _init_draws(task, m, seed)
    p = data.power_law(task["n"], task["alpha"], task["E"])
    x = data.sample_sparse_many(p[None], task["batch"], [g])[0].to_dense()[:8]
    W0.requires_grad_(True)
    b0.requires_grad_(True)
    loss = ((torch.relu(x @ W0 @ W0.T + b0) - x) ** 2).mean()
    gW, gb = torch.autograd.grad(loss, [W0, b0])
    # Adam's first bias-corrected step is lr * g / (|g| + eps)
    assert torch.allclose(W1, W0.detach() - 0.01 * gW / (gW.abs() + 1e-8), atol=1e-6)
    assert torch.allclose(b1, b0.detach() - 0.01 * gb / (gb.abs() + 1e-8), atol=1e-6)
    _, W_full, _ = _first_step(dict(lr=0.01), task, seed)
    assert not torch.allclose(W_full, W1, atol=1e-4)  # the full batch is another gradient


def test_bias_init_and_init_scale_set_the_starting_point():
    task, m, seed = ONE_STEP, ONE_STEP["widths"][0], 3
    lr = 1e-9  # one step this small leaves the starting point visible to 1e-8
    _, W, b = _first_step(dict(lr=lr, bias_init=0.5, init_scale=2.0), task, seed)
    W0, _, _ = _init_draws(task, m, seed, scale=2.0)
    assert torch.allclose(b, torch.full_like(b, 0.5), atol=1e-7)
    assert torch.allclose(W, W0, atol=1e-7)


def test_schedule_option_is_the_learning_rate_the_models_get():
    """With a linear schedule down to 0 the second of two steps has learning rate 0: the model ends where
    one step at the peak rate leaves it; with a constant schedule it moves on."""
    task = dict(SMALL, widths=(6,))
    two = dict(steps=2, warmup=1, final_lr_fraction=0.0, gamma=0.0)  # step 0 is the warm-up's: lr = peak
    lin = capstone._train([capstone.validate(dict(two, schedule="linear"), None, task)], [6], [5], task)
    const = capstone._train([capstone.validate(dict(two, schedule="constant"), None, task)], [6], [5], task)
    one = capstone._train([capstone.validate(dict(steps=1, warmup=0, final_lr_fraction=1.0, gamma=0.0),
                                             None, task)], [6], [5], task)
    assert torch.equal(lin[0], one[0]) and torch.equal(lin[1], one[1])
    assert not torch.allclose(const[0], lin[0], atol=1e-5)


def test_curriculum_option_changes_the_data_law_step_by_step(monkeypatch):
    """The laws the trainer asks for: alpha = 0 at step 0, moving linearly to the task's 1 at step 10."""
    asked = []
    real = capstone.power_law

    def spy(n, alpha, E=1.0):
        asked.append(alpha)
        return real(n, alpha, E)

    monkeypatch.setattr(capstone, "power_law", spy)
    task = dict(SMALL, widths=(6,), steps=20)
    s = capstone.validate(dict(curriculum_alpha=0.0, curriculum_steps=10), None, task)
    capstone._train([s], [6], [1], task)
    during = asked[asked.index(0.0):]  # the laws asked for once training starts (each law is asked once)
    assert during == [round(0.1 * k, 4) for k in range(10)]
    assert sorted(set(asked)) == [round(0.1 * k, 4) for k in range(11)]


# --------------------------------------------------------------------------- scoring

def _evaluation(losses: dict) -> capstone.Evaluation:
    return capstone.Evaluation(losses={m: [v] for m, v in losses.items()}, settings={}, seeds=[0],
                               task=dict(capstone.TASK))


def test_score_points():
    base = _evaluation({5: 8e-3, 10: 4e-3, 20: 2e-3})  # exactly 1/m
    assert capstone.score(base, base).total == 0.0
    half = capstone.score(_evaluation({5: 4e-3, 10: 2e-3, 20: 1e-3}), base)
    assert half.parts == {"improvement": 30.0, "beats_reference": 20.0, "exponent": 0.0}
    quarter = capstone.score(_evaluation({5: 2e-3, 10: 1e-3, 20: 5e-4}), base)
    assert quarter.parts["improvement"] == 60.0
    steeper = capstone.score(_evaluation({5: 8e-3, 10: 8e-3 / 2 ** 1.25, 20: 8e-3 / 4 ** 1.25}), base)
    assert steeper.exponent == pytest.approx(1.25)
    assert steeper.parts["exponent"] == pytest.approx(10.0)
    worse = capstone.score(_evaluation({5: 1.6e-2, 10: 8e-3, 20: 4e-3}), base)
    assert worse.total == 0.0
    assert "Capstone score" in half.report and "1/m reference" in half.report


def test_the_baseline_scores_zero_and_pass_marks_raise():
    result = checks.score_capstone(capstone.BASELINE, quiet=True)
    assert result.total == 0.0 and result.ratio == pytest.approx(1.0)
    assert result.baseline_exponent < 1.0  # the recipe falls more slowly than 1/m at this budget
    with pytest.raises(AssertionError, match="below the pass mark"):
        checks.score_capstone({}, pass_mark=10, quiet=True)


def _reference_submission():
    nb = nbformat.read(SOLUTIONS / "09_capstone.ipynb", as_version=4)
    source = next(c.source for c in nb.cells if c.cell_type == "code" and "def make_submission" in c.source)
    namespace = {}
    exec(source, namespace)
    return namespace["make_submission"]


@pytest.mark.slow
def test_the_reference_solution_scores_what_its_notebook_says():
    """solutions/09_capstone.ipynb says its submission scores a little over 70 of 100 on the default seeds."""
    make_submission = _reference_submission()
    first = checks.score_capstone(make_submission, quiet=True)
    assert 70 <= first.total < 80, first.report
    assert first.parts["beats_reference"] == 20.0
    again = checks.score_capstone(make_submission, quiet=True)  # same submission, same score
    assert again.total == first.total and again.losses == first.losses
