"""The paper's numbers that the book quotes come from one table, utils.results.PAPER_NUMBERS.

A chapter quotes a number of Liu, Liu & Gore (2025) as `results.paper_quote(key)`: a
`<span class="paper-number" data-key=...>` around the table's own text, with the table's source
as its hover title. These tests check that every such span in the book is exactly what the table
gives, that no "a ± b" and no distinctive paper number sits in the text untagged (a retyped
number), that each table entry says where in the paper (or its code) it comes from, and that the
numbers of each quote are the entry's value and error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from utils import results
from utils.results import PAPER_NUMBERS, paper_quote

ROOT = Path(__file__).resolve().parents[1]
SPAN = re.compile(r'<span class="paper-number"(?P<attrs>[^>]*)>(?P<text>.*?)</span>', re.S)
KEY = re.compile(r'data-key="([^"]*)"')
PLUS_MINUS = re.compile(r"\d[\d.,]*\s*(?:±|\\pm)\s*\d[\d.,]*")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?%?")
#: a citation of the paper or its code in an entry's `where`
CITES = re.compile(r"\b(?:figs?\.|App\.|sec\.|Eq\.)|exp-\d+\.py|overlap-0\.py", re.I)
#: quoted numbers that appear nowhere in the book except as the paper's, so an untagged copy is a retype
DISTINCTIVE = ("10,240", "8,192", "40,000", "2.52")


def book_markdown():
    """(place, text) for every markdown cell of the chapters and every page of the book's front and appendix."""
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for k, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                yield f"{path.name} cell {k} ({cell.get('id')})", "".join(cell["source"])
    for path in [ROOT / "intro.md", *sorted((ROOT / "appendix").glob("*.md"))]:
        yield path.relative_to(ROOT).as_posix(), path.read_text()


def problems(text: str) -> list[str]:
    """What is wrong with the paper's numbers in one text: spans that differ from the table, untagged retypes."""
    out = []
    for span in SPAN.finditer(text):
        key = KEY.search(span["attrs"])
        if key is None or key[1] not in PAPER_NUMBERS or PAPER_NUMBERS[key[1]].quote is None:
            out.append(f"unknown or unquoted key in {span[0][:80]!r}")
        elif span[0] != paper_quote(key[1]):
            out.append(f"{key[1]}: the text has {span[0]!r}, the table gives {paper_quote(key[1])!r}")
    rest = SPAN.sub(" ", text).replace("{,}", ",")  # LaTeX writes 10{,}240
    out += [f"untagged a ± b: {m[0]!r} (quote the paper with results.paper_quote)" for m in PLUS_MINUS.finditer(rest)]
    out += [f"untagged paper number {q!r}" for q in DISTINCTIVE if re.search(rf"(?<![\d,.]){re.escape(q)}(?![\d,])", rest)]
    return out


def numbers(text: str) -> set[float]:
    return {float(t.rstrip("%").replace(",", "")) / (100 if t.endswith("%") else 1) for t in NUMBER.findall(text)}


def flat(value) -> set[float]:
    if value is None:
        return set()
    return {float(v) for v in value} if isinstance(value, tuple) else {float(value)}


@pytest.mark.parametrize("key", sorted(PAPER_NUMBERS))
def test_each_entry_says_where_in_the_paper_it_comes_from(key):
    entry = PAPER_NUMBERS[key]
    assert CITES.search(entry.where), f"{key}: {entry.where!r} names no figure, section, appendix or code file"


@pytest.mark.parametrize("key", sorted(k for k, v in PAPER_NUMBERS.items() if v.quote is not None))
def test_each_quote_prints_the_entry_value_and_error(key):
    entry = PAPER_NUMBERS[key]
    assert numbers(entry.quote) == flat(entry.value) | flat(entry.error), (key, entry.quote)


def test_every_quote_in_the_book_is_the_table_s():
    found = [f"{place}: {p}" for place, text in book_markdown() for p in problems(text)]
    assert not found, "\n".join(found)


def test_the_chapters_quote_the_headline_numbers_from_the_table():
    text = "\n".join(t for _, t in book_markdown())
    used = {m[1] for m in KEY.finditer(text)}
    needed = {"fig1_n", "fig1_decay_length", "fig1_steps_code", "fig1_batch", "fig1_alpha_m_exponential",
              "fig1_alpha_m_power", "fig1_alpha_m_linear", "density_alpha_m", "llm_models",
              "llm_model_part_slope", "chinchilla_N_vs_m", "chinchilla_alpha_N", "chinchilla_alpha_m"}
    assert needed <= used, f"not quoted from the table anywhere in the book: {sorted(needed - used)}"


def test_the_check_catches_retyped_and_wrong_numbers():
    good = f"the paper finds {paper_quote('chinchilla_alpha_m')}"
    assert problems(good) == []
    assert problems("the paper's model part falls with a slope of 0.92 ± 0.04")  # retyped, wrong
    assert problems(r"fitted as $0.91 \pm 0.04$")  # retyped in LaTeX, even if right
    assert problems("at n = 10,240 the paper")  # a distinctive number retyped
    assert not problems("at n = 1,000 and m = 10,240,000")  # other numbers are not mistaken for it
    wrong = paper_quote("chinchilla_alpha_m").replace("0.88", "0.86")
    assert problems(wrong) and "the table gives" in problems(wrong)[0]
    stale = paper_quote("density_alpha_m").replace("figs. 14-15", "fig. 7")  # the source changed in the table
    assert problems(stale)
    assert "unknown" in problems('<span class="paper-number" data-key="nope">1</span>')[0]


def test_paper_quote_refuses_unknown_and_unquoted_keys():
    with pytest.raises(ValueError, match="key must be a quoted entry"):
        paper_quote("no_such_number")
    with pytest.raises(ValueError, match="key must be a quoted entry"):
        paper_quote("strong_shapes_r2")  # shown only in chapter 6's table


def test_comparison_table_takes_the_shape_exponents_from_the_quoted_entries():
    shapes = results._shapes()
    assert shapes.value == (1.01, 1.0, 0.89)
    for key in ("fig1_alpha_m_exponential", "fig1_alpha_m_power", "fig1_alpha_m_linear"):
        assert PAPER_NUMBERS[key].quote in shapes.where
