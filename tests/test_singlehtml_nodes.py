"""book/_ext/singlehtml_nodes.py: on paper, an explorer's frame becomes a sentence naming it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
from singlehtml_nodes import frame_sentence  # noqa: E402


def test_a_frame_becomes_its_title_and_where_to_find_it():
    html = '<iframe src="../_static/x.html" title="Routing playground: drag them"></iframe>'
    assert frame_sentence(html) == (
        "Routing playground: interactive, on the book's website (it cannot run on paper)."
    )


def test_other_html_is_left_alone_and_an_untitled_frame_still_named():
    assert frame_sentence("<div>not a frame</div>") is None
    assert frame_sentence('<iframe src="a.html"></iframe>').startswith("This interactive figure")
