"""Interactive explorers: one call, a live ipywidgets control in Jupyter, a kernel-free one on the website.

`explore(render, gamma=[...], ...)` takes a function that draws a Figure for
one choice of each setting, and the values each setting may take. In Jupyter
it shows sliders that redraw live. When COURSE_STATIC_EXPLORERS=1 (set by
`make book`), it draws every combination once and shows them behind plain
HTML sliders with a few lines of JavaScript, so the published page works
without a kernel and never shows a dead widget.

The kernel-free frames are PNGs reduced to a 256-colour palette (plots have few
colours, so this is visually lossless and about three times smaller), each
slider is a native range input (arrow keys, Home and End move it) whose
announced value is the setting's value, and every frame carries its own alt
text, which the website requires.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import os
import uuid
from typing import Callable, Sequence

MAX_FRAMES = 60


def _static() -> bool:
    return os.environ.get("COURSE_STATIC_EXPLORERS") == "1"


def _png(fig) -> str:
    """The figure as a base64 PNG, palette-compressed when that is smaller."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    data = _compress_png(buf.getvalue())
    return base64.b64encode(data).decode("ascii")


def _compress_png(data: bytes) -> bytes:
    """The same picture as a 256-colour palette PNG (no dithering), if that is smaller."""
    try:
        from PIL import Image
    except ImportError:  # Pillow comes with matplotlib; keep the plain PNG if it is missing
        return data
    image = Image.open(io.BytesIO(data))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")  # the page is white; figures are opaque anyway
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    quantized = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantized.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(data) else data


def _format(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def explore(render: Callable, alt: str | Callable = "", **settings: Sequence):
    """Show render(**choice) for every choice of settings, with one slider per setting."""
    if not settings:
        raise ValueError("explore needs at least one setting, e.g. gamma=[-1, 0.5, 1]")
    for name, values in settings.items():
        if len(values) < 2:
            raise ValueError(f"setting {name!r} needs at least two values to explore, got {list(values)}")
    n_frames = 1
    for values in settings.values():
        n_frames *= len(values)
    if n_frames > MAX_FRAMES:
        raise ValueError(f"{n_frames} combinations is too many for a static explorer (at most {MAX_FRAMES})")
    if _static():
        if not alt:
            raise ValueError("alt is required on the website: a sentence (or a function of the settings "
                             "returning one) that names the axes and what the picture shows")
        return StaticExplorer(render, alt, settings)
    return _live(render, settings)


def _live(render: Callable, settings: dict):
    import ipywidgets as w
    from IPython.display import display

    sliders = {k: w.SelectionSlider(options=list(v), value=list(v)[len(v) // 2], description=k,
                                    continuous_update=False) for k, v in settings.items()}
    out = w.Output()

    def draw(change=None):
        with out:
            out.clear_output(wait=True)
            display(render(**{k: s.value for k, s in sliders.items()}))

    for s in sliders.values():
        s.observe(draw, names="value")
    draw()
    return w.VBox([*sliders.values(), out])


class StaticExplorer:
    """Every frame drawn in advance; HTML range inputs pick the frame to show."""

    def __init__(self, render: Callable, alt: str | Callable, settings: dict):
        self.names = list(settings)
        self.values = [list(v) for v in settings.values()]
        self.frames, self.alts = {}, {}
        for idx in itertools.product(*[range(len(v)) for v in self.values]):
            choice = {k: v[i] for k, v, i in zip(self.names, self.values, idx)}
            key = "-".join(map(str, idx))
            self.frames[key] = _png(render(**choice))
            self.alts[key] = alt(**choice) if callable(alt) else alt

    def _repr_html_(self) -> str:
        uid = "explorer-" + uuid.uuid4().hex[:8]
        start = [len(v) // 2 for v in self.values]
        key = "-".join(map(str, start))
        controls = []
        for j, (name, vals) in enumerate(zip(self.names, self.values)):
            labels = [_format(v) for v in vals]
            controls.append(
                f'<label style="display:block;margin:4px 0">{html.escape(name)} = '
                f'<output id="{uid}-o{j}" for="{uid}-s{j}">{html.escape(labels[start[j]])}</output><br>'
                f'<input type="range" id="{uid}-s{j}" min="0" max="{len(vals) - 1}" step="1" '
                f'value="{start[j]}" aria-label="{html.escape(name)}" '
                f'aria-valuetext="{html.escape(name)} = {html.escape(labels[start[j]])}" style="width:60%" '
                f"data-name='{html.escape(name)}' data-labels='{html.escape(json.dumps(labels))}'></label>")
        script = (
            "(function(){"
            f"var root=document.getElementById('{uid}');"
            f"var frames={json.dumps(self.frames)};var alts={json.dumps(self.alts)};"
            "var inputs=root.querySelectorAll('input[type=range]');"
            "var img=root.querySelector('img');"
            "function show(){var key=[];inputs.forEach(function(s,j){key.push(s.value);"
            "var label=JSON.parse(s.dataset.labels)[s.value];"
            "root.querySelector('output[id$=\"-o'+j+'\"]').textContent=label;"
            "s.setAttribute('aria-valuetext',s.dataset.name+' = '+label);});"
            "key=key.join('-');img.src='data:image/png;base64,'+frames[key];img.alt=alts[key];"
            "img.dataset.frame=key;}"
            "inputs.forEach(function(s){s.addEventListener('input',show);});})();")
        names = ", ".join(self.names)
        return (f'<div class="course-explorer" id="{uid}" role="group" '
                f'aria-label="Explorer: move the slider{"s" if len(self.names) > 1 else ""} ({html.escape(names)}) '
                f'to change the figure">{"".join(controls)}'
                f'<img src="data:image/png;base64,{self.frames[key]}" alt="{html.escape(self.alts[key])}" '
                f'data-frame="{key}" style="max-width:100%">'
                f"<script>{script}</script></div>")
