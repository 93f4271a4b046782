"""`python -m utils figures`: every sweep figure from a sweep file, and what happens with a partial or bad one."""

import pytest

from utils import figures, sweep
from utils.__main__ import main


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    """Two groups of the quick preset: the grid's alpha = 0.5 at m = 5 and 8, gamma = +-1."""
    out = tmp_path_factory.mktemp("partial")
    limit, sweep.MAX_STACK = sweep.MAX_STACK, 2  # one group (two gammas) per stack
    try:
        return sweep.run("quick", out, progress=False, argv=["test"], stop_after=2).parent
    finally:
        sweep.MAX_STACK = limit


def test_partial_sweep_draws_what_it_can_and_names_the_rest(partial, tmp_path, capsys):
    assert main(["figures", str(partial), "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert {p.name for p in tmp_path.iterdir()} == {"phase.png", "exponents.png", "exponent_map.png"}
    assert "'shapes' skipped" in captured.err and "'density' skipped" in captured.err
    assert "part 'shapes'" in captured.err


def test_figure_functions_return_figures_and_say_what_is_missing(partial):
    doc = sweep.load(partial)
    fig = figures.phase(doc)
    assert fig.axes[0].get_xlabel().startswith("weight decay")
    with pytest.raises(figures.MissingData, match="part 'density'"):
        figures.density(doc)
    with pytest.raises(figures.MissingData, match="m = 63"):
        figures.phase(doc, m=63)


def test_corrupt_sweep_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "sweep.json").write_text("{not json")
    assert main(["figures", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid JSON" in err
