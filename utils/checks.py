"""Self-checks for the exercises, and the data-level fingerprint check of figures.

A self-check calls the learner's function on fresh inputs, compares it with
the course's reference, prints a pass message, or raises AssertionError with
an explanation of the likely mistake. Raising (rather than printing) is what
lets nbgrader's autograde score the same cell.

A figure's fingerprint records what it shows, not its pixels: axis labels,
scales and limits, and for every line, point set and image the number of
points and rounded summaries of the plotted data. `check_figure` compares a
figure with the expectation stored in tests/fingerprints/. It raises when
COURSE_STRICT_FIGURES=1 (set by `make test`, `make book` and CI) and only
warns elsewhere, so a learner on another platform is never stopped by a
rounding difference. COURSE_UPDATE_FINGERPRINTS=1 rewrites the expectation
instead (`make fingerprints`): updating is always explicit.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from typing import Callable

import numpy as np
import torch

from . import data, metrics, models, optim
from .paths import ROOT

FINGERPRINTS = ROOT / "tests" / "fingerprints"
RTOL = 0.02  # relative tolerance on every plotted summary (a 5% shift fails)


# ----------------------------------------------------------------------------- fingerprints

def _summary(values) -> dict:
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"count": 0}
    return {"count": int(v.size), "mean": float(v.mean()), "min": float(v.min()), "max": float(v.max()),
            "first": float(v[0]), "last": float(v[-1]), "std": float(v.std())}


def fingerprint(fig) -> dict:
    """What a figure shows, as plain data: per axes, labels, scales, limits and data summaries."""
    axes = []
    for ax in fig.axes:
        entry = {
            "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(), "title": ax.get_title(),
            "xscale": ax.get_xscale(), "yscale": ax.get_yscale(),
            "xlim": [float(v) for v in ax.get_xlim()], "ylim": [float(v) for v in ax.get_ylim()],
            "lines": [{"x": _summary(l.get_xdata()), "y": _summary(l.get_ydata())} for l in ax.get_lines()],
            "collections": [], "images": [],
        }
        for c in ax.collections:
            offs = np.asarray(c.get_offsets())
            arr = c.get_array()
            entry["collections"].append({
                "x": _summary(offs[:, 0]) if offs.ndim == 2 and offs.size else {"count": 0},
                "y": _summary(offs[:, 1]) if offs.ndim == 2 and offs.size else {"count": 0},
                "values": _summary(arr) if arr is not None else {"count": 0}})
        for im in ax.get_images():
            a = np.asarray(im.get_array(), dtype=float)
            entry["images"].append({"shape": list(a.shape), "values": _summary(a)})
        axes.append(entry)
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    return {"suptitle": title, "axes": axes}


def _close(a: float, e: float, scale: float) -> bool:
    return abs(a - e) <= RTOL * abs(e) + 1e-3 * scale + 1e-9


def compare_fingerprints(expected: dict, actual: dict) -> list[str]:
    """Differences between two fingerprints that matter (empty when they agree)."""
    diffs: list[str] = []
    if expected.get("suptitle") != actual.get("suptitle"):
        diffs.append(f"suptitle {actual.get('suptitle')!r} != {expected.get('suptitle')!r}")
    ea, aa = expected["axes"], actual["axes"]
    if len(ea) != len(aa):
        return diffs + [f"{len(aa)} axes, expected {len(ea)}"]
    for i, (e, a) in enumerate(zip(ea, aa)):
        where = f"axes {i}"
        for key in ("xlabel", "ylabel", "title", "xscale", "yscale"):
            if e[key] != a[key]:
                diffs.append(f"{where}: {key} {a[key]!r} != {e[key]!r}")
        spans = {}
        for key in ("xlim", "ylim"):
            lo, hi = e[key]
            scale = abs(hi - lo) if e[f"{key[0]}scale"] == "linear" else max(abs(hi), abs(lo))
            spans[key[0]] = scale
            for av, ev in zip(a[key], e[key]):
                if not _close(av, ev, scale):
                    diffs.append(f"{where}: {key} {a[key]} != {e[key]}")
                    break
        for kind in ("lines", "collections", "images"):
            if len(e[kind]) != len(a[kind]):
                diffs.append(f"{where}: {len(a[kind])} {kind}, expected {len(e[kind])}")
                continue
            for j, (es, as_) in enumerate(zip(e[kind], a[kind])):
                for part, ev in es.items():
                    if part == "shape":
                        if ev != as_[part]:
                            diffs.append(f"{where} {kind}[{j}]: shape {as_[part]} != {ev}")
                        continue
                    scale = spans.get(part, max(abs(ev.get("max", 0)), abs(ev.get("min", 0)), 1e-12))
                    diffs += _compare_summary(f"{where} {kind}[{j}].{part}", ev, as_[part], scale)
    return diffs


def _compare_summary(where: str, e: dict, a: dict, scale: float) -> list[str]:
    if e.get("count") != a.get("count"):
        return [f"{where}: {a.get('count')} points, expected {e.get('count')}"]
    return [f"{where}: {k} {a[k]:.5g} != {e[k]:.5g}" for k in e if k != "count" and not _close(a[k], e[k], scale)]


def _strict() -> bool:
    return os.environ.get("COURSE_STRICT_FIGURES") == "1"


def check_figure(fig, name: str) -> None:
    """Compare `fig` with the stored fingerprint `name` (see the module docstring for the flags)."""
    path = FINGERPRINTS / f"{name}.json"
    actual = fingerprint(fig)
    if os.environ.get("COURSE_UPDATE_FINGERPRINTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
        print(f"fingerprint {name} written to {path}")
        return
    if not path.exists():
        _fail(f"no stored fingerprint for figure {name!r} ({path}); run `make fingerprints` to record it")
        return
    diffs = compare_fingerprints(json.loads(path.read_text()), actual)
    if diffs:
        _fail(f"figure {name!r} differs from its stored fingerprint:\n  " + "\n  ".join(diffs[:12]))


def _fail(message: str) -> None:
    if _strict():
        raise AssertionError(message)
    warnings.warn(message, stacklevel=3)


# ----------------------------------------------------------------------------- exercise checks

def _call(fn: Callable, *args, what: str):
    """Call the learner's function, turning 'not done yet' and crashes into clear messages."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise AssertionError(
            f"{what} is not implemented yet: replace `raise NotImplementedError()` with your code, "
            "run that cell, then run this check again.") from None
    except AssertionError:
        raise
    except Exception as exc:  # the learner's code crashed: say where, keep it short
        raise AssertionError(f"{what} raised {type(exc).__name__}: {exc}") from None


def _as_tensor(out, what: str) -> torch.Tensor:
    if isinstance(out, np.ndarray):
        out = torch.from_numpy(out)
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"{what} should return a torch tensor, got {type(out).__name__}")
    return out.detach().float()


def _rng(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _passed(message: str) -> None:
    print(f"\u2714 {message}")


def check_power_law(fn: Callable, seed: int = 0) -> None:
    """Exercise: power_law_frequencies(n, alpha, E) -> p with p_i ~ i^-alpha and sum(p) = E."""
    g = np.random.default_rng(seed)
    for _ in range(3):
        n, alpha, E = int(g.integers(50, 400)), float(g.uniform(0.3, 1.8)), float(g.uniform(0.5, 2.0))
        want = data.power_law(n, alpha, E)
        got = _as_tensor(_call(fn, n, alpha, E, what="power_law_frequencies"), "power_law_frequencies")
        if got.shape != want.shape:
            raise AssertionError(f"expected one frequency per feature, shape ({n},), got {tuple(got.shape)}")
        if not torch.isfinite(got).all():
            raise AssertionError("some frequencies are NaN or infinite: are you raising 0 to a negative power? "
                                 "Feature ranks start at i = 1, not 0.")
        if torch.allclose(got, want, rtol=1e-4, atol=1e-7):
            continue
        if got[0] < got[-1]:
            raise AssertionError("your frequencies grow with the rank i: the exponent should be -alpha "
                                 "(frequent features first).")
        ratio = (got / got.sum()) / (want / want.sum())
        if torch.allclose(ratio, torch.ones_like(ratio), rtol=1e-3):
            raise AssertionError(f"the shape is right but the frequencies sum to {got.sum().item():.4g}, "
                                 f"not E = {E:.4g}: normalise, then multiply by E.")
        raise AssertionError(f"p_1/p_2 should be 2^alpha = {2 ** alpha:.4g}, got {(got[0] / got[1]).item():.4g}: "
                             "check the exponent.")
    _passed("power_law_frequencies matches the reference for three random (n, alpha, E).")


def check_sample_batch(fn: Callable, seed: int = 0) -> None:
    """Exercise: sample_batch(p, batch, generator) -> x with x_i = Bernoulli(p_i) * Uniform(0, 2)."""
    n, batch = 40, 20_000
    p = data.power_law(n, 1.0, E=3.0)
    x = _as_tensor(_call(fn, p, batch, _rng(seed), what="sample_batch"), "sample_batch")
    if x.shape != (batch, n):
        raise AssertionError(f"expected shape (batch, n) = ({batch}, {n}), got {tuple(x.shape)}")
    if (x < 0).any() or (x > 2).any():
        raise AssertionError("values must lie in [0, 2]: an active feature takes u ~ Uniform(0, 2).")
    active = x > 0
    freq = active.float().mean(0)
    sd = torch.sqrt(p * (1 - p) / batch)
    if torch.allclose(freq, 1 - p, atol=0.02) and not torch.allclose(freq, p, atol=0.02):
        raise AssertionError("features are active with probability 1 - p_i: the comparison is reversed "
                             "(a feature is active when the uniform draw is BELOW p_i).")
    if ((freq - p).abs() > 6 * sd + 1e-3).any():
        i = int(((freq - p).abs() / (sd + 1e-9)).argmax())
        raise AssertionError(f"feature {i} is active in {freq[i].item():.4f} of samples, expected p_{i} = "
                             f"{p[i].item():.4f}: each feature must be active independently with its own p_i.")
    vals = x[active]
    if torch.allclose(vals, torch.ones_like(vals)):
        raise AssertionError("every active value is 1: multiply the on/off mask by u ~ Uniform(0, 2).")
    if abs(vals.mean().item() - 0.5) < 0.05:
        raise AssertionError("active values average 0.5: u should be Uniform(0, 2) (mean 1), not Uniform(0, 1).")
    if abs(vals.mean().item() - 1.0) > 0.05 or abs((vals ** 2).mean().item() - 4 / 3) > 0.08:
        raise AssertionError(f"active values have mean {vals.mean().item():.3f} and mean square "
                             f"{(vals ** 2).mean().item():.3f}; Uniform(0, 2) gives 1 and 4/3.")
    _passed(f"sample_batch: activation rates and values match the data distribution ({batch} samples).")


def check_forward(fn: Callable, seed: int = 0) -> None:
    """Exercise: toy_forward(W, b, x) -> ReLU(x W W^T + b)."""
    g = _rng(seed)
    n, m, batch = 30, 6, 8
    W, b = models.init_params(n, m, g)
    x = data.sample_dense(data.power_law(n, 0.5, E=4.0), batch, g)
    want = models.forward(W, b, x)
    got = _as_tensor(_call(fn, W.clone(), b.clone(), x.clone(), what="toy_forward"), "toy_forward")
    if got.shape != want.shape:
        raise AssertionError(f"expected output shape (batch, n) = {tuple(want.shape)}, got {tuple(got.shape)}: "
                             "x (batch, n) @ W (n, m) gives (batch, m); then @ W.T gives (batch, n).")
    if torch.allclose(got, want, atol=1e-5):
        _passed("toy_forward matches ReLU(W W^T x + b).")
        return
    linear = x @ W @ W.T + b
    if torch.allclose(got, linear, atol=1e-5):
        raise AssertionError("your output has negative entries: did you forget the ReLU?")
    if torch.allclose(got, torch.relu(x @ W @ W.T), atol=1e-5):
        raise AssertionError("the output ignores the bias b: add it before the ReLU.")
    if torch.allclose(got, torch.relu(x @ W @ W.T) + b, atol=1e-5):
        raise AssertionError("the bias is added after the ReLU: add b first, then apply the ReLU.")
    raise AssertionError("the output differs from ReLU(x W W^T + b); check the order of the products.")


def check_signed_decay(fn: Callable, seed: int = 0) -> None:
    """Exercise: signed_decay(W, gamma, lr) -> W after one step of the paper's signed weight decay."""
    g = _rng(seed)
    W = torch.randn(25, 5, generator=g) * 0.8
    lr = 0.05
    for gamma in (0.7, -0.8):
        want = optim.signed_weight_decay_(W.clone(), gamma, lr)
        got = _as_tensor(_call(fn, W.clone(), gamma, lr, what="signed_decay"), "signed_decay")
        if got.shape != W.shape:
            raise AssertionError(f"return the decayed W with the same shape {tuple(W.shape)}, got {tuple(got.shape)}")
        if torch.allclose(got, want, atol=1e-6):
            continue
        if torch.allclose(got, W, atol=1e-7):
            raise AssertionError(f"for gamma = {gamma} W came back unchanged: return the decayed matrix.")
        if gamma > 0:
            raise AssertionError("for gamma >= 0 the decay is ordinary: W <- W (1 - lr * gamma).")
        cols = W + lr * gamma * W * (1 - 1 / W.norm(dim=0, keepdim=True))
        if torch.allclose(got, cols, atol=1e-6):
            raise AssertionError("you used column norms: the norm is per row (one feature per row), "
                                 "W.norm(dim=1, keepdim=True).")
        if torch.allclose(got, W * (1 - lr * gamma), atol=1e-6):
            raise AssertionError("for gamma < 0 the decay is not W (1 - lr gamma), which would grow every row "
                                 "without limit; rows move toward unit norm: W_i + lr gamma W_i (1 - 1/||W_i||).")
        raise AssertionError("for gamma < 0 expected W_i + lr * gamma * W_i * (1 - 1/||W_i||): rows longer than 1 "
                             "shrink and shorter rows grow.")
    before = (W.norm(dim=1) - 1).abs().mean().item()
    after = (want.norm(dim=1) - 1).abs().mean().item()
    _passed(f"signed_decay is right for gamma > 0 and gamma < 0 (with gamma < 0, the mean distance of row "
            f"norms from 1 went from {before:.4f} to {after:.4f}).")


def check_phi_half(fn: Callable, seed: int = 0) -> None:
    """Exercise: represented_fraction(W) -> share of rows with norm > 1/2."""
    g = _rng(seed)
    scales = torch.rand(200, 1, generator=g) * 1.2
    W = torch.randn(200, 10, generator=g)
    W = W / W.norm(dim=1, keepdim=True) * scales
    want = metrics.phi_half(W).item()
    out = _call(fn, W.clone(), what="represented_fraction")
    try:
        got = float(out)
    except (TypeError, ValueError):
        raise AssertionError(f"return one number (a fraction), got {type(out).__name__}") from None
    if math.isclose(got, want, abs_tol=1e-6):
        _passed(f"represented_fraction = {got:.3f} matches (rows with norm > 1/2).")
        return
    if math.isclose(got, want * W.shape[0], rel_tol=1e-4):
        raise AssertionError("you returned a count; divide by the number of features n to get a fraction.")
    col = (W.norm(dim=0) > 0.5).float().mean().item()
    if math.isclose(got, col, abs_tol=1e-6):
        raise AssertionError("you measured column norms; a feature is a row of W: use W.norm(dim=1).")
    raise AssertionError(f"expected {want:.3f} (share of rows with norm > 0.5), got {got:.3f}.")
