"""Every figure of the course: functions that take data and return a matplotlib Figure.

One house style: the Okabe-Ito colour-blind-safe palette, labelled axes,
light grids, no top/right spines. Notebooks only call these functions.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

#: Okabe & Ito's (2008) colour-blind-safe hues, with orange, sky blue and yellow darkened (same hue and
#: saturation, less lightness: #E69F00, #56B4E9, #F0E442 before) so that every curve has at least the
#: 3:1 contrast against the white figure that WCAG 2.1 asks of graphics (tests/test_plotting_palette.py)
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#C28600", "#1D99E0", "#9E940D", "#000000"]
#: a diverging map for signed quantities (overlaps), readable by colour-blind readers
DIVERGING = "RdBu_r"

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
}


def _figure(ncols: int = 1, width: float = 5.0, height: float = 3.4, **kw):
    """A new figure with `ncols` axes in the house style."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, ncols, figsize=(width * ncols if ncols > 1 else width, height),
                                 squeeze=False, layout="constrained", **kw)
    for ax in axes.ravel():
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(True, alpha=0.3)
    plt.close(fig)  # notebooks display the returned figure explicitly; no duplicate
    return fig, list(axes.ravel())


def _ticks_at(ax, values) -> None:
    """On a log x axis, label the plotted values themselves (not 6 x 10^0 or crowded minor ticks)."""
    values = sorted(values)
    ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def _numpy(a) -> np.ndarray:
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def _rank_extent(cols: int, rows: int) -> tuple[float, float, float, float]:
    """imshow extent that numbers columns and rows from 1, like feature ranks."""
    return (0.5, cols + 0.5, rows + 0.5, 0.5)


def _gram_image(ax, W: np.ndarray):
    """Draw W W^T on ax, axes numbered by feature rank; overlaps live in [-1, 1] (the diagonal may exceed it)."""
    im = ax.imshow(W @ W.T, cmap=DIVERGING, vmin=-1, vmax=1, interpolation="nearest",
                   extent=_rank_extent(len(W), len(W)))
    ax.grid(False)
    ax.set_xlabel("feature rank j")
    ax.set_ylabel("feature rank i")
    return im


def _overlap_colorbar(fig, im, axes) -> None:
    """The shared colour bar of W W^T images, marked as clipped at +-1."""
    fig.colorbar(im, ax=axes, label="$W_i \\cdot W_j$ (clipped at $\\pm 1$)", shrink=0.85, extend="both")


def frequencies(laws: Mapping[str, object]) -> plt.Figure:
    """Feature frequency p_i against rank i on log-log axes, one line per law."""
    fig, (ax,) = _figure()
    for (label, p), color in zip(laws.items(), PALETTE):
        p = _numpy(p)
        ax.loglog(np.arange(1, p.size + 1), p, label=label, color=color, lw=2)
    ax.set_xlabel("feature rank i")
    ax.set_ylabel("frequency $p_i$ (probability active)")
    ax.set_title("How often each feature is active")
    ax.legend()
    return fig


def batch_matrix(x, features: int = 60, rows: int = 24) -> plt.Figure:
    """A corner of a data batch as an image: rows are samples, columns are features."""
    x = _numpy(x)[:rows, :features]
    fig, (ax,) = _figure(width=6.0, height=3.0)
    im = ax.imshow(x, aspect="auto", cmap="Greys", vmin=0, vmax=2, interpolation="nearest",
                   extent=_rank_extent(x.shape[1], x.shape[0]))
    ax.grid(False)
    ax.set_xlabel("feature rank i (most frequent on the left)")
    ax.set_ylabel("sample in the batch")
    ax.set_title(f"{int((x > 0).sum())} active entries out of {x.size}")
    fig.colorbar(im, ax=ax, label="value $x_i$")
    return fig


def training_curves(losses: Mapping[str, object], log_every: int = 1, smooth: int = 1) -> plt.Figure:
    """Training loss against step on a log scale, one line per model (optionally a running mean)."""
    fig, (ax,) = _figure()
    for (label, curve), color in zip(losses.items(), PALETTE):
        c = _numpy(curve).astype(float)
        if smooth > 1 and c.size >= smooth:
            c = np.convolve(c, np.ones(smooth) / smooth, mode="valid")
        steps = (np.arange(c.size) + smooth) * log_every
        ax.plot(steps, c, label=label, color=color, lw=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (MSE, mean over features)")
    ax.set_title("Training loss")
    ax.legend()
    return fig


def row_norms(norms: Mapping[str, object], threshold: float = 0.5) -> plt.Figure:
    """Row norm ||W_i|| against feature rank i, one series per model, with the 1/2 and 1 levels."""
    fig, (ax,) = _figure()
    for (label, v), color in zip(norms.items(), PALETTE):
        v = _numpy(v)
        ax.plot(np.arange(1, v.size + 1), v, ".", ms=3, label=label, color=color)
    ax.axhline(threshold, color="grey", ls="--", lw=1)
    ax.axhline(1.0, color="grey", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("feature rank i")
    ax.set_ylabel("row norm $\\|W_i\\|$")
    ax.set_title("Which features are stored (above the dashed line)")
    ax.legend(markerscale=4)
    return fig


def feature_arrows(models: Mapping[str, object]) -> plt.Figure:
    """Models with m = 2: each row W_i of W drawn as an arrow from the origin, numbered by rank, with
    the unit circle dotted; one panel per model. Superposition at a glance: more arrows than axes."""
    fig, axes = _figure(ncols=len(models), width=3.2, height=3.4)
    t = np.linspace(0, 2 * np.pi, 200)
    for ax, (label, W) in zip(axes, models.items()):
        W = _numpy(W)
        if W.ndim != 2 or W.shape[1] != 2:
            raise ValueError(f"feature_arrows needs W of shape (n, 2), got {W.shape} for {label!r}")
        ax.plot(np.cos(t), np.sin(t), ":", color="grey", lw=1)
        norms = np.linalg.norm(W, axis=1)
        for i, (w, r) in enumerate(zip(W, norms)):
            color = PALETTE[i % len(PALETTE)] if r > 0.5 else "grey"
            ax.plot([0, w[0]], [0, w[1]], "-", color=color, lw=2)
            ax.plot([w[0]], [w[1]], "o", color=color, ms=5)
            if r > 0.05:  # the number just beyond the tip, or at radius 0.39 for a short row
                x, y = w * (1.12 * max(r, 0.35) / r)
                ax.text(x, y, str(i + 1), ha="center", va="center", fontsize=9)
        ax.set_xlim(-1.45, 1.45)
        ax.set_ylim(-1.45, 1.45)
        ax.set_aspect("equal")
        ax.set_xticks([-1, 0, 1])
        ax.set_yticks([-1, 0, 1])
        ax.set_title(f"{label}\n{int((norms > 0.5).sum())} of {len(W)} rows above 1/2", fontsize=10)
    return fig


def gram_matrices(mats: Mapping[str, object], features: int = 40) -> plt.Figure:
    """W W^T for the first `features` features of each model, side by side, on one colour scale."""
    fig, axes = _figure(ncols=len(mats), width=3.6, height=3.4)
    im = None
    for ax, (label, W) in zip(axes, mats.items()):
        im = _gram_image(ax, _numpy(W)[:features])
        ax.set_title(label)
    _overlap_colorbar(fig, im, axes)
    return fig


def _norms_and_gram_panels(fig, a1, a2, W: np.ndarray, features: int) -> None:
    """Row norms against rank on a1 (the 1/2 line marks 'stored'), W W^T of the first features on a2."""
    norms = np.linalg.norm(W, axis=1)
    a1.plot(np.arange(1, norms.size + 1), norms, ".", ms=3, color=PALETTE[0])
    a1.axhline(0.5, color="grey", ls="--", lw=1)
    a1.set_xscale("log")
    a1.set_ylim(0, max(1.6, float(norms.max()) * 1.05))
    a1.set_xlabel("feature rank i")
    a1.set_ylabel("row norm $\\|W_i\\|$")
    a1.set_title(f"{int((norms > 0.5).sum())} of {norms.size} features stored")
    im = _gram_image(a2, W[:features])
    a2.set_title(f"$W W^T$, first {min(features, len(W))} features")
    _overlap_colorbar(fig, im, a2)


def norms_and_gram(W, title: str = "", features: int = 40) -> plt.Figure:
    """One trained model: row norms against rank (left) and W W^T of the top features (right)."""
    fig, (a1, a2) = _figure(ncols=2, width=4.2, height=3.4)
    _norms_and_gram_panels(fig, a1, a2, _numpy(W), features)
    if title:
        fig.suptitle(title)
    return fig


def summary_vs(x: Sequence[float], series: Mapping[str, Sequence[float]], xlabel: str, ylabel: str,
               title: str = "", logx: bool = False, logy: bool = False) -> plt.Figure:
    """A few summary numbers (e.g. phi_half) against one setting (e.g. gamma), one line each."""
    fig, (ax,) = _figure()
    for (label, y), color in zip(series.items(), PALETTE):
        ax.plot(x, y, "o-", label=label, color=color, lw=1.5, ms=4)
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    if logx:
        _ticks_at(ax, x)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(series) > 1:
        ax.legend()
    return fig


# ----------------------------------------------------------------------------- chapters 1 and 2

def _lollipop(ax, labels: Sequence[str], values: Sequence[float], color: str = PALETTE[0]) -> None:
    """Horizontal stems ending in dots, first label at the top (dots are a Line2D, so fingerprinted)."""
    y = np.arange(len(labels))[::-1]
    ax.hlines(y, 0, values, color=color, lw=2, alpha=0.6)
    ax.plot(values, y, "o", color=color, ms=6)
    ax.set_yticks(y, labels)
    ax.grid(False, axis="y")


def neighbours(lists: Mapping[str, Sequence[tuple[str, float]]], word: str = "") -> plt.Figure:
    """Nearest neighbours of one word in each embedding: cosine similarity of each neighbour."""
    fig, axes = _figure(ncols=len(lists), width=3.4, height=3.2)
    for ax, (name, pairs), color in zip(axes, lists.items(), PALETTE):
        _lollipop(ax, [w for w, _ in pairs], [s for _, s in pairs], color)
        ax.set_xlim(0, 1)
        ax.set_xlabel("cosine similarity")
        ax.set_title(name)
    if word:
        fig.suptitle(f"Nearest neighbours of “{word}”")
    return fig


def word_map(coords, words: Sequence[str], groups: Sequence[str]) -> plt.Figure:
    """Words placed on the plane of their two main directions, coloured by group."""
    xy = _numpy(coords)
    fig, (ax,) = _figure(width=6.0, height=4.4)
    for group, color in zip(dict.fromkeys(groups), PALETTE):
        idx = [k for k, g in enumerate(groups) if g == group]
        ax.plot(xy[idx, 0], xy[idx, 1], "o", color=color, ms=6, label=group)
        for k in idx:
            ax.annotate(words[k], xy[k], textcoords="offset points", xytext=(4, 3), fontsize=8, color=color)
    ax.set_xlabel("first principal direction")
    ax.set_ylabel("second principal direction")
    ax.set_title("Word vectors projected to two dimensions")
    ax.legend(loc="best", fontsize=8)
    return fig


def zipf(freqs, fit=None, start: int = 1) -> plt.Figure:
    """Word frequency against rank on log-log axes, with a fitted power law from rank `start` on."""
    f = _numpy(freqs).astype(float)
    ranks = np.arange(1, f.size + 1)
    fig, (ax,) = _figure()
    ax.loglog(ranks, f, color=PALETTE[0], lw=2, label="English words (wordfreq)")
    if fit is not None:
        r = ranks[start - 1:]
        ax.loglog(r, fit(r), "--", color=PALETTE[1], lw=1.5,
                  label=f"fit from rank {start}: slope {fit.slope:.2f}")
    ax.set_xlabel("rank of the word (1 = most frequent)")
    ax.set_ylabel("frequency (share of all words)")
    ax.set_title("Zipf's law")
    ax.legend()
    return fig


def _density_line(ax, values, bins: np.ndarray, **kw) -> None:
    """A histogram drawn as a step line (a Line2D, so fingerprinted), normalised to a density."""
    h, edges = np.histogram(_numpy(values), bins=bins, density=True)
    ax.plot((edges[:-1] + edges[1:]) / 2, h, drawstyle="steps-mid", **kw)


def overlap_histograms(samples: Mapping[int, object], bins: int = 81) -> plt.Figure:
    """Distribution of the overlap u.v of random unit vectors, one histogram per dimension m."""
    edges = np.linspace(-1, 1, bins + 1)
    fig, (ax,) = _figure()
    for (m, values), color in zip(samples.items(), PALETTE):
        _density_line(ax, values, edges, color=color, lw=1.5, label=f"m = {m}")
    ax.set_xlabel("overlap u·v of two random unit vectors")
    ax.set_ylabel("probability density")
    ax.set_title("Random directions are nearly orthogonal")
    ax.legend()
    return fig


def overlap_histogram(values, m: int, n: int, bound: float, density=None) -> plt.Figure:
    """Pairwise overlaps of n vectors in R^m, with the Welch level ±sqrt(bound) and an optional reference density."""
    v = _numpy(values)
    edges = np.linspace(-1, 1, 101)
    fig, (ax,) = _figure()
    _density_line(ax, v, edges, color=PALETTE[0], lw=1.5, label="random unit vectors")
    if density is not None:
        x = np.linspace(-1, 1, 401)
        ax.plot(x, density(x), color=PALETTE[1], lw=1, ls="--", label="normal, variance 1/m")
    for s in (-1, 1):
        ax.axvline(s * np.sqrt(bound), color="grey", ls=":", lw=1.5,
                   label="Welch level ±√bound" if s == 1 else None)
    ax.set_xlim(-1, 1)
    ax.set_xlabel("overlap $u_i \\cdot u_j$")
    ax.set_ylabel("probability density")
    ax.set_title(f"n = {n}, m = {m}: mean square {np.mean(v ** 2):.4f}, bound {bound:.4f}")
    ax.legend(fontsize=8, loc="upper right")
    return fig


def packing_history(histories: Mapping[str, Sequence[float]], log_every: int, bound: float,
                    random_level: float) -> plt.Figure:
    """Mean square overlap during packing, one line per run, against the Welch bound and the random level 1/m."""
    fig, (ax,) = _figure()
    for (label, h), color in zip(histories.items(), PALETTE):
        h = _numpy(h)
        ax.plot(np.arange(h.size) * log_every, h, color=color, lw=1.5, label=label)
    ax.axhline(random_level, color="grey", ls="--", lw=1, label="random vectors, 1/m")
    ax.axhline(bound, color="black", ls=":", lw=1.5, label="Welch bound")
    ax.set_xlabel("gradient step")
    ax.set_ylabel("mean square overlap")
    ax.set_title("Packing by gradient descent")
    ax.legend()
    return fig


def overlap_ratios(values: Mapping[str, float], reference: float = 1.0) -> plt.Figure:
    """m times the mean square overlap for several matrices, with the random level marked."""
    fig, (ax,) = _figure(height=2.2 + 0.3 * len(values))
    _lollipop(ax, list(values), list(values.values()))
    ax.axvline(reference, color="grey", ls="--", lw=1)
    ax.set_xlim(0, max(max(values.values()), reference) * 1.15)
    ax.set_xlabel("m × mean square overlap (random unit vectors: 1)")
    ax.set_title("How crowded are real embeddings?")
    return fig


# ----------------------------------------------------------------------------- sweeps (chapters 4 to 6)

def loss_vs_width(panels: Mapping[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]],
                  ylabel: str = "loss on fresh data") -> plt.Figure:
    """Loss against width m on log-log axes, one panel per regime, one series per data shape.

    Each series is (widths, losses); its power-law fit is drawn dashed and its
    exponent alpha_m given in the legend.
    """
    from .fits import fit_power_law

    fig, axes = _figure(len(panels), width=4.6, height=3.6)
    for ax, (title, series) in zip(axes, panels.items()):
        for (label, (ms, losses)), color in zip(series.items(), PALETTE):
            ms, losses = np.asarray(ms, float), np.asarray(losses, float)
            fit = fit_power_law(ms, losses)
            ax.plot(ms, losses, "o", color=color, ms=5, label=f"{label}: $\\alpha_m$ = {fit.exponent:.2f}")
            ax.plot(ms, fit(ms), "--", color=color, lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _ticks_at(ax, {m for ms, _ in series.values() for m in ms})
        ax.set_xlabel("width m")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=8)
    return fig


def phase_map(gammas: Sequence[float], alphas: Sequence[float], values, label: str, title: str = "",
              vmin: float | None = None, vmax: float | None = None, cmap: str = "viridis") -> plt.Figure:
    """A (gamma, alpha) heat map with each cell's value written in it; values has shape (alphas, gammas)."""
    v = np.asarray(values, dtype=float)
    if v.shape != (len(alphas), len(gammas)):
        raise ValueError(f"values must have shape (len(alphas), len(gammas)) = {(len(alphas), len(gammas))}, "
                         f"got {v.shape}")
    fig, (ax,) = _figure(width=5.0, height=3.8)
    im = ax.imshow(v, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    ax.grid(False)
    ax.set_xticks(range(len(gammas)), [f"{g:g}" for g in gammas])
    ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
    ax.set_xlabel(r"weight decay $\gamma$")
    ax.set_ylabel(r"data exponent $\alpha$")
    lo, hi = np.nanmin(v), np.nanmax(v)
    for (i, j), x in np.ndenumerate(v):
        bright = (x - lo) / (hi - lo) > 0.6 if hi > lo else False
        ax.text(j, i, f"{x:.2f}", ha="center", va="center", fontsize=8, color="black" if bright else "white")
    fig.colorbar(im, ax=ax, label=label)
    if title:
        ax.set_title(title)
    return fig


def exponent_vs_alpha(series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                      r2: Mapping[str, Sequence[float]] | None = None) -> plt.Figure:
    """Fitted alpha_m against the data exponent alpha, one line per gamma, with the two predictions.

    Dotted: the weak-regime prediction max(alpha - 1, 0); dashed: the strong-regime 1.
    With r2, a second panel shows each fit's R^2.
    """
    fig, axes = _figure(2 if r2 else 1, width=4.6, height=3.6)
    ax = axes[0]
    xs = np.linspace(0, max(max(a) for a, _ in series.values()), 50)
    ax.plot(xs, np.maximum(xs - 1, 0), ":", color="grey", label=r"weak: max($\alpha$ - 1, 0)")
    ax.plot(xs, np.ones_like(xs), "--", color="black", lw=1, label="strong: 1")
    for (label, (alphas, am)), color in zip(series.items(), PALETTE):
        ax.plot(alphas, am, "o-", color=color, ms=4, label=label)
    ax.set_xlabel(r"data exponent $\alpha$")
    ax.set_ylabel(r"fitted $\alpha_m$ (loss ~ $m^{-\alpha_m}$)")
    ax.legend(fontsize=8)
    if r2:
        for (label, values), color in zip(r2.items(), PALETTE):
            axes[1].plot(series[label][0], values, "o-", color=color, ms=4, label=label)
        axes[1].set_xlabel(r"data exponent $\alpha$")
        axes[1].set_ylabel(r"$R^2$ of the power-law fit")
    return fig


def exponent_vs_density(series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                        band: tuple[float, float] | None = None, band_label: str = "") -> plt.Figure:
    """Fitted alpha_m against the activation density E, one line per gamma; optionally a shaded band."""
    fig, (ax,) = _figure(width=5.0, height=3.6)
    if band is not None:
        ax.axhspan(*band, color="grey", alpha=0.2, label=band_label)
    for (label, (E, am)), color in zip(series.items(), PALETTE):
        ax.plot(E, am, "o-", color=color, ms=4, label=label)
    ax.set_xlabel("activation density E (expected active features)")
    ax.set_ylabel(r"fitted $\alpha_m$")
    ax.legend(fontsize=8)
    return fig


# ---- chapter 6: the 1/m law

def sweep_cell(widths: Sequence[float], losses: Sequence[float], norms: Mapping[str, object],
               title: str = "") -> plt.Figure:
    """One (gamma, alpha) of a sweep: loss against m with its power-law fit and a 1/m guide (left),
    and the row norms of every width's model against feature rank (right)."""
    from .fits import fit_power_law

    ms, L = np.asarray(widths, float), np.asarray(losses, float)
    fit = fit_power_law(ms, L)
    fig, (a1, a2) = _figure(ncols=2, width=4.4, height=3.5)
    a1.plot(ms, L, "o", color=PALETTE[0], ms=6,
            label=f"trained models: $\\alpha_m$ = {fit.exponent:.2f}, $R^2$ = {fit.r2:.3f}")
    a1.plot(ms, fit(ms), "--", color=PALETTE[0], lw=1, label="power-law fit")
    a1.plot(ms, L[0] * ms[0] / ms, ":", color="grey", lw=1.5, label="$\\propto 1/m$ (through the first point)")
    a1.set_xscale("log")
    a1.set_yscale("log")
    _ticks_at(a1, ms)
    a1.set_xlabel("width m")
    a1.set_ylabel("loss on fresh data")
    a1.set_title("Loss against width")
    a1.legend(fontsize=7)
    for (label, v), color in zip(norms.items(), PALETTE[1:] + PALETTE[:1]):
        v = _numpy(v)
        a2.plot(np.arange(1, v.size + 1), v, ".", ms=2, color=color, label=label)
    a2.axhline(0.5, color="grey", ls="--", lw=1)
    a2.axhline(1.0, color="grey", ls=":", lw=1)
    a2.set_xscale("log")
    a2.set_xlabel("feature rank i")
    a2.set_ylabel("row norm $\\|W_i\\|$")
    a2.set_title("Row norms (dashed: 1/2)")
    a2.legend(fontsize=7, markerscale=4, ncols=2)
    if title:
        fig.suptitle(title)
    return fig


def interference_floor(n: int, widths: Sequence[int]) -> plt.Figure:
    """The random-vector level 1/m and the Welch bound (n - m)/(m (n - 1)) against m up to n, log-log,
    with the given widths marked: the two agree while m << n and part as m nears n."""
    from .geometry import welch_bound

    ms = np.unique(np.round(np.geomspace(min(widths), n, 60)).astype(int))
    ms = ms[ms < n]
    fig, (ax,) = _figure(width=5.2, height=3.6)
    ax.plot(ms, 1 / ms, color=PALETTE[0], lw=2, label="random unit vectors: $1/m$")
    ax.plot(ms, [welch_bound(n, int(m)) for m in ms], "--", color=PALETTE[1], lw=2,
            label="best packing (Welch bound)")
    w = np.asarray(sorted(widths))
    ax.plot(w, [welch_bound(n, int(m)) for m in w], "o", color=PALETTE[1], ms=5, label="the course's widths")
    ax.axvline(n, color="grey", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"width m (n = {n} features; dotted: m = n)")
    ax.set_ylabel("mean square overlap")
    ax.set_title("Interference floor: 1/m holds only while m ≪ n")
    ax.legend(fontsize=8)
    return fig


# ----------------------------------------------------------------------------- chapter 7: language models

def lm_loss_vs_width(widths: Sequence[float], losses: Sequence[float], fit=None,
                     init_losses: Sequence[float] | None = None) -> plt.Figure:
    """Validation loss of a family of language models against width, with an offset power-law fit."""
    fig, (ax,) = _figure()
    ax.plot(widths, losses, "o", color=PALETTE[0], ms=5, label="trained")
    if init_losses is not None:
        ax.plot(widths, init_losses, "s", color=PALETTE[7], ms=4, mfc="none", label="at initialisation")
    if fit is not None:
        grid = np.geomspace(min(widths), max(widths), 100)
        ax.plot(grid, fit(grid), "-", color=PALETTE[1], lw=1.5,
                label=f"fit $L_0 + A\\,m^{{-a}}$, $a$ = {fit.exponent:.2f} ± {fit.exponent_se:.2f}")
        ax.axhline(fit.offset, color=PALETTE[1], lw=1, ls=":", label=f"$L_0$ = {fit.offset:.2f}")
    ax.set_xscale("log")
    _ticks_at(ax, sorted(set(widths)))
    ax.set_xlabel("width m")
    ax.set_ylabel("validation loss (nats per token)")
    ax.legend()
    return fig


def overlap_ratio_vs_width(widths: Sequence[float], series: Mapping[str, Sequence[float]]) -> plt.Figure:
    """m times the mean square overlap against width, one line per way of measuring; 1 = random directions."""
    fig, (ax,) = _figure()
    ax.axhline(1.0, color=PALETTE[7], lw=1, ls="--", label="random directions (1)")
    for (label, y), color in zip(series.items(), PALETTE):
        ax.plot(widths, y, "o-", color=color, lw=1.5, ms=4, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ticks_at(ax, sorted(set(widths)))
    ax.set_xlabel("width m")
    ax.set_ylabel("m × mean square overlap")
    ax.legend()
    return fig


def token_norms(norms: Mapping[str, object], counts) -> plt.Figure:
    """Row norm of each token's vector against the token's frequency rank in the training text."""
    counts = _numpy(counts)
    order = np.argsort(-counts, kind="stable")
    ranks = np.arange(1, len(order) + 1)
    unseen = int((counts == 0).sum())
    fig, (ax,) = _figure()
    for (label, v), color in zip(norms.items(), PALETTE):
        ax.plot(ranks, _numpy(v)[order], ".", color=color, ms=2, alpha=0.6, label=label)
    if unseen:
        ax.axvspan(len(order) - unseen + 0.5, len(order), color=PALETTE[7], alpha=0.08,
                   label=f"never in the training text ({unseen})")
    ax.set_xscale("log")
    ax.set_xlabel("token frequency rank in the training text")
    ax.set_ylabel("row norm of the token vector")
    ax.legend(markerscale=4)
    return fig


def norm_histograms(norms: Mapping[str, object], bins: int = 60) -> plt.Figure:
    """Histograms of row norms divided by their median, one outline per matrix (shape, not scale)."""
    fig, (ax,) = _figure()
    all_scaled = [_numpy(v) / np.median(_numpy(v)) for v in norms.values()]
    edges = np.linspace(0, max(np.quantile(s, 0.995) for s in all_scaled) * 1.05, bins + 1)
    for (label, s), color in zip(zip(norms, all_scaled), PALETTE):
        ax.hist(s, bins=edges, density=True, histtype="step", lw=1.5, color=color, label=label)
    ax.set_xlabel("row norm / median row norm")
    ax.set_ylabel("density")
    ax.legend()
    return fig


# ---- chapter 5: strong superposition

def norm_distributions(panels: Mapping[str, Mapping[str, object]], width: float = 0.05) -> plt.Figure:
    """How row norms are distributed: one panel per group of models, one density outline per model.

    Dashed: the threshold 1/2 of phi_1/2; dotted: the threshold 1 of phi_1 (the paper's strongly
    represented rows lie to its right).
    """
    top = max(float(_numpy(v).max()) for series in panels.values() for v in series.values())
    edges = np.arange(0.0, max(1.6, top + width) + width / 2, width)
    fig, axes = _figure(len(panels), width=4.6 if len(panels) > 1 else 5.4, height=3.5)
    for ax, (title, series) in zip(axes, panels.items()):
        for (label, v), color in zip(series.items(), PALETTE):
            _density_line(ax, v, edges, color=color, lw=1.5, label=label)
        ax.axvline(0.5, color="grey", ls="--", lw=1)
        ax.axvline(1.0, color="grey", ls=":", lw=1)
        ax.set_xlim(0, edges[-1])
        ax.set_xlabel("row norm $\\|W_i\\|$")
        ax.set_ylabel("density of rows")
        ax.set_title(title)
        ax.legend(fontsize=8)
    return fig


def single_feature_response(pre, post, active: int, wrong: int | None = None, title: str = "") -> plt.Figure:
    """Every output when one feature is active alone: before the ReLU (left) and after it (right).

    x is the feature rank; the active feature is marked, and optionally one wrongly lit feature.
    """
    pre, post = _numpy(pre).astype(float), _numpy(post).astype(float)
    ranks = np.arange(1, pre.size + 1)
    fig, axes = _figure(ncols=2, width=4.4, height=3.4, sharey=True)
    for ax, values, name in zip(axes, (pre, post), ("before the ReLU: $u\\,W W_j + b$",
                                                    "after the ReLU: the output $y$")):
        others = np.ones(values.size, bool)
        others[active] = False
        if wrong is not None:
            others[wrong] = False
        ax.plot(ranks[others], values[others], ".", ms=3, color=PALETTE[0], label="other features")
        ax.plot([active + 1], [values[active]], "o", ms=8, color=PALETTE[1], label=f"the active feature ({active + 1})")
        if wrong is not None:
            ax.plot([wrong + 1], [values[wrong]], "s", ms=7, color=PALETTE[3],
                    label=f"a wrongly lit feature ({wrong + 1})")
        ax.axhline(0.0, color="grey", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("feature rank i")
        ax.set_title(name)
    axes[0].set_ylabel("value of output $i$")
    axes[1].legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    return fig


def overlap_distributions(samples: Mapping[str, object], m: int, bins: int = 80) -> plt.Figure:
    """Cosines between rows on a log density scale, one outline per set, with the normal law of variance 1/m."""
    from .geometry import gaussian_overlap_density

    edges = np.linspace(-1, 1, bins + 1)
    fig, (ax,) = _figure(width=5.4, height=3.6)
    for (label, values), color in zip(samples.items(), PALETTE):
        v = _numpy(values).astype(float)
        _density_line(ax, v, edges, color=color, lw=1.5, label=f"{label}: m × mean cos² = {m * np.mean(v ** 2):.2f}")
    x = np.linspace(-1, 1, 401)
    ax.plot(x, gaussian_overlap_density(m, x), "--", color="grey", lw=1, label="normal, variance 1/m")
    ax.set_yscale("log")
    ax.set_ylim(1e-3, None)
    ax.set_xlim(-1, 1)
    ax.set_xlabel("cosine between two rows $W_i, W_j$")
    ax.set_ylabel("probability density (log scale)")
    ax.set_title(f"Overlaps in m = {m} dimensions")
    ax.legend(fontsize=8, loc="lower center")
    return fig


def overlap_vs_width(series: Mapping[str, tuple[Sequence[float], Sequence[float]]], n: int,
                     random: tuple[Sequence[float], Sequence[float]] | None = None) -> plt.Figure:
    """Mean square overlap against width m on log-log axes, one line per curve (fitted slope in the legend),
    with the random-vector level 1/m and the Welch bound for n vectors."""
    from .fits import fit_power_law

    widths = sorted({m for ms, _ in series.values() for m in ms})
    grid = np.geomspace(min(widths), max(widths), 50)
    fig, (ax,) = _figure(width=5.6, height=3.8)
    ax.plot(grid, 1 / grid, ":", color="grey", lw=1.5, label="$1/m$ (random unit vectors, exactly)")
    ax.plot(grid, (n - grid) / (grid * (n - 1)), "--", color="black", lw=1,
            label=f"Welch bound, n = {n}")
    if random is not None:
        ax.plot(random[0], random[1], "x", color=PALETTE[7], ms=7, label="measured: random unit vectors")
    for (label, (ms, msq)), color in zip(series.items(), PALETTE):
        fit = fit_power_law(ms, msq)
        ax.plot(ms, msq, "o-", color=color, lw=1.5, ms=4, label=f"{label}: slope {fit.slope:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ticks_at(ax, widths)
    ax.set_xlabel("width m")
    ax.set_ylabel("mean square overlap $\\overline{\\cos^2}$")
    ax.set_title("Overlap of represented rows against width")
    ax.legend(fontsize=7)
    return fig


def settle_statistics(widths: Sequence[int], overlaps: Mapping[str, Sequence[float]],
                      phi_one: Mapping[str, Sequence[float]], bound: Sequence[float],
                      var_ratio: Mapping[str, Sequence[float]], welch: Sequence[float] | None = None) -> plt.Figure:
    """The paper's strong-regime statistics against width, in three panels: m times the mean square
    cosine of each set of rows (1 = random unit vectors; dotted: Welch's bound for the strong set),
    phi_1 beside the bound min(1, m^2 / 2n) (the paper's Fig. 16), and the variance of the strong set's
    squared cosines over that of random vectors (its Fig. 5c)."""
    fig, (a1, a2, a3) = _figure(ncols=3, width=3.9, height=3.4)
    for (label, y), color in zip(overlaps.items(), PALETTE):
        a1.plot(widths, y, "o-", color=color, lw=1.5, ms=4, label=label)
    a1.axhline(1.0, color="grey", ls="--", lw=1, label="random unit vectors")
    if welch is not None:
        a1.plot(widths, welch, ":", color="grey", lw=1.5, label="Welch bound, strong set")
    a1.set_yscale("log")
    a1.set_ylabel("m × mean square cosine")
    a1.set_title("Overlaps by set of rows")
    for (label, y), color in zip(phi_one.items(), PALETTE):
        a2.plot(widths, y, "o-", color=color, lw=1.5, ms=4, label=label)
    a2.plot(widths, bound, "s--", color="grey", lw=1, ms=3, label="min(1, m²/2n)")
    a2.set_ylim(0, 1.05)
    a2.set_ylabel("share of the n rows")
    a2.set_title("$\\phi_1$: rows with norm > 1")
    for (label, y), color in zip(var_ratio.items(), PALETTE):
        a3.plot(widths, y, "o-", color=color, lw=1.5, ms=4, label=label)
    a3.axhline(1.0, color="grey", ls="--", lw=1, label="random unit vectors")
    a3.set_ylim(0, 1.3)
    a3.set_ylabel("variance of cos², strong set / random")
    a3.set_title("Spread of the strong overlaps")
    for ax in (a1, a2, a3):
        ax.set_xscale("log")
        _ticks_at(ax, widths)
        ax.set_xlabel("width m")
        ax.legend(fontsize=7)
    return fig


def strong_frame(W, gammas: Sequence[float], losses: Sequence[float], gamma: float,
                 features: int = 40) -> plt.Figure:
    """One explorer frame: the model's row-norm distribution, its W W^T, and every model's test loss
    against gamma with this one marked."""
    W = _numpy(W)
    norms = np.linalg.norm(W, axis=1)
    fig, (a1, a2, a3) = _figure(ncols=3, width=3.6, height=3.3)
    edges = np.arange(0.0, max(1.6, float(norms.max()) + 0.05) + 0.025, 0.05)
    _density_line(a1, norms, edges, color=PALETTE[0], lw=1.5)
    a1.axvline(0.5, color="grey", ls="--", lw=1)
    a1.axvline(1.0, color="grey", ls=":", lw=1)
    a1.set_xlim(0, edges[-1])
    a1.set_xlabel("row norm $\\|W_i\\|$")
    a1.set_ylabel("density of rows")
    a1.set_title(f"{int((norms > 0.5).sum())} above 1/2, {int((norms > 1).sum())} above 1 (of {norms.size})")
    im = _gram_image(a2, W[:features])
    a2.set_title(f"$W W^T$, first {min(features, len(W))} features")
    _overlap_colorbar(fig, im, a2)
    a3.plot(gammas, losses, "o-", color=PALETTE[0], lw=1.5, ms=4)
    k = list(gammas).index(gamma)
    a3.plot([gamma], [losses[k]], "o", color=PALETTE[1], ms=10)
    a3.set_xlabel("weight decay γ")
    a3.set_ylabel("test loss (MSE, mean over features)")
    a3.set_title(f"test loss {losses[k]:.5f}")
    fig.suptitle(f"γ = {gamma:+g}")
    return fig


# ---- chapter 4: weak superposition

def row_norms_panels(panels: Mapping[str, Mapping[str, object]], threshold: float = 0.5) -> plt.Figure:
    """Row norm against feature rank, one panel per setting (e.g. gamma), one series per model (e.g. width)."""
    fig, axes = _figure(ncols=len(panels), width=4.2, height=3.4, sharey=True)
    top = 1.6
    for ax, (title, norms) in zip(axes, panels.items()):
        for (label, v), color in zip(norms.items(), PALETTE):
            v = _numpy(v)
            top = max(top, float(v.max()) * 1.05)
            ax.plot(np.arange(1, v.size + 1), v, ".", ms=4, label=label, color=color)
        ax.axhline(threshold, color="grey", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("feature rank i")
        ax.set_title(title)
    axes[0].set_ylim(0, top)
    axes[0].set_ylabel("row norm $\\|W_i\\|$")
    axes[-1].legend(markerscale=4, fontsize=8)
    return fig


def count_vs_width(widths: Sequence[float], counts: Mapping[str, Sequence[float]]) -> plt.Figure:
    """Number of represented features against width m, one line per setting, with the line 'count = m'."""
    fig, (ax,) = _figure()
    ax.plot(widths, widths, "--", color="grey", lw=1, label="count = m (every slot used)")
    for (label, c), color in zip(counts.items(), PALETTE):
        ax.plot(widths, c, "o-", color=color, lw=1.5, ms=4, label=label)
    ax.set_xscale("log")
    _ticks_at(ax, widths)
    ax.set_xlabel("width m")
    ax.set_ylabel("represented features ($\\|W_i\\| > 1/2$)")
    ax.set_title("How many features are stored")
    ax.legend(fontsize=8)
    return fig


def loss_vs_prediction(panels: Mapping[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]]) -> plt.Figure:
    """Measured loss against the weak-regime prediction on log-log axes, one panel per data set, with y = x.

    Each series is (predicted, measured); points on the dotted diagonal are predicted exactly.
    """
    fig, axes = _figure(ncols=len(panels), width=4.4, height=3.8)
    for ax, (title, series) in zip(axes, panels.items()):
        lo, hi = np.inf, 0.0
        for (label, (pred, meas)), color in zip(series.items(), PALETTE):
            pred, meas = np.asarray(pred, float), np.asarray(meas, float)
            ax.plot(pred, meas, "o", color=color, ms=4, alpha=0.8, label=label)
            both = np.concatenate([pred, meas])
            lo, hi = min(lo, both.min()), max(hi, both.max())
        span = np.array([lo / 1.5, hi * 1.5])
        ax.plot(span, span, ":", color="black", lw=1, label="measured = predicted")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):  # short log ranges would label every minor tick, overlapping
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlim(*span)
        ax.set_ylim(*span)
        ax.set_xlabel("predicted: loss of the left-out features")
        ax.set_ylabel("measured loss on fresh data")
        ax.set_title(title)
        ax.legend(fontsize=7)
    return fig


def weak_frame(W, gammas: Sequence[float], losses: Sequence[float], predicted: Sequence[float], gamma: float,
               features: int = 40) -> plt.Figure:
    """One explorer frame: row norms against rank, W W^T of the top features, and every model's measured
    and predicted loss against gamma with this one marked."""
    fig, (a1, a2, a3) = _figure(ncols=3, width=3.6, height=3.3)
    _norms_and_gram_panels(fig, a1, a2, _numpy(W), features)
    a3.plot(gammas, losses, "o-", color=PALETTE[0], lw=1.5, ms=4, label="measured")
    a3.plot(gammas, predicted, "s--", color=PALETTE[1], lw=1, ms=4, label="left-out features")
    k = list(gammas).index(gamma)
    a3.plot([gamma], [losses[k]], "o", color=PALETTE[0], ms=10, alpha=0.5)
    a3.set_xlabel("weight decay γ")
    a3.set_ylabel("loss (MSE, mean over features)")
    a3.set_title(f"loss {losses[k]:.2e}, predicted {predicted[k]:.2e}", fontsize=9)
    a3.legend(fontsize=8)
    fig.suptitle(f"γ = {gamma:+g}")
    return fig


# ---- chapter 8: what superposition implies

def width_limit(widths: Sequence[int], losses: Sequence[float], overlaps: Sequence[float], n: int) -> plt.Figure:
    """Loss (left) and mean square overlap (right) of trained models against width m, up to and beyond n.

    Left: the 1/m line through the first point, and the best-packing (Welch) shape
    (n - m)/(m (n - 1)) through the same point, which reaches 0 at m = n. Right: the
    measured overlaps with 1/m and the Welch bound. Dotted vertical line: m = n.
    """
    from .geometry import welch_bound

    ms, L, ov = np.asarray(widths, float), np.asarray(losses, float), np.asarray(overlaps, float)
    grid = np.geomspace(ms.min(), ms.max(), 200)
    below = grid[grid < n]
    fig, (a1, a2) = _figure(ncols=2, width=4.5, height=3.6)
    a1.plot(ms, L, "o-", color=PALETTE[0], lw=1.5, ms=5, label="trained, fresh data")
    a1.plot(grid, L[0] * ms[0] / grid, ":", color="grey", lw=1.5, label="$\\propto 1/m$ (through the first point)")
    w0 = welch_bound(n, int(ms[0]))
    a1.plot(below, [L[0] * welch_bound(n, int(round(m))) / w0 for m in below], "--", color=PALETTE[1], lw=1.2,
            label="$\\propto$ Welch bound (0 at $m = n$)")
    a2.plot(ms, ov, "o-", color=PALETTE[0], lw=1.5, ms=5, label="trained rows")
    a2.plot(grid, 1 / grid, ":", color="grey", lw=1.5, label="$1/m$ (random directions)")
    a2.plot(below, [welch_bound(n, int(round(m))) for m in below], "--", color=PALETTE[1], lw=1.2,
            label="Welch bound (best packing)")
    for ax in (a1, a2):
        ax.axvline(n, color="black", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _ticks_at(ax, ms)
        ax.set_xlabel(f"width m (dotted: m = n = {n})")
        ax.legend(fontsize=7)
    a1.set_ylabel("loss on fresh data")
    a1.set_title("Loss leaves the 1/m line as m nears n")
    a2.set_ylabel("mean square overlap $\\overline{\\cos^2}$")
    a2.set_title("Overlaps fall to the packing floor")
    return fig


def irreducible_floor(widths: Sequence[float], clean: Sequence[float], floor: float) -> plt.Figure:
    """The same loss curve without and with an irreducible part `floor`, each with its power-law fit."""
    from .fits import fit_power_law

    ms, L = np.asarray(widths, float), np.asarray(clean, float)
    noisy = L + floor
    grid = np.geomspace(ms.min(), ms.max(), 100)
    f_clean, f_noisy = fit_power_law(ms, L), fit_power_law(ms, noisy)
    fig, (ax,) = _figure(width=5.4, height=3.8)
    ax.plot(ms, L, "o", color=PALETTE[0], ms=5, label=f"model part only: $\\alpha_m$ = {f_clean.exponent:.2f}")
    ax.plot(grid, f_clean(grid), "--", color=PALETTE[0], lw=1)
    ax.plot(ms, noisy, "s", color=PALETTE[1], ms=5, label=f"with the floor added: $\\alpha_m$ = {f_noisy.exponent:.2f}")
    ax.plot(grid, f_noisy(grid), "--", color=PALETTE[1], lw=1)
    ax.axhline(floor, color="grey", ls=":", lw=1, label=f"irreducible part = {floor:.1e}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ticks_at(ax, ms)
    ax.set_xlabel("width m")
    ax.set_ylabel("loss on fresh data")
    ax.set_title("An irreducible floor flattens the log-log line")
    ax.legend(fontsize=8)
    return fig


def data_limited(test: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                 train: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None) -> plt.Figure:
    """Loss on fresh data against width, one line per data setting (fresh, or a finite pool), with the
    final training loss of the pool-trained models dotted in the same colour."""
    fig, (ax,) = _figure(width=5.4, height=3.8)
    widths = set()
    for (label, (ms, L)), color in zip(test.items(), PALETTE):
        ax.plot(ms, L, "o-", color=color, lw=1.5, ms=5, label=f"{label}: loss on fresh data")
        widths |= set(ms)
        if train and label in train:
            tm, tl = train[label]
            ax.plot(tm, tl, "x:", color=color, lw=1, ms=5, label=f"{label}: loss on its own pool")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ticks_at(ax, sorted(widths))
    ax.set_xlabel("width m")
    ax.set_ylabel("loss (MSE, mean over features)")
    ax.set_title("A finite pool of samples stops the 1/m fall")
    ax.legend(fontsize=7)
    return fig


def packing(alphas: Sequence[float], series: Mapping[str, Sequence[float]], m: int,
            mark: float | None = None) -> plt.Figure:
    """Loss against the data exponent alpha at one small width m, one line per regime (log y); optionally
    one alpha marked."""
    fig, (ax,) = _figure(width=5.2, height=3.7)
    styles = ["o-", "s-", "--", ":"]
    for (label, L), color, style in zip(series.items(), PALETTE, styles):
        ax.plot(alphas, L, style, color=color, lw=1.5, ms=5, label=label)
    if mark is not None:
        ax.axvline(mark, color="grey", lw=1, ls="-.")
    ax.set_yscale("log")
    ax.set_xlabel(r"data exponent $\alpha$ ($p_i \propto i^{-\alpha}$)")
    ax.set_ylabel("loss on fresh data")
    ax.set_title(f"Which regime packs better at m = {m}?")
    ax.legend(fontsize=8)
    return fig


def packing_frame(norms: Mapping[str, object], alphas: Sequence[float], series: Mapping[str, Sequence[float]],
                  alpha: float, m: int) -> plt.Figure:
    """One explorer frame: row norms of the two models trained on one alpha (left), and every alpha's loss
    with this one marked (right)."""
    fig, (a1, a2) = _figure(ncols=2, width=4.4, height=3.4)
    for (label, v), color in zip(norms.items(), PALETTE):
        v = _numpy(v)
        a1.plot(np.arange(1, v.size + 1), v, ".", ms=4, color=color, label=label)
    a1.axhline(0.5, color="grey", ls="--", lw=1)
    a1.set_xscale("log")
    a1.set_ylim(0, 1.6)
    a1.set_xlabel("feature rank i")
    a1.set_ylabel("row norm $\\|W_i\\|$")
    a1.set_title(f"α = {alpha:g}: which features are stored")
    a1.legend(fontsize=7, markerscale=3)
    k = list(alphas).index(alpha)
    for (label, L), color, style in zip(series.items(), PALETTE, ["o-", "s-", "--", ":"]):
        a2.plot(alphas, L, style, color=color, lw=1.2, ms=4, label=label)
        a2.plot([alpha], [L[k]], "o", color=color, ms=9, mfc="none")
    a2.set_yscale("log")
    a2.set_xlabel(r"data exponent $\alpha$")
    a2.set_ylabel("loss on fresh data")
    a2.set_title(f"m = {m}")
    a2.legend(fontsize=7)
    return fig


def polysemantic(loadings: Mapping[str, object], cosines: Mapping[str, object], unit: int, feature: int,
                 threshold: float = 0.3) -> plt.Figure:
    """Left: how strongly every feature loads on one hidden coordinate (W_ik against rank i). Right: the
    cosine of every feature's direction with one feature's direction; dashed: +-threshold."""
    fig, (a1, a2) = _figure(ncols=2, width=4.5, height=3.5)
    for (label, v), color in zip(loadings.items(), PALETTE):
        v = _numpy(v).astype(float)
        a1.plot(np.arange(1, v.size + 1), v, ".", ms=4, color=color, label=label)
    for (label, v), color in zip(cosines.items(), PALETTE):
        v = _numpy(v).astype(float).copy()
        v[feature] = np.nan  # the feature itself (cosine 1) is not interference
        a2.plot(np.arange(1, v.size + 1), v, ".", ms=4, color=color, label=label)
    for ax in (a1, a2):
        ax.axhline(0, color="grey", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("feature rank i")
        ax.legend(fontsize=7, markerscale=3)
    a2.axhline(threshold, color="grey", ls="--", lw=1)
    a2.axhline(-threshold, color="grey", ls="--", lw=1)
    a1.set_ylabel(f"loading $W_{{i,{unit + 1}}}$ on hidden unit {unit + 1}")
    a1.set_title(f"Who drives hidden unit {unit + 1}?")
    a2.set_ylabel(f"cosine of $W_i$ with $W_{{{feature + 1}}}$")
    a2.set_title(f"Who else reads along feature {feature + 1}'s direction?")
    return fig


def dictionary_match(series: Mapping[str, object], good: float = 0.9) -> plt.Figure:
    """For every feature (by rank), the best cosine between its direction and any direction of a candidate
    basis (a learned dictionary, the hidden coordinates ...); dashed: the level counted as recovered."""
    fig, (ax,) = _figure(width=5.4, height=3.6)
    for (label, v), color in zip(series.items(), PALETTE):
        v = _numpy(v).astype(float)
        ax.plot(np.arange(1, v.size + 1), v, ".-", ms=4, lw=0.8, color=color, label=label)
    ax.axhline(good, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("feature rank i (1 = most frequent)")
    ax.set_ylabel("best cosine with a basis direction")
    ax.set_title("Does some direction read out feature i alone?")
    ax.legend(fontsize=8)
    return fig


def shape_frontier(N: Sequence[float], fixed: Mapping[str, Sequence[float]], best: Sequence[float],
                   slope: float) -> plt.Figure:
    """Loss model A/m + B/l against parameters N ~ 12 m^2 l: one line per fixed depth, and the best shape
    at every N (the lower envelope) with its fitted slope."""
    fig, (ax,) = _figure(width=5.4, height=3.8)
    N = np.asarray(N, float)
    for (label, L), color in zip(fixed.items(), PALETTE[1:]):
        ax.plot(N, L, "-", color=color, lw=1.2, label=label)
    ax.plot(N, best, "-", color=PALETTE[0], lw=2.5, label=f"best shape at each N: slope {slope:.3f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters N ≈ 12 m² l")
    ax.set_ylabel("model part of the loss (arbitrary units)")
    ax.set_title("Width and depth together: the envelope")
    ax.legend(fontsize=7)
    return fig
