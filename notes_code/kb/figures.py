"""Figures for executed pages: matplotlib to deterministic inline SVG.

Executed blocks call :func:`svg_figure` with a figure and a Korean caption and
``print`` the result (the block uses ``html="on"``). The SVG carries no date or
generator metadata and uses a fixed hash salt, so two builds give identical pages
and nothing from the SVG leaks into the search index.
"""

from __future__ import annotations

import html
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from numpy import ndarray  # noqa: E402

_STYLE = {
    "svg.hashsalt": "notes-code",
    "svg.fonttype": "path",
    "font.family": ["DejaVu Sans"],
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
}


def new_figure(
    ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 3.6
) -> tuple[Figure, Axes | ndarray]:
    """Create a figure with the site's style (English in-figure text, light background).

    Args:
        ncols: Number of subplot columns.
        nrows: Number of subplot rows.
        width: Width in inches.
        height: Height in inches.

    Returns:
        ``(fig, axes)`` as from :func:`matplotlib.pyplot.subplots`.
    """
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained")
    return fig, axes


def svg_figure(fig: Figure, caption: str) -> str:
    """Render ``fig`` as an inline SVG ``<figure>`` with a caption, and close it.

    Args:
        fig: The matplotlib figure.
        caption: The caption (Korean is fine: it is HTML text, not drawn by matplotlib).

    Returns:
        An HTML string ``<figure class="nb-figure"><svg ...>...</svg><figcaption>...``.
    """
    buf = io.StringIO()
    with plt.rc_context(_STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return (
        f'<figure class="nb-figure">{svg}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )
