"""Figures in a notebook saved at the size the book's pages show them.

A chapter's figure is drawn in inches (``figsize``) and saved at matplotlib's 100 dots per
inch: a 16-inch grid became a 1,590-pixel PNG of 1.1 MB that the site's text column shows
at 730 pixels, a fifth of its pixels, downloaded in full. In IPython (Jupyter, the book's
build), ``import capsnet_lib`` makes every figure a PNG at most :data:`COLUMN_PX` pixels
wide: as sharp as the page shows it, several times lighter. Figures saved with
``fig.savefig`` and plain Python are left alone. ``CAPSNET_FULL_SIZE_FIGURES=1`` turns it off.
"""

from __future__ import annotations

import os

# The site's text column at its widest (sphinx-book-theme, a 1280 px window), in CSS pixels.
COLUMN_PX = 760


def column_dpi(figure, width_px: int = COLUMN_PX) -> float:
    """The dots per inch at which ``figure`` is ``width_px`` wide, or its own if it is smaller."""
    return min(float(figure.dpi), width_px / max(figure.get_figwidth(), 1e-3))


def png_at_column_width(figure) -> str:
    """``figure`` as the base64 PNG IPython shows, at most :data:`COLUMN_PX` pixels wide."""
    from IPython.core.pylabtools import print_figure

    return print_figure(figure, "png", base64=True, dpi=column_dpi(figure))


def _install(shell) -> None:
    from matplotlib.figure import Figure

    shell.display_formatter.formatters["image/png"].for_type(Figure, png_at_column_width)


def fit_figures_to_the_page() -> bool:
    """In IPython, show every matplotlib figure at the column's width; ``True`` if it did.

    matplotlib's inline backend registers its own PNG formatter when it starts (at the first
    figure, after this import), so the formatter is put back after each cell, before the
    backend shows that cell's figures.
    """
    if os.environ.get("CAPSNET_FULL_SIZE_FIGURES") == "1":
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    _install(shell)
    shell.events.register("post_execute", lambda: _install(shell))
    return True
