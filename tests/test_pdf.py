"""The whole book as one PDF (``make book`` prints it to _build/pdf/capsnets-book.pdf).

Opened with pypdf: a plausible page count; the title of every page of the table of contents
(each chapter, each reference page) in the text; no page showing raw TeX (a formula MathJax
did not typeset shows its source: ``\\mathbf``, ``$$``); figures embedded; every bookmark the
text of its heading; the site's copy, which the running page links to, the same file. Run
``make book`` first (``make pdf-test`` runs this file).
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

pytestmark = pytest.mark.pdf

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "_build" / "pdf" / "capsnets-book.pdf"
SITE_COPY = ROOT / "_build" / "html" / "capsnets-book.pdf"
MISSING = f"{PDF} missing: run `make book` first."
# What a formula left to MathJax looks like when MathJax did not run: its TeX source.
RAW_TEX = re.compile(
    r"\$\$|\\(?:mathbf|mathrm|frac|hat|sum|lVert|rVert|left|right|begin|end|cdot|lambda)\b"
)
HEADING = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)
CHAPTER_NUMBER = re.compile(r"^\d+\.\s+")


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def title_of(docname: str) -> str:
    """A page's title: its first ``# `` heading (a chapter's without its number)."""
    path = ROOT / f"{docname}.ipynb"
    if path.is_file():
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join(
            "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for cell in cells
            if cell["cell_type"] == "markdown"
        )
    else:
        text = (ROOT / f"{docname}.md").read_text()
    heading = HEADING.search(text)
    assert heading, f"{docname} has no title"
    return CHAPTER_NUMBER.sub("", heading.group(1))


def normalise(text: str) -> str:
    """Ligatures undone (ﬁ -> fi), markup and whitespace runs collapsed, lower case."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[`*_{}]", "", text)
    return re.sub(r"\s+", " ", text).strip().lower()


@pytest.fixture(scope="module")
def reader():
    pypdf = pytest.importorskip("pypdf")
    if not PDF.is_file():
        pytest.fail(MISSING, pytrace=False)
    return pypdf.PdfReader(str(PDF))


@pytest.fixture(scope="module")
def pages(reader) -> list[str]:
    return [page.extract_text() or "" for page in reader.pages]


def test_page_count(reader):
    count = len(reader.pages)
    # eight chapters, the reference pages: a hundred pages or so; a handful means a blank print
    assert 40 <= count <= 400, f"{count} pages"


@pytest.mark.parametrize("docname", toc_files())
def test_every_page_title_is_in_the_pdf(pages, docname):
    title = normalise(title_of(docname))
    text = normalise(" ".join(pages))
    assert title in text, f"the title of {docname} ({title!r}) is not in {PDF.name}"


def test_each_chapter_starts_a_page_in_order(pages):
    """Chapter N begins a page with its numbered title ("3. Routing by agreement")."""
    firsts = [normalise(page[:300]) for page in pages]  # a long title wraps
    starts = []
    for name in toc_files():
        number = re.match(r"notebooks/(\d+)_", name)
        if not number:
            continue
        heading = normalise(f"{int(number.group(1))}. {title_of(name)}")
        begins = [number for number, first in enumerate(firsts) if first.startswith(heading)]
        assert begins, f"no page begins with {heading!r}"
        starts.append(begins[0])
    assert starts == sorted(starts), f"the chapters begin on pages {starts}: out of order"


def test_no_raw_tex(pages):
    raw = [
        f"page {number}: {match.group(0)!r} in ...{page[max(0, match.start() - 40) : match.end() + 40]!r}..."
        for number, page in enumerate(pages, 1)
        for match in RAW_TEX.finditer(page)
    ]
    assert not raw, "formulas not typeset:\n  " + "\n  ".join(raw[:10])


def image_count(page) -> int:
    """The images a page draws (counted in its resources, not decoded: that is slow)."""
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources else None
    if not xobjects:
        return 0
    return sum(
        1 for ref in xobjects.get_object().values() if ref.get_object().get("/Subtype") == "/Image"
    )


def test_figures_embedded(reader):
    """Every figure of the one-page build is drawn in the PDF (Chromium embeds each once)."""
    page = ROOT / "_build" / "onepage" / "_build" / "singlehtml" / "book.html"
    assert page.is_file(), f"{page} missing: run `make book` first"
    figures = set(re.findall(r'<img[^>]*\bsrc="(_images/[^"]+)"', page.read_text()))
    images = sum(image_count(page) for page in reader.pages)
    assert figures, "the one-page build has no figures"
    assert images >= len(figures), f"{images} images in the PDF, {len(figures)} figures in the book"


def test_site_links_the_same_pdf():
    assert PDF.is_file(), MISSING
    assert SITE_COPY.is_file(), f"{SITE_COPY} missing: the site's link to the PDF is broken"
    assert SITE_COPY.read_bytes() == PDF.read_bytes(), "the site's PDF is not the last one printed"
    running = (ROOT / "_build" / "html" / "book" / "running.html").read_text()
    assert 'href="../capsnets-book.pdf"' in running, "the running page does not link the PDF"


def structure_alt_texts(reader) -> list[str]:
    """The ``/Alt`` descriptions in the PDF's structure tree (a tagged PDF's figures)."""
    root = reader.trailer["/Root"]
    if "/StructTreeRoot" not in root:
        return []
    found, stack = [], [root["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "/Alt" in node:
                found.append(str(node["/Alt"]))
            if "/K" in node:
                stack.append(node["/K"])
    return found


def chapter_alt_texts() -> list[str]:
    """The alt text every chapter figure carries in its cell's metadata."""
    texts = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
            if alt:
                texts.append(alt)
    return texts


def test_the_pdf_is_tagged_and_keeps_every_figures_description(reader):
    """A screen reader reading the PDF hears what each chapter figure shows."""
    in_pdf = {normalise(text) for text in structure_alt_texts(reader)}
    assert in_pdf, f"{PDF.name} has no structure tree with alt texts (print it tagged)"
    missing = [alt[:60] for alt in chapter_alt_texts() if normalise(alt) not in in_pdf]
    assert not missing, f"figure descriptions not in {PDF.name}: {missing}"


# What a link printed from the local server looks like: the PDF is read far from that server.
LOCAL_ADDRESS = re.compile(
    r"^(?:https?://(?:127\.\d+\.\d+\.\d+|localhost|0\.0\.0\.0|\[::1\])(?:[:/]|$)|file:)", re.I
)


def pdf_links(reader) -> tuple[list[str], int]:
    """The PDF's links: the addresses of those that leave it, and how many stay inside it."""
    addresses, inside = [], 0
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") != "/Link":
                continue
            action = annotation.get("/A")
            action = action.get_object() if action is not None else {}
            if action.get("/S") == "/URI":
                addresses.append(str(action["/URI"]))
            elif "/Dest" in annotation or action.get("/S") == "/GoTo":
                inside += 1
    return addresses, inside


def test_no_link_points_at_a_local_address(reader):
    """Glossary terms, citations, exercise and API references: every link works from the PDF.

    A reference inside the book goes to its place in the PDF; a link to the site's other files
    goes to the published site (``html.baseurl``), never to the server it was printed from.
    """
    addresses, inside = pdf_links(reader)
    local = sorted({address for address in addresses if LOCAL_ADDRESS.match(address)})
    assert not local, f"{len(local)} links of {PDF.name} point at a local address: {local[:5]}"
    # the book cross-references itself (glossary, citations, chapters): hundreds of such links
    assert inside >= 100, f"only {inside} links of {PDF.name} go to a place inside it"
    site = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["baseurl"]
    ours = [address for address in addresses if address.startswith(site)]
    assert ours, f"no link of {PDF.name} goes to the published site {site}"
    # each goes to a page (and a place on it) the site has: what the reader clicked
    wrong = sorted({address for address in ours if not on_the_site(address[len(site) :])})
    assert not wrong, f"{len(wrong)} links to {site} that the site lacks: {wrong[:5]}"


def on_the_site(relative: str) -> bool:
    """Whether the built site (_build/html) has this path, and the anchor after its ``#``."""
    path, _, anchor = unquote(relative).partition("#")
    target = SITE_COPY.parent / (path or "index.html")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return False
    if not anchor or target.suffix != ".html":
        return True
    html = target.read_text(encoding="utf-8")
    return f'id="{anchor}"' in html or f'name="{anchor}"' in html


@pytest.mark.parametrize(
    "address",
    ["http://127.0.0.1:41234/book.html#term-squash", "http://localhost/x", "file:///tmp/a.pdf"],
)
def test_local_address_pattern(address):
    assert LOCAL_ADDRESS.match(address)
    assert not LOCAL_ADDRESS.match("https://capsnets-book.github.io/capsnets-book/book/api.html")


# --- the outline (bookmarks): each one the text of its heading ---------------------------

TOOLS = ROOT / "tools"


def book_pdf_module():
    """tools/book_pdf.py, imported as the tool imports its neighbour (tools/ on sys.path)."""
    import sys

    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    import book_pdf

    return book_pdf


def outline_titles(reader) -> list[str]:
    """The PDF's bookmarks, depth first, in the order of the book."""
    titles = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(str(item.title))

    walk(reader.outline)
    return titles


def html_headings(html: str) -> list[str]:
    """The text of each heading of an HTML page, without the permalink ``#``."""
    import html as html_lib

    texts = []
    for _, inner in re.findall(r"<h([1-6])\b[^>]*>(.*?)</h\1>", html, re.S):
        inner = re.sub(r'<a class="headerlink".*?</a>', "", inner, flags=re.S)
        text = html_lib.unescape(re.sub(r"<[^>]+>", "", inner))
        texts.append(re.sub(r"\s+", " ", text).strip())
    return texts


def test_every_bookmark_is_a_heading_as_written(reader):
    """No bookmark doubled ("What you will buildWhat you will build") or run together
    ("robustness torotation"): each is the text of a heading of the book."""
    page = ROOT / "_build" / "onepage" / "_build" / "singlehtml" / "book.html"
    assert page.is_file(), f"{page} missing: run `make book` first"
    headings = set(html_headings(page.read_text(encoding="utf-8")))
    titles = outline_titles(reader)
    assert len(titles) >= 100, f"only {len(titles)} bookmarks in {PDF.name}"
    wrong = [title for title in titles if title not in headings]
    assert not wrong, f"{len(wrong)} bookmarks are no heading of the book: {wrong[:5]}"


@pytest.mark.parametrize(
    ("drawn", "heading", "same"),
    [
        ("What you will buildWhat you will build", "What you will build", True),
        (
            "3.2.1. 3.2.1. Routing you can seeRouting you can see",
            "3.2.1. Routing you can see",
            True,
        ),
        (
            "8.10. What pose parameters do not give: robustness torotation",
            "8.10. What pose parameters do not give: robustness to rotation",
            True,
        ),
        (
            "3.1.2. 3.1.2. einsum in one small example in one small example",
            "3.1.2. einsum in one small example",
            True,
        ),
        ("1. Input", "1. Input", True),
        ("1.1. Why capsules", "1.2. Seeds", False),
        ("3.1. Prediction vectors", "3.1. Prediction vectors (eq. 2)", False),
        ("Recap", "", False),
    ],
)
def test_same_heading(drawn, heading, same):
    assert book_pdf_module().same_heading(drawn, heading) is same


def test_printed_bookmarks_keep_their_spaces(tmp_path):
    """A small page through the printer: headings that wrap keep the space at the break."""
    book_pdf = book_pdf_module()
    browser = book_pdf.installed_browser()
    if browser is None:
        pytest.skip("no Chromium to print with")
    long = "capsules and routing by agreement over the rounds, " * 3
    text = "<p>" + "A paragraph of the book, long enough to fill a page. " * 60 + "</p>"
    sections = "".join(
        f'<section id="s{i}"><h2><span class="section-number">{i}. </span>Heading {i} on'
        f' {long}end<a class="headerlink" href="#s{i}">#</a></h2>{text}</section>'
        for i in range(1, 6)
    )
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>'
        f"<body><h1>A book</h1>{sections}</body></html>",
        encoding="utf-8",
    )
    pdf = tmp_path / "book.pdf"
    seen = book_pdf.print_pdf(tmp_path, pdf, browser_path=browser, site_url="https://e.org/")
    assert not seen["unmatched_bookmarks"], seen["unmatched_bookmarks"]
    pypdf = pytest.importorskip("pypdf")
    titles = outline_titles(pypdf.PdfReader(str(pdf)))
    expected = ["A book"] + [f"{i}. Heading {i} on {long}end" for i in range(1, 6)]
    assert titles == expected
