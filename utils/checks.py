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


# ----------------------------------------------------------------------------- chapter 1: tokens as vectors

def _number(out, what: str) -> float:
    """The learner's answer as a Python float, or a clear message."""
    if isinstance(out, (torch.Tensor, np.ndarray)) and np.size(out) == 1:
        out = out.item()
    try:
        return float(out)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should return one number, got {type(out).__name__}") from None


def _word_list(out, k: int, what: str) -> list[str]:
    """The learner's list of k words, or a clear message."""
    if isinstance(out, str) or not hasattr(out, "__iter__"):
        raise AssertionError(f"{what} should return a list of {k} words, got {type(out).__name__}")
    out = list(out)
    if out and not all(isinstance(w, str) for w in out):
        raise AssertionError(f"{what} should return the words themselves (strings), got {out[:3]!r}...: "
                             "look each index up in `words`.")
    if len(out) != k:
        raise AssertionError(f"{what} should return k = {k} words, got {len(out)}")
    return out


def _synthetic_table(seed: int, size: int = 120, dim: int = 12) -> tuple[np.ndarray, list[str]]:
    """Random word vectors with very different lengths, and their names w0, w1, ..."""
    g = np.random.default_rng(seed)
    vectors = g.normal(size=(size, dim)) * g.uniform(0.2, 5.0, size=(size, 1))
    return vectors, [f"w{k}" for k in range(size)]


def _ranked(vectors: np.ndarray, target: np.ndarray, exclude=(), cosine: bool = True) -> np.ndarray:
    """Row indices sorted by similarity to target, highest first (cosine or plain dot product)."""
    scores = vectors @ target
    if cosine:
        scores = scores / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(target))
    scores = scores.astype(float)
    scores[list(exclude)] = -np.inf
    return np.argsort(-scores, kind="stable")


def check_cosine(fn: Callable, seed: int = 0) -> None:
    """Exercise: cosine_similarity(a, b) -> a.b / (|a| |b|)."""
    g = np.random.default_rng(seed)
    for _ in range(4):
        d = int(g.integers(3, 60))
        a, b = g.normal(size=d) * g.uniform(0.3, 4), g.normal(size=d) * g.uniform(0.3, 4)
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        want = a @ b / (na * nb)
        got = _number(_call(fn, a.copy(), b.copy(), what="cosine_similarity"), "cosine_similarity")
        if math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-8):
            continue
        if math.isclose(got, a @ b, rel_tol=1e-5):
            raise AssertionError("you returned the dot product a.b: divide it by the lengths |a| and |b| "
                                 "(np.linalg.norm) so that only the angle counts.")
        if math.isclose(got, a @ b / na, rel_tol=1e-5) or math.isclose(got, a @ b / nb, rel_tol=1e-5):
            raise AssertionError("you divided by only one length: divide the dot product by |a| times |b|.")
        if math.isclose(got, a @ b / (na * nb) ** 2, rel_tol=1e-5):
            raise AssertionError("you divided by the squared lengths: |a| is np.linalg.norm(a), "
                                 "the square root of a.a.")
        if math.isclose(got, 1 - want, rel_tol=1e-5):
            raise AssertionError("you returned 1 - cos, the cosine *distance*: return the similarity itself.")
        raise AssertionError(f"for a = {np.round(a[:3], 3)}... expected {want:.5f}, got {got:.5f}.")
    _passed("cosine_similarity matches a.b / (|a| |b|) on four random pairs.")


def check_neighbours(fn: Callable, seed: int = 0) -> None:
    """Exercise: nearest_neighbours(vectors, words, word, k) -> the k most cosine-similar words, word excluded."""
    vectors, words = _synthetic_table(seed)
    k = 5
    for q in (3, 41, 97):
        want = [words[i] for i in _ranked(vectors, vectors[q], exclude=[q])[:k]]
        out = _call(fn, vectors.copy(), list(words), words[q], k, what="nearest_neighbours")
        got = _word_list(out, k, "nearest_neighbours")
        if got == want:
            continue
        if got[0] == words[q]:
            raise AssertionError(f"the first neighbour of {words[q]!r} is {words[q]!r} itself: "
                                 "leave the word itself out (its cosine with itself is always 1).")
        if got == [words[i] for i in _ranked(vectors, vectors[q], exclude=[q], cosine=False)[:k]]:
            raise AssertionError("your ranking follows the dot product, so long vectors win: divide by the "
                                 "lengths (cosine similarity) before ranking.")
        ranked = _ranked(vectors, vectors[q], exclude=[q])
        if got == [words[i] for i in ranked[::-1][:k]] or got == [words[i] for i in ranked[-k - 1:-1][::-1]]:
            raise AssertionError("you returned the *least* similar words: sort by similarity in decreasing "
                                 "order (np.argsort(-scores)).")
        if sorted(got) == sorted(want):
            raise AssertionError("the right words in the wrong order: most similar first.")
        raise AssertionError(f"the {k} nearest neighbours of {words[q]!r} should be {want}, got {got}.")
    _passed("nearest_neighbours ranks by cosine similarity and leaves the word itself out.")


def _analogy_case(seed: int) -> tuple[np.ndarray, list[str], tuple[int, int, int], dict]:
    """Words where a and b are close, d = c + (b - a) + noise, a decoy c - (b - a), and one very long word."""
    vectors, words = _synthetic_table(seed, size=80, dim=20)
    g = np.random.default_rng(seed + 1)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    a, b, c, d, decoy, long_word = 0, 1, 2, 3, 4, 5
    shift = 0.3 * _unit(g.normal(size=20))
    noise = lambda: 0.5 * _unit(g.normal(size=20))  # noqa: E731
    unit[b] = _unit(unit[a] + shift)
    unit[d] = _unit(unit[c] + shift + noise())
    unit[decoy] = _unit(unit[c] - shift + noise())
    unit[long_word] = _unit(0.6 * unit[c] + g.normal(size=20) / np.sqrt(20))
    vectors = unit * g.uniform(0.5, 1.5, size=(len(unit), 1))
    vectors[long_word] *= 30
    return vectors, words, (a, b, c), {"answer": d, "decoy": decoy, "long": long_word}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def check_analogy(fn: Callable, seed: int = 0) -> None:
    """Exercise: solve_analogy(vectors, words, a, b, c) -> the word nearest in cosine to e_b - e_a + e_c."""
    vectors, words, (a, b, c), roles = _analogy_case(seed)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    target = unit[b] - unit[a] + unit[c]
    want = words[_ranked(vectors, target, exclude=[a, b, c])[0]]
    out = _call(fn, vectors.copy(), list(words), words[a], words[b], words[c], what="solve_analogy")
    if not isinstance(out, str):
        raise AssertionError(f"solve_analogy should return one word (a string), got {type(out).__name__}")
    if out == want:
        _passed(f"solve_analogy: {words[a]} is to {words[b]} as {words[c]} is to {out}.")
        return
    if out in (words[a], words[b], words[c]):
        raise AssertionError(f"you returned {out!r}, one of the three question words: leave a, b and c out "
                             "of the candidates (the target b - a + c is usually closest to b or c).")
    if out == words[roles["decoy"]]:
        raise AssertionError("you went the wrong way: the target is b - a + c (add the step from a to b to c), "
                             "not a - b + c.")
    if out == words[roles["long"]]:
        raise AssertionError(f"you returned {out!r}, a word with a very long vector: compare directions with the "
                             "cosine similarity, not the plain dot product.")
    raise AssertionError(f"expected {want!r} (nearest in cosine to e_b - e_a + e_c), got {out!r}.")


def check_zipf_exponent(fn: Callable, seed: int = 0) -> None:
    """Exercise: zipf_exponent(freq) -> alpha, minus the slope of log p against log rank (ranks from 1)."""
    from .fits import fit_power_law

    g = np.random.default_rng(seed)
    for alpha in (0.8, 1.15, 1.6):
        ranks = np.arange(1, 2001)
        freq = ranks ** -alpha * np.exp(g.normal(scale=0.1, size=ranks.size))
        freq = np.sort(freq / freq.sum())[::-1]
        want = fit_power_law(ranks, freq).exponent
        try:
            out = _call(fn, freq.copy(), what="zipf_exponent")
        except AssertionError as err:
            if "not implemented" in str(err):
                raise
            raise AssertionError(f"{err}. If a rank is 0, log(0) = -infinity breaks the fit: "
                                 "ranks count from 1.") from None
        got = _number(out, "zipf_exponent")
        if not math.isfinite(got):
            raise AssertionError(f"zipf_exponent returned {got}: is a rank 0 in your fit? log(0) is -infinity; "
                                 "ranks count from 1.")
        if math.isclose(got, want, rel_tol=1e-3):
            continue
        if math.isclose(got, -want, rel_tol=1e-3):
            raise AssertionError(f"you returned the slope {got:.3f}; alpha is minus the slope (positive: "
                                 "frequencies fall with rank).")
        if math.isclose(got, 1 / want, rel_tol=0.05) or math.isclose(got, -1 / want, rel_tol=0.05):
            raise AssertionError("you fitted log i against log p: put the rank on the horizontal axis, "
                                 "np.polyfit(np.log(ranks), np.log(freq), 1).")
        if abs(got) < 0.05 or got > 5:
            raise AssertionError(f"got {got:.4g}: fit a straight line to the logarithms of rank and frequency, "
                                 "not to the raw numbers.")
        raise AssertionError(f"for frequencies falling like i^-{alpha} expected alpha = {want:.3f}, got {got:.3f}.")
    _passed("zipf_exponent recovers alpha for three synthetic Zipf laws.")


# ----------------------------------------------------------------------------- chapter 2: high dimensions

def check_unit_vectors(fn: Callable, seed: int = 0) -> None:
    """Exercise: random_unit_vectors(n, m, generator) -> (n, m) directions uniform on the sphere."""
    n, m = 20_000, 2
    U = _as_tensor(_call(fn, n, m, _rng(seed), what="random_unit_vectors"), "random_unit_vectors").double()
    if U.shape != (n, m):
        raise AssertionError(f"expected shape (n, m) = ({n}, {m}), got {tuple(U.shape)}")
    norms = U.norm(dim=1)
    if not torch.allclose(norms, torch.ones_like(norms), atol=1e-4):
        if torch.allclose(U.norm(dim=0), torch.ones(m, dtype=U.dtype), atol=1e-4):
            raise AssertionError("your columns have length 1, not your rows: each row is a vector, "
                                 "normalise with norm(dim=1, keepdim=True).")
        raise AssertionError("the rows do not have length 1: divide each row by its norm.")
    again = _as_tensor(_call(fn, n, m, _rng(seed), what="random_unit_vectors"), "random_unit_vectors").double()
    if not torch.equal(U, again):
        raise AssertionError("the same seed gave different vectors: draw every random number from the "
                             "`generator` argument (generator=generator).")
    if U.mean(dim=0).abs().max() > 0.05:
        raise AssertionError("the directions are lopsided (their mean is far from 0): torch.rand draws from "
                             "[0, 1), so every coordinate is positive. Use torch.randn.")
    angle = torch.atan2(U[:, 1], U[:, 0])
    if torch.cos(4 * angle).mean().abs() > 0.05:
        raise AssertionError("the directions are not uniform: too many point toward the corners of a cube. "
                             "Normalising uniform draws from a cube does not give uniform directions; "
                             "normalising normal draws (torch.randn) does.")
    V = _as_tensor(_call(fn, 4000, 50, _rng(seed + 1), what="random_unit_vectors"), "random_unit_vectors")
    ratio = 50 * (V[:2000] * V[2000:]).sum(1).pow(2).mean().item()
    if abs(ratio - 1) > 0.15:
        raise AssertionError(f"in m = 50 dimensions, m times the mean square overlap of your vectors is "
                             f"{ratio:.3f}; for uniform directions it is 1.")
    _passed("random_unit_vectors gives unit rows, reproducible from the seed, uniform in direction.")


def check_mean_square_overlap(fn: Callable, seed: int = 0) -> None:
    """Exercise: mean_square_overlap(U) -> mean over i != j of squared cosines of rows."""
    from . import geometry

    g = _rng(seed)
    U = torch.randn(40, 6, generator=g) * (0.3 + 3 * torch.rand(40, 1, generator=g))
    want = geometry.mean_square_overlap(U)
    got = _number(_call(fn, U.clone(), what="mean_square_overlap"), "mean_square_overlap")
    if math.isclose(got, want, rel_tol=1e-4):
        _passed(f"mean_square_overlap = {got:.5f} matches (1/m = {1 / 6:.5f} for random directions).")
        return
    n = len(U)
    C = geometry.normalise_rows(U) @ geometry.normalise_rows(U).T
    raw = (U @ U.T).double()
    if math.isclose(got, (C ** 2).mean().item(), rel_tol=1e-4):
        raise AssertionError("you included the diagonal (i = j, where the overlap is 1): average over the "
                             "n (n - 1) pairs with i != j only.")
    if math.isclose(got, ((C ** 2).sum().item() - n) / n ** 2, rel_tol=1e-4):
        raise AssertionError("you left out the diagonal but still divided by n^2: there are n (n - 1) "
                             "pairs with i != j.")
    off = ~torch.eye(n, dtype=torch.bool)
    if any(math.isclose(got, v, rel_tol=1e-4) for v in ((raw ** 2)[off].mean().item(), (raw ** 2).mean().item())):
        raise AssertionError("your rows are not normalised: divide each overlap by the lengths of both rows "
                             "(or normalise the rows first).")
    if abs(got) < 0.5 * want and any(math.isclose(got, v, rel_tol=1e-3, abs_tol=1e-6)
                                     for v in (C[off].mean().item(), C.mean().item())):
        raise AssertionError("you averaged the overlaps themselves, which cancel out around 0: square them first.")
    raise AssertionError(f"expected {want:.5f}, got {got:.5f}.")


def check_welch_bound(fn: Callable) -> None:
    """Exercise: welch_bound(n, m) -> (n - m) / (m (n - 1)), and 0 when n <= m."""
    from . import geometry

    for n, m in ((200, 20), (9, 8), (1000, 64), (5, 5), (10, 30)):
        want = geometry.welch_bound(n, m)
        got = _number(_call(fn, n, m, what="welch_bound"), "welch_bound")
        if math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12):
            continue
        if n <= m:
            raise AssertionError(f"for n = {n} <= m = {m} the vectors can all be perpendicular, so the bound is 0; "
                                 f"got {got:.4g}. Return max(n - m, 0) / (m (n - 1)).")
        if math.isclose(got, math.sqrt(want), rel_tol=1e-6):
            raise AssertionError("you returned the square root: the bound is on the *squared* overlap, "
                                 "(n - m) / (m (n - 1)).")
        if math.isclose(got, (n - m) / (m * n), rel_tol=1e-6):
            raise AssertionError("the denominator is m (n - 1), not m n.")
        if math.isclose(got, (m - n) / (n * (m - 1)), rel_tol=1e-6) or math.isclose(got, (n - m) / (n * (m - 1)),
                                                                                 rel_tol=1e-6):
            raise AssertionError("n and m are swapped: n is the number of vectors, m the dimension; "
                                 "the bound is (n - m) / (m (n - 1)).")
        raise AssertionError(f"for n = {n}, m = {m} expected {want:.6f}, got {got:.6f}.")
    _passed("welch_bound is right, including the case n <= m.")


def check_packing(fn: Callable, seed: int = 0) -> None:
    """Exercise: pack_vectors(n, m, steps, generator) -> n unit rows within 1% of the Welch bound."""
    from . import geometry

    n, m, steps = 60, 12, 500
    with geometry.single_thread():  # small matrices: one thread is faster, and much faster on a busy machine
        U = _as_tensor(_call(fn, n, m, steps, _rng(seed), what="pack_vectors"), "pack_vectors").double()
    if U.shape != (n, m):
        raise AssertionError(f"expected shape (n, m) = ({n}, {m}), got {tuple(U.shape)}")
    norms = U.norm(dim=1)
    if not torch.allclose(norms, torch.ones_like(norms), atol=1e-3):
        raise AssertionError(f"the rows should be unit vectors, but their lengths run from {norms.min():.3f} to "
                             f"{norms.max():.3f}: normalise the rows of the result (and inside the cost, so the "
                             "optimiser cannot shrink the vectors instead of turning them).")
    bound, msq = geometry.welch_bound(n, m), geometry.mean_square_overlap(U)
    if msq <= bound * 1.01:
        _passed(f"pack_vectors: mean square overlap {msq:.5f}, {msq / bound - 1:.2%} above the Welch bound "
                f"{bound:.5f} (random: about {1 / m:.5f}).")
        return
    if msq > 0.97 / m:
        raise AssertionError(f"the mean square overlap is {msq:.5f}, as for random vectors (1/m = {1 / m:.5f}): "
                             "did the vectors move? Check that the cost is computed from the parameters, that "
                             "you call backward() and optimizer.step(), and that you return the optimised vectors.")
    raise AssertionError(f"the mean square overlap is {msq:.5f}, {msq / bound - 1:.1%} above the Welch bound "
                         f"{bound:.5f}: better than random, not yet within 1%. Take more steps or a larger "
                         "learning rate (Adam with lr around 0.01 to 0.05 works well).")
