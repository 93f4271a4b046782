"""Every figure of the course: functions that take data and return a matplotlib Figure.

One house style: the Okabe-Ito colour-blind-safe palette, labelled axes,
light grids, no top/right spines. Notebooks only call these functions.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

#: Okabe & Ito (2008) colour-blind-safe palette
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
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


def gram_matrices(mats: Mapping[str, object], features: int = 40) -> plt.Figure:
    """W W^T for the first `features` features of each model, side by side, on one colour scale."""
    fig, axes = _figure(ncols=len(mats), width=3.6, height=3.4)
    im = None
    for ax, (label, W) in zip(axes, mats.items()):
        im = _gram_image(ax, _numpy(W)[:features])
        ax.set_title(label)
    _overlap_colorbar(fig, im, axes)
    return fig


def norms_and_gram(W, title: str = "", features: int = 40) -> plt.Figure:
    """One trained model: row norms against rank (left) and W W^T of the top features (right)."""
    W = _numpy(W)
    fig, (a1, a2) = _figure(ncols=2, width=4.2, height=3.4)
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
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(series) > 1:
        ax.legend()
    return fig
