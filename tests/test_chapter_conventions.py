"""One book: every chapter follows the conventions of CONTRIBUTING.md ("A chapter").

Section headings carry no numbers (Jupyter Book numbers them), the setup cell has the same
form everywhere, check cells are tagged and numbered after their chapter, and every chapter
links the glossary.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NUMBERED_HEADING = re.compile(r"^#{2,6}\s+\d+\.\d+", re.M)
THIRD_PARTY = re.compile(r"(import|from) (capsnet_lib|tensorflow|keras|numpy|matplotlib)\b")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d+\.\d+)["']""")  # the exercise's number


def cells(path: Path) -> list[dict]:
    """The notebook's cells, each with its source as one string."""
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return notebook["cells"]


def code_cells(path: Path) -> list[dict]:
    return [cell for cell in cells(path) if cell["cell_type"] == "code"]


def tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_section_headings_are_not_numbered_by_hand(path):
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            found = NUMBERED_HEADING.search(cell["source"])
            assert found is None, f"{path.name}: numbered heading {found.group(0)!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_install_cell_is_folded_on_the_site(path):
    install = code_cells(path)[0]
    assert 'find_spec("capsnet_lib") is None' in install["source"], (
        f"{path.name}: the first code cell installs the library on Colab"
    )
    assert "hide-input" in tags(install), (
        f"{path.name}: tag the install cell hide-input: the site folds it away from the reading"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_setup_cell_has_one_form(path):
    setup = code_cells(path)[1]["source"]  # the first code cell installs the library on Colab
    imports = [line for line in setup.splitlines() if line.startswith(("import ", "from "))]
    third_party = [line for line in imports if THIRD_PARTY.match(line)]
    assert third_party and third_party[0].startswith("import capsnet_lib as cl"), (
        f"{path.name}: `import capsnet_lib as cl` must come before TensorFlow, Keras, NumPy and "
        "matplotlib (it starts TensorFlow without its start-up noise)"
    )
    assert "from capsnet_lib.exercises import check" in setup, path.name
    assert 'QUICK = os.environ.get("CAPSNET_QUICK", "1") != "0"' in setup, path.name
    assert "keras.utils.set_random_seed(42)" in setup, path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_check_cells_are_tagged_and_numbered_after_their_chapter(path):
    chapter = int(path.name[:2])
    checks = [cell for cell in code_cells(path) if "check" in tags(cell)]
    assert len(checks) >= 3, f"{path.name}: fewer than three exercises with checks"
    for cell in checks:
        assert "nbval-check-output" in tags(cell), f"{path.name}: check cell without nbval tag"
        numbers = CHECK_CALL.findall(cell["source"])
        assert numbers and all(int(n.split(".")[0]) == chapter for n in numbers), (
            f"{path.name}: a check cell must call check('{chapter}.K', test): {cell['source']}"
        )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapters_link_the_glossary(path):
    markdown = "".join(cell["source"] for cell in cells(path) if cell["cell_type"] == "markdown")
    assert "{term}`" in markdown, f"{path.name}: no glossary term linked"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_writes_its_own_weights_fallback(path):
    for cell in code_cells(path):
        assert not ("load_pretrained()" in cell["source"] and "except" in cell["source"]), (
            f"{path.name}: use cl.load_pretrained_or_train(quick=QUICK), not a try/except"
        )
