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


# ---- chapter 6: the 1/m law

def _grid_steps(doc: dict) -> int:
    """The step count of the (gamma, alpha) grid."""
    return min(r["steps"] for r in _need(results.records(doc, part="grid"), "(gamma, alpha) grid (part 'grid')", doc))


def represented_vs_gamma(doc: dict, alpha: float = 1.0):
    """Figure 3a: phi_1/2 against gamma at one alpha of the grid, one line per width m."""
    recs = _need(results.records(doc, part="grid", alpha=alpha), f"grid models at alpha = {alpha:g}", doc)
    gammas = sorted({r["gamma"] for r in recs})
    series = {}
    for m in sorted({r["m"] for r in recs}):
        by_gamma = {r["gamma"]: r["phi_half"] for r in recs if r["m"] == m}
        series[f"m = {m}"] = [by_gamma.get(g, np.nan) for g in gammas]
    return plotting.summary_vs(gammas, series, xlabel=r"weight decay $\gamma$",
                               ylabel=r"$\phi_{1/2}$ (share of rows with norm > 1/2)",
                               title=f"represented fraction at $\\alpha$ = {alpha:g}, n = {recs[0]['n']}")


def _strong_pairs(doc: dict) -> list[tuple[float, float]]:
    """(gamma < 0, alpha) of the E = 1 power law trained both for the grid's steps and for longer."""
    grid = _grid_steps(doc)
    longer = {(r["gamma"], r["alpha"]) for r in results.records(doc, distribution="power", s=0.0)
              if r["part"] in ("steps", "long") and r["steps"] > grid and r["gamma"] < 0}
    return sorted(longer)


def _curve(doc: dict, gamma: float, alpha: float, steps: int) -> dict:
    rows = [r for r in results.table(doc, distribution="power", s=0.0, gamma=gamma, alpha=alpha, steps=steps)
            if r["part"] in ("grid", "steps", "long")]
    return _need(rows, f"power-law curve at gamma = {gamma:g}, alpha = {alpha:g}, {steps} steps", doc)[0]


def training_length(doc: dict, cells: tuple = ((-1.0, 0.0), (-1.0, 1.0))):
    """Loss against m after the grid's steps and after the longest training, one panel per (gamma, alpha)."""
    grid = _grid_steps(doc)
    longer = _need([c for c in cells if c in _strong_pairs(doc)], "longer-trained curves (parts 'steps'/'long')", doc)
    panels = {}
    for gamma, alpha in longer:
        best = results.longest(results.table(doc, distribution="power", s=0.0, gamma=gamma, alpha=alpha))
        steps = best[(gamma, alpha)]["steps"]
        series = {}
        for st in (grid, steps):
            c = _curve(doc, gamma, alpha, st)
            series[f"{st:,} steps"] = (c["widths"], c["losses"])
        panels[f"$\\gamma$ = {gamma:g}, $\\alpha$ = {alpha:g}"] = series
    return plotting.loss_vs_width(panels)


def exponents_by_steps(doc: dict):
    """Figure 4 for the strong regime: alpha_m against alpha after the grid's steps and after longer training."""
    grid = _grid_steps(doc)
    pairs = _need(_strong_pairs(doc), "longer-trained curves (parts 'steps'/'long')", doc)
    gammas = sorted({g for g, _ in pairs})
    series, r2 = {}, {}
    for g in gammas:
        rows = sorted((r for r in results.table(doc, part="grid", gamma=g)), key=lambda r: r["alpha"])
        label = f"$\\gamma$ = {g:g}, {grid:,} steps"
        series[label] = ([r["alpha"] for r in rows], [r["alpha_m"] for r in rows])
        r2[label] = [r["r2"] for r in rows]
    for g in gammas:
        best = results.longest(results.table(doc, distribution="power", s=0.0, gamma=g))
        rows = sorted((r for (gg, a), r in best.items() if (gg, a) in pairs), key=lambda r: r["alpha"])
        steps = sorted({r["steps"] for r in rows})
        label = f"$\\gamma$ = {g:g}, {', '.join(f'{s:,}' for s in steps)} steps"
        series[label] = ([r["alpha"] for r in rows], [r["alpha_m"] for r in rows])
        r2[label] = [r["r2"] for r in rows]
    return plotting.exponent_vs_alpha(series, r2)


def cell(doc: dict, gamma: float, alpha: float):
    """One (gamma, alpha) of the E = 1 power law, its longest-trained curve: loss against m with the fit,
    and the row norms of the model at each width."""
    best = results.longest(results.table(doc, distribution="power", s=0.0, gamma=gamma, alpha=alpha))
    row = _need(list(best.values()), f"power-law curve at gamma = {gamma:g}, alpha = {alpha:g}", doc)[0]
    recs = sorted(results.records(doc, part=row["part"], distribution="power", s=0.0, gamma=gamma, alpha=alpha,
                                  steps=row["steps"]), key=lambda r: r["m"])
    norms = {f"m = {r['m']}": r["row_norms"] for r in recs}
    title = (f"$\\gamma$ = {gamma:g}, $\\alpha$ = {alpha:g}, n = {recs[0]['n']}, {row['steps']:,} steps: "
             f"$\\phi_{{1/2}}$ from {row['phi_half'][0]:.2f} (m = {row['widths'][0]}) "
             f"to {row['phi_half'][-1]:.2f} (m = {row['widths'][-1]})")
    return plotting.sweep_cell(row["widths"], row["losses"], norms, title=title)


# `python -m utils figures` draws these too (each is skipped, with a warning, when a sweep lacks its data)
FIGURES.update(represented_vs_gamma=represented_vs_gamma, training_length=training_length,
               exponents_by_steps=exponents_by_steps)
