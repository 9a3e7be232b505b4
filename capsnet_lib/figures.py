"""Figures in a notebook saved at the size the book's pages show them.

A chapter's figure is drawn in inches (``figsize``) and saved at matplotlib's 100 dots per
inch: a 16-inch grid became a 1,590-pixel PNG of 1.1 MB that the site's text column shows
at 730 pixels, a fifth of its pixels, downloaded in full. In IPython (Jupyter, the book's
build), ``import capsnet_lib`` makes every figure a PNG at most :data:`COLUMN_PX` pixels
wide: as sharp as the page shows it, several times lighter. Figures saved with
``fig.savefig`` and plain Python are left alone. ``CAPSNET_FULL_SIZE_FIGURES=1`` turns it off.

Shrinking a wide figure shrinks its text with it: a 15-inch diagram saved 688 px wide is
drawn at 46 dots per inch, and its 9-point labels come out 6 px tall, illegible.
:func:`smallest_text_px` measures the smallest text of a figure as the page shows it. With
``CAPSNET_CHECK_FIGURE_TEXT=1`` (the notebook tests set it), a cell whose figure draws any
text under :data:`MIN_TEXT_PX` fails with :class:`FigureTextTooSmall`.
"""

from __future__ import annotations

import ast
import os
import sys

# The width of a cell's output in the site's text column, in CSS pixels, in a 1280 px window
# (sphinx-book-theme, its sidebars open): a wider PNG is scaled down to it, text included.
COLUMN_PX = 688
# The smallest text a figure may draw, in pixels of the saved PNG (CSS pixels on the page):
# a font size of MIN_TEXT_PX * 72 / dpi points, 6.8 pt at 100 dpi, 14.9 pt in a 15-inch figure.
MIN_TEXT_PX = 9.5
CHECK_ENV = "CAPSNET_CHECK_FIGURE_TEXT"


class FigureTextTooSmall(ValueError):
    """A figure draws text smaller than :data:`MIN_TEXT_PX` at the width the page shows it."""


def column_dpi(figure, width_px: int = COLUMN_PX) -> float:
    """The dots per inch at which ``figure`` is ``width_px`` wide, or its own if it is smaller."""
    return min(float(figure.dpi), width_px / max(figure.get_figwidth(), 1e-3))


def column_figsize(width: float, height: float) -> tuple[float, float]:
    """``(width, height)`` in inches, scaled down to the column's width at matplotlib's dpi.

    A figure wider than :data:`COLUMN_PX` pixels at ``figure.dpi`` is saved at a lower dpi,
    and its text shrinks with it; drawn this size, its text keeps its points' size on the page.
    """
    from matplotlib import rcParams

    scale = min(1.0, COLUMN_PX / rcParams["figure.dpi"] / width)
    return width * scale, height * scale


def _drawn_texts(artist, parent=None):
    """The visible, non-empty texts under ``artist`` that a draw of its figure shows."""
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.spines import Spine
    from matplotlib.text import Text

    if not artist.get_visible():
        return
    if isinstance(parent, Axes) and not parent.axison and isinstance(artist, Axis | Spine):
        return  # ax.axis("off"): no ticks, tick labels or axis labels are drawn
    if isinstance(artist, Text) and artist.get_text().strip():
        yield artist
    for child in artist.get_children():
        yield from _drawn_texts(child, artist)


def smallest_text(figure, dpi: float | None = None):
    """``(height in pixels, text)`` of the smallest text ``figure`` draws, or ``None``.

    The height is the font size in points at ``dpi`` dots per inch (default: the dots per
    inch at which the page shows it, :func:`column_dpi`), scaled down as the page scales a
    PNG wider than the column; tick labels are counted as the figure's draw lays them out.
    """
    dpi = column_dpi(figure) if dpi is None else dpi
    figure.draw_without_rendering()  # lays out the tick labels without rasterising
    # IPython saves the figure's tight box (0.1 inch of padding): a legend or label outside
    # the figure widens the PNG, and the page scales a PNG wider than the column down
    saved_px = (figure.get_tightbbox().width + 0.2) * dpi
    shrink = min(1.0, COLUMN_PX / saved_px)
    sizes = [(t.get_fontsize() * dpi / 72 * shrink, t) for t in _drawn_texts(figure)]
    return min(sizes, key=lambda size: size[0], default=None)


def smallest_text_px(figure, dpi: float | None = None) -> float | None:
    """The height in pixels of the smallest text ``figure`` draws at ``dpi``, or ``None``.

    Args:
        figure: A matplotlib figure.
        dpi: Dots per inch it is saved at; default :func:`column_dpi`, as the page shows it.

    Returns:
        The smallest visible, non-empty text's font size in pixels (points x dpi / 72).
    """
    found = smallest_text(figure, dpi)
    return None if found is None else found[0]


def check_figure_text(figure) -> None:
    """Raise :class:`FigureTextTooSmall` if ``figure`` shows text under :data:`MIN_TEXT_PX`."""
    found = smallest_text(figure)
    if found is None or found[0] >= MIN_TEXT_PX:
        return
    px, text = found
    width, points = figure.get_figwidth(), text.get_fontsize()
    shown_dpi = px * 72 / points  # the dots per inch at which the page shows its text
    narrower = (
        f"draw it narrower (at most {COLUMN_PX / figure.dpi:g} inches keeps {figure.dpi:g} dpi) or "
        if shown_dpi < figure.dpi
        else ""
    )
    raise FigureTextTooSmall(
        f"the figure's text {text.get_text()[:40]!r} is {px:.1f} px tall on the page, "
        f"under the {MIN_TEXT_PX} px that figure text needs to be legible: the figure is "
        f"{width:g} inches wide and the page shows it at {shown_dpi:.0f} dots per inch, "
        f"where {points:g} pt is {px:.1f} px; {narrower}set its text at least "
        f"{points * MIN_TEXT_PX / px:.1f} pt"
    )


_shown_too_small: list[str] = []  # what the PNG formatter found during the running cell


def png_at_column_width(figure) -> str:
    """``figure`` as the base64 PNG IPython shows, at most :data:`COLUMN_PX` pixels wide."""
    from IPython.core.pylabtools import print_figure

    if os.environ.get(CHECK_ENV) == "1":
        try:
            check_figure_text(figure)
        except FigureTextTooSmall as error:  # IPython's formatters swallow exceptions
            _shown_too_small.append(str(error))
    return print_figure(figure, "png", base64=True, dpi=column_dpi(figure))


def check_cell_figures(value=None):
    """At the end of a cell: fail if a figure it shows draws text under :data:`MIN_TEXT_PX`.

    Checks the pyplot figures still open (the inline backend shows them after the cell),
    ``value`` if the cell ends with a figure, and what the PNG formatter showed during the
    cell (``display(fig)``, ``plt.show()``). Returns ``value``, so the cell shows it.
    """
    from matplotlib.figure import Figure

    figures = []
    if "matplotlib.pyplot" in sys.modules:  # a cell that drew with pyplot imported it
        from matplotlib._pylab_helpers import Gcf

        figures = [manager.canvas.figure for manager in Gcf.get_all_fig_managers()]
    if isinstance(value, Figure) and value not in figures:
        figures.append(value)
    for figure in figures:
        check_figure_text(figure)
    if _shown_too_small:
        message = _shown_too_small[0]
        _shown_too_small.clear()
        raise FigureTextTooSmall(message)
    return value


class _CheckFiguresAtTheEnd(ast.NodeTransformer):
    """Ends every cell with :func:`check_cell_figures`, around its last expression if any."""

    def visit_Module(self, node):
        check = ast.parse(
            "__import__('capsnet_lib.figures', fromlist=['_']).check_cell_figures", mode="eval"
        ).body
        last = node.body[-1] if node.body else None
        if isinstance(last, ast.Expr):  # keep it last, so that IPython still shows its value
            last.value = ast.Call(func=check, args=[last.value], keywords=[])
        else:
            node.body.append(ast.Expr(ast.Call(func=check, args=[], keywords=[])))
        return ast.fix_missing_locations(node)


def _install(shell) -> None:
    from matplotlib.figure import Figure

    shell.display_formatter.formatters["image/png"].for_type(Figure, png_at_column_width)


def _install_the_check(shell) -> None:
    if not any(isinstance(t, _CheckFiguresAtTheEnd) for t in shell.ast_transformers):
        shell.ast_transformers.append(_CheckFiguresAtTheEnd())
        shell.events.register("pre_run_cell", lambda *args: _shown_too_small.clear())


def fit_figures_to_the_page() -> bool:
    """In IPython, show every matplotlib figure at the column's width; ``True`` if it did.

    matplotlib's inline backend registers its own PNG formatter when it starts (at the first
    figure, after this import), so the formatter is put back after each cell, before the
    backend shows that cell's figures.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    if os.environ.get(CHECK_ENV) == "1":
        _install_the_check(shell)
    if os.environ.get("CAPSNET_FULL_SIZE_FIGURES") == "1":
        return False
    _install(shell)
    shell.events.register("post_execute", lambda: _install(shell))
    return True
