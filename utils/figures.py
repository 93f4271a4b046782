"""The sweep figures (the paper's figures 1, 3, 4 and 7 at this course's scale), from any sweep file.

Each function takes a loaded sweep (`utils.sweep.load`) and returns a Figure,
or raises MissingData naming what the sweep lacks. The chapters call these
functions; `python -m utils figures DIR` draws all of them into PNG files, so a
reader who ran `sweep --preset paper` sees the paper-scale version.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from . import plotting, results
from .sweep import load

PAPER_DENSITY_BAND = (1.0, 1.2)  # the paper reports alpha_m = 1.1 +- 0.1 across E in strong superposition


class MissingData(ValueError):
    """The sweep holds no models for a figure (e.g. a partial sweep or another preset)."""


def _need(rows, what: str, doc) -> list:
    if not rows:
        raise MissingData(f"the sweep ({doc['settings']['preset']}) has no {what}")
    return rows


def _regime(gamma: float) -> str:
    return f"strong superposition ($\\gamma$ = {gamma:g})" if gamma < 0 else f"weak superposition ($\\gamma$ = {gamma:g})"


def _shape_label(row: dict) -> str:
    if row["distribution"] == "exponential":
        return f"exponential (decay length {row['scale']:g})"
    if row["distribution"] == "power":
        return f"power law ($\\alpha$ = {row['alpha']:g})"
    return "linear"


def shapes(doc: dict):
    """Figure 1: loss against m for each frequency shape, weak (gamma > 0) beside strong (gamma < 0)."""
    rows = _need(results.table(doc, part="shapes"), "frequency-shape models (part 'shapes')", doc)
    panels = {}
    for gamma in sorted({r["gamma"] for r in rows}, reverse=True):
        panels[_regime(gamma)] = {_shape_label(r): (r["widths"], r["losses"]) for r in rows if r["gamma"] == gamma}
    return plotting.loss_vs_width(panels)


def _grid(doc: dict):
    rows = _need(results.table(doc, part="grid"), "(gamma, alpha) grid (part 'grid')", doc)
    gammas = sorted({r["gamma"] for r in rows})
    alphas = sorted({r["alpha"] for r in rows})
    cell = {(r["alpha"], r["gamma"]): r for r in rows}
    return gammas, alphas, cell


def phase(doc: dict, m: int | None = None):
    """Figure 3: the represented fraction phi_1/2 over (gamma, alpha) at width m (default: the widest)."""
    recs = _need(results.records(doc, part="grid"), "(gamma, alpha) grid (part 'grid')", doc)
    m = max(r["m"] for r in recs) if m is None else m
    recs = _need([r for r in recs if r["m"] == m], f"grid models at m = {m}", doc)
    gammas = sorted({r["gamma"] for r in recs})
    alphas = sorted({r["alpha"] for r in recs})
    values = np.full((len(alphas), len(gammas)), np.nan)
    for r in recs:
        values[alphas.index(r["alpha"]), gammas.index(r["gamma"])] = r["phi_half"]
    return plotting.phase_map(gammas, alphas, values, r"$\phi_{1/2}$ (share of rows with norm > 1/2)",
                              title=f"represented fraction at m = {m}, n = {recs[0]['n']}", vmin=0, vmax=1)


def exponents(doc: dict):
    """Figure 4: fitted alpha_m (and R^2) against alpha for each gamma, with the two regime predictions."""
    gammas, alphas, cell = _grid(doc)
    series, r2 = {}, {}
    for g in gammas:
        pts = [(a, cell[(a, g)]) for a in alphas if (a, g) in cell]
        series[f"$\\gamma$ = {g:g}"] = ([a for a, _ in pts], [r["alpha_m"] for _, r in pts])
        r2[f"$\\gamma$ = {g:g}"] = [r["r2"] for _, r in pts]
    return plotting.exponent_vs_alpha(series, r2)


def exponent_map(doc: dict):
    """Figure 4 as a heat map: alpha_m over (gamma, alpha)."""
    gammas, alphas, cell = _grid(doc)
    values = [[cell[(a, g)]["alpha_m"] if (a, g) in cell else np.nan for g in gammas] for a in alphas]
    return plotting.phase_map(gammas, alphas, values, r"fitted $\alpha_m$", title="loss ~ $m^{-\\alpha_m}$",
                              cmap="magma")


def density(doc: dict):
    """Figure 7: alpha_m against the activation density E (alpha = 1), strong and weak."""
    rows = [r for r in results.table(doc, distribution="power", alpha=1.0)
            if r["part"] in ("grid", "density") and r["gamma"] in (-1.0, 1.0)]
    if not any(r["part"] == "density" for r in rows):
        _need([], "density sweep (part 'density')", doc)
    series = {}
    for g in sorted({r["gamma"] for r in rows}):
        pts = sorted((r["E"], r["alpha_m"]) for r in rows if r["gamma"] == g)
        series[_regime(g)] = ([e for e, _ in pts], [a for _, a in pts])
    return plotting.exponent_vs_density(series, PAPER_DENSITY_BAND, "the paper's strong regime: 1.1 ± 0.1")


FIGURES = {"shapes": shapes, "phase": phase, "exponents": exponents, "exponent_map": exponent_map,
           "density": density}


def draw_all(source, out: str | Path) -> list[Path]:
    """Write every figure the sweep has data for to out/NAME.png; warn about the ones it cannot draw."""
    doc = source if isinstance(source, dict) else load(Path(source))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in FIGURES.items():
        try:
            fig = make(doc)
        except MissingData as e:
            warnings.warn(f"figure {name!r} skipped: {e}", stacklevel=2)
            continue
        path = out / f"{name}.png"
        fig.savefig(path, dpi=110)
        written.append(path)
    return written
