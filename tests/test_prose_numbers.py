"""Prose never states a number that a run produces.

A number a learner reads in a notebook's text must agree with the run they are looking at, so it
must come from the run: printed by a code cell, or glued into the text with myst-nb's
{glue:text}`name` role. Recorded runs (results too slow to rerun) are printed from
course_lib/recorded_runs.json by code, with their label. This test reads every markdown cell and
fails on a measured-looking number (a decimal like 0.48, a percentage like 12%, a ratio like 3x,
a count like 21/25) in plain prose, unless its sentence cites its source (a published figure:
{cite}`key`, "et al." or an arXiv number). Mathematics ($...$, $$...$$) and code (`...`) are not
read: constants and settings belong there.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

MEASURED = re.compile(
    r"(?<![\w.])("
    r"\d+(?:\.\d+)?\s?%"  # 12%, 0.5 %
    r"|\d*\.\d+(?!\d|\.\d)"  # 0.48, 17.1 (not a version such as 2.14.1)
    r"|\d+(?:\.\d+)?\s?[x×](?![\w])"  # 3x, 2.5×
    r"|\d+\s?/\s?\d+(?![\w/])"  # 21/25 (modes, units)
    r")"
)
CITATION = re.compile(r"\{cite(:\w+)?\}`|et al\.|arXiv:?\s?\d{4}\.\d{4,5}")
HIDDEN = [
    re.compile(r"\$\$.*?\$\$", re.S),  # display math
    re.compile(r"(?<!\\)\$.+?(?<!\\)\$"),  # inline math
    re.compile(r"```.*?```", re.S),  # code blocks
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # roles: {glue:text}`name`, {cite}`key`, {doc}`page`
    re.compile(r"`[^`]*`"),  # inline code
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"https?://\S+"),
    re.compile(r"<[^>]+>"),  # html tags
]


SENTENCE_END = re.compile(r"(?<!et al\.)(?<!e\.g\.)(?<!i\.e\.)(?<=[.!?:;])\s+(?=[A-Z*(\[])")


def blocks(markdown):
    """Sentences (of paragraphs and list items): the unit a citation covers."""
    text = re.sub(r"\$\$.*?\$\$", lambda m: m.group(0).replace("\n", " "), markdown, flags=re.S)
    for paragraph in re.split(r"\n\s*\n", text):
        for item in re.split(r"\n(?=\s*(?:[-*]|\d+\.)\s)", paragraph):
            yield from SENTENCE_END.split(item)


def unsupported_numbers(markdown):
    """The measured-looking numbers of plain prose in `markdown` that no citation covers."""
    found = []
    for block in blocks(markdown):
        if CITATION.search(block):
            continue
        plain = block
        for pattern in HIDDEN:
            plain = pattern.sub(" ", plain)
        found += [(m.group(1), plain[max(0, m.start() - 60): m.end() + 20].replace("\n", " "))
                  for m in MEASURED.finditer(plain)]
    return found


def test_the_rule_on_known_cases():
    assert [n for n, _ in unsupported_numbers("The run reached an accuracy of 0.480.")] == ["0.480"]
    assert [n for n, _ in unsupported_numbers("It covered 21/25 modes, 12% of them well, 3x faster.")] == [
        "21/25", "12%", "3x"]
    assert unsupported_numbers("The accuracy is {glue:text}`accuracy:.3f`, printed above.") == []
    assert unsupported_numbers("The paper reports a 5% error (Chen et al., 2016).") == []
    assert unsupported_numbers("A bound of 87 nats {cite}`burda2016iwae`, about 0.9 per pixel.") == []
    assert unsupported_numbers("With $\\beta_1 = 0.5$ and `lr = 2e-4`, see $$H = 0.693$$.") == []
    assert unsupported_numbers("Install torch 2.14.1 or newer.") == []
    cited, uncited = "Salimans et al. report 8.09.", "Our run scores 8.31."
    assert [n for n, _ in unsupported_numbers(cited + "\n\n" + uncited)] == ["8.31"]
    assert [n for n, _ in unsupported_numbers(cited + " " + uncited)] == ["8.31"]
    assert [n for n, _ in unsupported_numbers(f"- {cited}\n- {uncited}")] == ["8.31"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_states_no_run_dependent_number(path):
    cells = json.loads(path.read_text())["cells"]
    problems = [(cell.get("id"), number, context)
                for cell in cells if cell["cell_type"] == "markdown"
                for number, context in unsupported_numbers("".join(cell["source"]))]
    assert not problems, (
        f"{path.name}: numbers in prose that a run produces must be printed by a code cell or glued "
        "({glue:text}`name`), recorded runs printed from course_lib/recorded_runs.json, published "
        "figures cited in the same paragraph; constants go in $math$:\n"
        + "\n".join(f"  cell {cid}: {number!r} in ...{context}..." for cid, number, context in problems))
