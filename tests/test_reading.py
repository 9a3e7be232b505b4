"""The chapters read like a course: the reader builds the CapsNet, the checking stays out of sight.

What CONTRIBUTING.md ("The reader's pieces", "Reads like a course") asks of every chapter, held
on the notebooks themselves: the pieces of chapters 2-6 and their folded copies in the chapters
after them, chapter 7's model made of them, no assertion in a cell the reader sees, no note on
how the page was run, a recap with three self-check questions, a predict-then-run exercise, and
prose that speaks to the learner.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import carry_pieces  # noqa: E402

from capsnet_lib.explanations import EXPLANATIONS  # noqa: E402
from tests.test_chapter_conventions import CHAPTERS, CHECK_CALL, cells, tags  # noqa: E402

# The names chapter 7 assembles, by the chapter that builds them.
PIECES = {
    2: {"safe_norm", "squash", "PrimaryCaps"},
    3: {"route", "DigitCaps"},
    4: {"margin_loss"},
    5: {"mask"},
    6: {"make_decoder", "total_loss"},
}
# Tags under which a cell's code is not part of the reading (removed, or folded away).
HIDDEN = {"remove-cell", "remove-input", "hide-cell", "hide-input"}
# Exercise cells stay visible: they are for the reader.
EXERCISE = {"check", "solution"}
# What the prose must not speak of: the checks, the build, the project's internals.
AUDIT_WORDS = re.compile(
    r"\basserted\b|\bassertions?\b|\bthe cell asserts\b|\bnbval\b|\bthe build\b|PITFALLS|"
    r"\btools/|\btests/|\bissue \d+",
    re.IGNORECASE,
)
# A chapter's run: machinery the reader need not meet there (the appendix has it).
RUN_MACHINERY = ("How this page was run", "run_note(", "capsnet_lib.page")
DIRECTIVE = re.compile(r"^```\{(\w[\w-]*)\}", re.M)


def defined_names(source: str) -> set[str]:
    """Top-level functions and classes a cell defines."""
    tree = ast.parse(source)
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
    }


def asserts_in(source: str) -> list[str]:
    """The assert statements and ``assert_*`` calls of a cell (IPython magics skipped)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found.append(ast.unparse(node)[:60])
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name.startswith("assert_"):
                found.append(ast.unparse(node)[:60])
    return found


def chapter(number: int) -> Path:
    return next(path for path in CHAPTERS if path.name.startswith(f"{number:02d}_"))


# --- the reader builds the CapsNet ------------------------------------------------------------


@pytest.mark.parametrize("number", sorted(PIECES))
def test_chapters_2_to_6_each_build_their_piece(number):
    pieces = [c for c in cells(chapter(number)) if "piece" in tags(c)]
    assert pieces, f"chapter {number} has no cell tagged piece"
    names = set().union(*(defined_names(c["source"]) for c in pieces))
    missing = PIECES[number] - names
    assert not missing, f"chapter {number}'s piece cells do not define {sorted(missing)}"
    for cell in pieces:
        assert not cell.get("outputs"), f"chapter {number}: a piece cell defines, it shows nothing"


def test_every_later_chapter_carries_the_pieces_as_they_are():
    stale = carry_pieces.carry(check_only=True)
    assert not stale, (
        f"the folded pieces of {stale} differ from the chapters' piece cells: "
        "run python tools/carry_pieces.py"
    )


def test_the_carried_cell_is_folded_and_first_after_the_setup():
    for number in range(carry_pieces.FIRST_CARRIER, carry_pieces.LAST_CARRIER + 1):
        code = [c for c in cells(chapter(number)) if c["cell_type"] == "code"]
        assert "pieces-so-far" in tags(code[2]), f"chapter {number}: third code cell"
        assert "hide-input" in tags(code[2])


def test_chapter_7_assembles_the_readers_model_from_the_pieces():
    sources = [c["source"] for c in cells(chapter(7)) if c["cell_type"] == "code"]
    model = [s for s in sources if "class MyCapsNet(keras.Model)" in s]
    assert len(model) == 1, "chapter 7 defines MyCapsNet(keras.Model) once"
    body = model[0]
    for piece in ("PrimaryCaps(", "DigitCaps(", "make_decoder(", "mask("):
        assert piece in body, f"MyCapsNet does not use the reader's {piece[:-1]}"
    assert "cl." not in body, "MyCapsNet must be made of the reader's pieces, not the library's"
    later = "\n".join(s for s in sources[sources.index(model[0]) :])
    assert "GradientTape" in later and "total_loss(" in later, "chapter 7 trains it"


# --- the checking out of the reader's way ---------------------------------------------------


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_assertion_in_a_cell_the_reader_sees(path):
    for cell in cells(path):
        if cell["cell_type"] != "code" or tags(cell) & (HIDDEN | EXERCISE):
            continue
        found = asserts_in(cell["source"])
        assert not found, (
            f"{path.name}: a visible cell asserts {found}: move the guard into a cell "
            "tagged remove-cell (or remove-input) after it"
        )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_tells_how_its_page_was_run(path):
    """The run report and the appendix hold the machinery; a chapter teaches."""
    for cell in cells(path):
        outputs = "".join(str(output) for output in cell.get("outputs", []))
        for word in RUN_MACHINERY:
            assert word not in cell["source"] + outputs, (
                f"{path.name}: {word!r} belongs in the appendix (book/under_the_hood.md)"
            )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_prose_speaks_to_the_learner(path):
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            found = AUDIT_WORDS.search(cell["source"])
            assert found is None, f"{path.name}: prose speaks of {found.group(0)!r}"


# --- recap and exercises that make the reader think -------------------------------------------


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_recap_with_three_self_check_questions_before_the_exercises(path):
    markdown = [c["source"] for c in cells(path) if c["cell_type"] == "markdown"]
    text = "\n".join(markdown)
    assert "## Recap" in text and "## Exercises" in text, f"{path.name}: Recap, then Exercises"
    recap = text[text.index("## Recap") : text.index("## Exercises")]
    assert text.index("## Recap") < text.index("## Exercises")
    bullets = [line for line in recap.splitlines() if re.match(r"^[-*] ", line)]
    assert 3 <= len(bullets) <= 5, f"{path.name}: the recap has {len(bullets)} bullets, not 3-5"
    dropdowns = DIRECTIVE.findall(recap).count("dropdown")
    assert dropdowns == 3, f"{path.name}: {dropdowns} self-check questions, not three"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_has_a_predict_then_run_exercise(path):
    checks = [c["source"] for c in cells(path) if "check" in tags(c)]
    explained = EXPLANATIONS.keys()
    predicting = [s for s in checks if "predicted(" in s and set(CHECK_CALL.findall(s)) & explained]
    assert predicting, (
        f"{path.name}: no predict-then-run exercise (predicted(...), its explanation in"
        " capsnet_lib/explanations.py)"
    )
    solutions = [c["source"] for c in cells(path) if "solution" in tags(c)]
    assert any(re.match(r"\s*prediction\w* = None", s) for s in solutions), (
        f"{path.name}: a prediction starts as `prediction = None`, outside the solution markers"
    )
