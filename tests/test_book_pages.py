"""The book's prose pages agree with the chapters they describe.

- The instructors' page lists every exercise of every chapter, in order, with the title of
  its ``{exercise}`` directive, and counts them right in its time table.
- The pages that say how many chapters the book has say the true number.
- The reading pages (intro, glossary, cheat sheet) speak to the learner, not of the book's
  own tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXERCISE = re.compile(
    r"```\{exercise\}[ \t]*(?P<title>.*?)\s*\n:label:\s*ch(?P<ch>\d+)-ex(?P<k>\d+)"
)
TABLE_ROW = re.compile(r"^\| (?P<number>\d+\.\d+) (?P<title>.+?) \| (?P<purpose>.*) \|$", re.M)
TIME_ROW = re.compile(r"^\| (?P<ch>\d+)\. [^|]+(?:\|[^|]*){3}\| (?P<count>\d+) \|$", re.M)
NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve".split()
COUNTED = re.compile(
    r"\b(" + "|".join(NUMBERS) + r")\s+(?:short\s+)?(?:chapters|notebooks)\b", re.I
)


def notebook_exercises() -> list[tuple[str, str]]:
    """``("3.2", "Softmax over the right axis")`` for every exercise directive, in order."""
    found = []
    for path in CHAPTERS:
        cells = json.loads(path.read_text())["cells"]
        for cell in cells:
            if cell["cell_type"] != "markdown":
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for match in EXERCISE.finditer(source):
                number = f"{int(match['ch'])}.{int(match['k'])}"
                found.append((number, match["title"].replace("`", "")))
    return found


def instructors_table() -> list[tuple[str, str, str]]:
    text = (BOOK / "instructors.md").read_text()
    section = text.split("## The exercises, one by one", 1)[1]
    return [
        (m["number"], m["title"].replace("`", ""), m["purpose"])
        for m in TABLE_ROW.finditer(section)
    ]


def test_the_instructors_table_lists_every_exercise():
    in_notebooks = notebook_exercises()
    listed = [(number, title) for number, title, _ in instructors_table()]
    missing = [f"| {n} {t} | ... |" for n, t in in_notebooks if (n, t) not in listed]
    extra = [f"{n} {t}" for n, t in listed if (n, t) not in in_notebooks]
    assert listed == in_notebooks, (
        "book/instructors.md's exercise table differs from the notebooks' {exercise} "
        "directives.\nAdd (with what each is for):\n  "
        + "\n  ".join(missing)
        + "\nRemove or rename:\n  "
        + "\n  ".join(extra)
    )


def test_every_exercise_says_what_it_is_for():
    empty = [number for number, _, purpose in instructors_table() if len(purpose) < 20]
    assert not empty, f"exercises without a sentence on what they are for: {empty}"


def test_the_time_table_counts_the_exercises():
    text = (BOOK / "instructors.md").read_text()
    section = text.split("## Time per chapter", 1)[1].split("\n## ", 1)[0]
    counted = {int(m["ch"]): int(m["count"]) for m in TIME_ROW.finditer(section)}
    real = {}
    for number, _ in notebook_exercises():
        chapter = int(number.split(".")[0])
        real[chapter] = real.get(chapter, 0) + 1
    assert counted == real, f"exercises per chapter: the page says {counted}, the notebooks {real}"


@pytest.mark.parametrize("page", ["book/intro.md", "book/instructors.md", "README.md"])
def test_pages_count_the_chapters_right(page):
    text = (ROOT / page).read_text()
    count = NUMBERS[len(CHAPTERS)]
    wrong = [m.group(0) for m in COUNTED.finditer(text) if m.group(1).lower() != count]
    assert not wrong, f"{page}: the book has {count} chapters, the page says {wrong}"


@pytest.mark.parametrize(
    "page", ["book/intro.md", "book/glossary.md", "book/cheatsheet.md"], ids=lambda p: p
)
def test_reading_pages_do_not_read_like_an_audit(page):
    text = (ROOT / page).read_text()
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)  # comments never reach the reader
    audit = re.compile(
        r"\bassert(?:ed|ion|ions|s)?\b|\bnbval\b|\bthe build\b|PITFALLS|tools/|tests/|issue \d+",
        re.I,
    )
    found = [m.group(0) for m in audit.finditer(text)]
    assert not found, f"{page} speaks of the book's checks: {found}"


# The intro's preview of what the book finds: each phrase as its chapter states it.
INTRO_FINDINGS = {
    "03_routing": ["40 errors (0.40%)", "0.29% to 0.54%", "does not win by much"],
    "06_decoder": ["about a third less error", "bought no accuracy"],
    "09_robustness": ["At every rotation, shear and translation", "within 5 percentage poi"],
    "10_beyond": ["74.8%", "94.8%", "less than one two-hundredth", "60 million"],
}


def chapter_prose(stem: str) -> str:
    cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("stem", sorted(INTRO_FINDINGS))
def test_the_intros_findings_are_the_chapters(stem):
    intro = re.sub(r"\s+", " ", (BOOK / "intro.md").read_text())
    prose = chapter_prose(stem)
    for phrase in INTRO_FINDINGS[stem]:
        assert phrase in prose, f"{stem} no longer says {phrase!r}: update the intro"
    numbers = [p for p in INTRO_FINDINGS[stem] if re.search(r"\d", p)]
    for number in re.findall(r"\d+(?:\.\d+)?%", " ".join(numbers)):
        assert number in intro, f"the intro's preview lost {number} ({stem})"


def test_every_reference_has_a_year_that_tells_it_apart():
    """Author-year citations: no "n.d.", and no two works cited as the same author and year."""
    from pybtex.database import parse_file

    entries = parse_file(BOOK / "references.bib").entries
    undated = sorted(key for key, entry in entries.items() if "year" not in entry.fields)
    assert not undated, f"give these a year (the page would cite them as n.d.): {undated}"
    cited_as: dict[tuple[str, str], list[str]] = {}
    for key, entry in entries.items():
        authors = " and ".join(str(person) for person in entry.persons.get("author", []))
        cited_as.setdefault((authors, entry.fields["year"]), []).append(key)
    same = {label: keys for label, keys in cited_as.items() if len(keys) > 1}
    assert not same, f"same author and year: give each a letter (2017a, 2017b): {same}"
