"""Sphinx extension: links to the published book become links inside the book being built.

A chapter opened alone (on Colab, from a class's copy) has no site beside it, so its links to
other pages of the book are absolute, to the published site
(``https://capsnets-book.github.io/capsnets-book/book/cheatsheet.html``): a relative link
(``../book/cheatsheet.md``) dies there. In a build of the book (the site, the student site,
the one-page build the PDF is printed from) such a link is turned back into a link to the page
of this build, so a reader of a downloaded site, of the student site or of the PDF stays in it.
A link to the published site that names no page of the book is a warning (an error under
``-W``): the page was renamed or never existed.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)


def published_page(uri: str, baseurl: str) -> tuple[str, str] | None:
    """``(docname, anchor)`` of a link into the published book, or None for any other link."""
    if not baseurl or not uri.startswith(baseurl):
        return None
    path, _, anchor = uri[len(baseurl) :].partition("#")
    if path in ("", "index.html"):
        return "", anchor  # the front page: the book's root document
    if not path.endswith(".html"):
        return path, anchor  # not a page: reported as unknown
    return path[: -len(".html")], anchor


class LocalisePublishedLinks(SphinxPostTransform):
    default_priority = 900

    def run(self, **kwargs) -> None:
        baseurl = self.config.html_baseurl
        for ref in self.document.findall(nodes.reference):
            found = published_page(ref.get("refuri", ""), baseurl)
            if found is None:
                continue
            docname, anchor = found
            docname = docname or self.config.root_doc
            if docname not in self.env.all_docs:
                logger.warning(
                    "%s links to %s, which is no page of the book",
                    self.env.docname,
                    ref["refuri"],
                    location=ref,
                )
                continue
            uri = self.app.builder.get_relative_uri(self.env.docname, docname)
            if anchor:
                # the one-page build names a page '#document-...': an anchor stands alone there
                uri = f"#{anchor}" if uri.startswith("#") else f"{uri}#{anchor}"
            ref["refuri"] = uri
            ref["internal"] = True


def setup(app):
    app.add_post_transform(LocalisePublishedLinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
