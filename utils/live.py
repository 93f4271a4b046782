"""Live panels: the toy model trained in the reader's browser, in plain JavaScript.

`trainer_panel(...)` is the "Train it yourself" panel (pick n, m, gamma, alpha, E, the steps and the
batch; press Train; watch the loss, the row norms and W W^T as the model trains), and
`arrows_panel(...)` the n = 5, m = 2 picture retrained as gamma and the density E move. Both return
an object that Jupyter and the website display as HTML: a <div class="course-live"> that
`_static_site/live/live_panel.js` fills with controls and pictures, trained by
`_static_site/live/toy_trainer.js` (the same model, loss, optimiser and schedule as utils.train,
checked against it by tests/test_live_trainer.py).

On the website (COURSE_STATIC_EXPLORERS=1) the HTML loads the two scripts from the site's
_static/live/ folder (copied there from _static_site/ by `html_static_path` in _config.yml), so only
pages with a panel load them. In Jupyter the same panel is shown with the scripts inlined: a reader
of the notebook gets the same experiment as a reader of the website, with no server path to
resolve, and the text beside it points to utils.train for the same run in Python.
"""

from __future__ import annotations

import html
import json
import uuid
from functools import lru_cache

from . import _validate as check
from .paths import ROOT
from .widgets import _static

LIVE = ROOT / "_static_site" / "live"
SCRIPTS = ("toy_trainer.js", "live_panel.js")
MAX_N = 400  # the browser trainer's largest model
DENSITIES = (0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


def _density_fits(n: int, alpha: float, E: float) -> None:
    """Refuse an E that would make p_1 > 1 for the power law over n features."""
    top = sum((i + 1) ** -alpha for i in range(n))
    if E > top * (1 + 1e-6):
        raise ValueError(f"E must be at most {top:.4g} for n={n}, alpha={alpha} (larger E makes p_1 > 1), got {E}")


@lru_cache(maxsize=None)
def _script(name: str) -> str:
    text = (LIVE / name).read_text()
    if "</script" in text.lower():
        raise ValueError(f"{name} contains '</script', which cannot be inlined in a page")
    return text


class LivePanel:
    """A panel's HTML: the scripts inlined (Jupyter) or loaded from the site's _static/live/ (website)."""

    def __init__(self, kind: str, config: dict, description: str):
        self.kind, self.config, self.description = kind, config, description
        self.uid = "course-live-" + uuid.uuid4().hex[:8]

    def _loader(self) -> str:
        if not _static():
            if not all((LIVE / name).exists() for name in SCRIPTS):  # utils installed without the repository
                return (f"<p>The live panel's scripts are not here ({LIVE}); the same training in Python is "
                        "<code>utils.train.train</code>.</p>")
            return "<script>" + "\n".join(_script(s) for s in SCRIPTS) + "\nwindow.CourseLive.mountAll();</script>"
        # data-content_root is Sphinx's path from this page to the site's root (e.g. "../")
        return ("<script>(function(){if(window.CourseLive){window.CourseLive.mountAll();return;}"
                "if(document.getElementById('course-live-scripts'))return;"
                "var base=(document.documentElement.getAttribute('data-content_root')||'../')+'_static/live/';"
                f"{json.dumps(list(SCRIPTS))}.forEach(function(name,i){{var s=document.createElement('script');"
                "s.src=base+name;s.async=false;if(!i)s.id='course-live-scripts';document.head.appendChild(s);});"
                "})();</script>")

    def _repr_html_(self) -> str:
        return (f'<div class="course-live" id="{self.uid}" data-live="{self.kind}" '
                f"data-config='{html.escape(json.dumps(self.config))}'>"
                f'<p class="course-live-message">{html.escape(self.description)} This panel needs JavaScript '
                "(in Jupyter: a trusted notebook).</p></div>" + self._loader())


def trainer_panel(n: int = 200, m: int = 20, gamma: float = -1.0, alpha: float = 1.0, E: float = 1.0,
                  steps: int = 1500, batch: int = 256, seed: int = 0) -> LivePanel:
    """The "Train it yourself" panel, starting from these settings (the reader can change them all)."""
    m, n = check.width(m, n)
    if n > MAX_N:
        raise ValueError(f"n must be at most {MAX_N} for the browser trainer, got {n}")
    gamma = check.finite_float("gamma", gamma, low=-1.0, high=1.0)
    alpha = check.finite_float("alpha", alpha, low=0.0, high=3.0)
    E = check.finite_float("E", E, low=0.0, low_open=True)
    _density_fits(n, alpha, E)
    steps = check.integer("steps", steps, 100, 10_000)
    batch = check.integer("batch", batch, 16, 1024)
    seed = check.integer("seed", seed, 0, 999_999)
    return LivePanel("trainer", dict(n=n, m=m, gamma=gamma, alpha=alpha, E=E, steps=steps, batch=batch, seed=seed),
                     f"Train the toy model in your browser (n = {n}, m = {m}, gamma = {gamma:g} to start).")


def arrows_panel(gamma: float = -1.0, E: float = 0.5, alpha: float = 0.5, steps: int = 2000, batch: int = 256,
                 warmup: int = 200, seed: int = 0) -> LivePanel:
    """The n = 5, m = 2 model, retrained in the browser whenever the reader moves gamma or E."""
    gamma = check.finite_float("gamma", gamma, low=-1.0, high=1.0)
    alpha = check.finite_float("alpha", alpha, low=0.0, high=3.0)
    if E not in DENSITIES:
        raise ValueError(f"E must be one of the slider's densities {DENSITIES}, got {E}")
    densities = [d for d in DENSITIES if d <= sum((i + 1) ** -alpha for i in range(5))]
    _density_fits(5, alpha, E)
    steps = check.integer("steps", steps, 100, 5000)
    batch = check.integer("batch", batch, 16, 1024)
    warmup = check.integer("warmup", warmup, 0, steps)
    seed = check.integer("seed", seed, 0, 999_999)
    return LivePanel("arrows", dict(n=5, gamma=gamma, E=E, alpha=alpha, steps=steps, batch=batch, warmup=warmup,
                                    seed=seed, densities=densities),
                     "The five rows of W as arrows, trained in your browser as you move gamma and E.")
