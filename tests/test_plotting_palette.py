"""Every colour of the house palette stands out from the white figure background (WCAG 2.1, 1.4.11: 3:1)."""

import matplotlib

from utils import plotting


def _relative_luminance(hex_colour: str) -> float:
    """WCAG 2.1's relative luminance, written from its definition."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_relative_luminance(a), _relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_every_palette_colour_has_3_to_1_contrast_on_the_figure_background():
    background = matplotlib.colors.to_hex(matplotlib.rcParams["figure.facecolor"]).upper()
    assert background == "#FFFFFF"
    low = {c: round(_contrast(c, background), 2) for c in plotting.PALETTE if _contrast(c, background) < 3.0}
    assert not low, f"palette colours below 3:1 against white: {low}"


def test_the_contrast_formula_is_right():
    assert round(_contrast("#000000", "#FFFFFF"), 1) == 21.0
    assert round(_contrast("#E69F00", "#FFFFFF"), 2) == 2.25  # the old orange, which the issue measured
    assert round(_contrast("#767676", "#FFFFFF"), 1) == 4.5   # WCAG's well-known AA grey
