r"""The site's one figure style: matplotlib to a themable, accessible inline SVG.

Executed blocks draw with :func:`new_figure` and ``print(svg_figure(fig, caption))``
(the block uses ``html="on"``). What the style guarantees:

* **Korean text as text.** Labels are laid out with Noto Sans CJK KR (Debian's
  ``fonts-noto-cjk``, found through matplotlib's font manager) and written as SVG
  ``<text>`` (``svg.fonttype: none``) in the site's Korean font stack (set by
  ``figures.css``), so a reader can
  select it and a screen reader can read it. Math in labels is matplotlib mathtext
  (``r"$\|\delta_{k+1} J_k\|$"``); its glyphs come from fonts a browser may not have
  (DejaVu, Computer Modern), so mathtext alone is drawn as outlines.
* **Both themes.** Foreground, muted and background colors and the six data colors
  are drawn with sentinel hex values that are replaced by CSS variables
  (``var(--nb-fig-fg)``, ``var(--nb-fig-c0)``, ...): ``docs/assets/stylesheets/figures.css``
  sets them for the light scheme and for ``[data-md-color-scheme=slate]``. Black and
  white from a block (``"k.-"``, ``color="white"``) follow the theme too. The figure
  has no background of its own.
* **Accessible.** ``<svg role="img" aria-label=...>`` with a ``<title>``, both from the
  caption (math turned into plain Unicode); the caption's ``$...$`` math is emitted as
  arithmatex spans so the site's KaTeX renders it like the rest of the page.
* **Light.** Dense collections (heatmaps, meshes, filled contours) are embedded as
  PNG rasters inside the SVG; an SVG over :data:`MAX_SVG_BYTES` is an error.
* **Deterministic.** Fixed hash salt, no metadata, ids prefixed per figure.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_svg import RendererSVG  # noqa: E402
from matplotlib.collections import Collection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from numpy import ndarray  # noqa: E402

from notes_code.kb.figure_text import caption_html, plain_text  # noqa: E402

FONT = "Noto Sans CJK KR"

# Sentinel colors, replaced by CSS variables in the SVG (see figures.css).
FG = "#0a0b01"
MUTED = "#0a0b02"
BG = "#0a0b03"
PALETTE = tuple(f"#0a0b1{i}" for i in range(6))
# Not themed: for lines drawn on a raster (heatmap) whose colors stay the same in both themes.
INK = "#1a1a1a"
_THEMED = {FG: "var(--nb-fig-fg)", MUTED: "var(--nb-fig-muted)", BG: "var(--nb-fig-bg)",
           "#000000": "var(--nb-fig-fg)", "#ffffff": "var(--nb-fig-bg)",
           **{c: f"var(--nb-fig-c{i})" for i, c in enumerate(PALETTE)}}

MAX_SVG_BYTES = 300_000
DENSE_VERTICES = 4000
RASTER_DPI = 150


def find_korean_font() -> str:
    """Path of the Korean font the figures are laid out with.

    Returns:
        The font file matplotlib's font manager found for :data:`FONT`.

    Raises:
        RuntimeError: If the font is not installed, naming the package to install.
    """
    try:
        return font_manager.findfont(font_manager.FontProperties(family=FONT),
                                     fallback_to_default=False)
    except ValueError as exc:
        raise RuntimeError(
            f"Figure font {FONT!r} not found. Install it with "
            "`apt-get install fonts-noto-cjk` (then delete matplotlib's font cache)."
        ) from exc


def style() -> dict[str, object]:
    """The rcParams of the site's figures.

    Returns:
        A dict for :func:`matplotlib.rcParams.update`.
    """
    find_korean_font()
    return {
        "svg.hashsalt": "notes-code",
        "svg.fonttype": "none",
        "font.family": [FONT],
        "axes.unicode_minus": True,
        "mathtext.fontset": "dejavusans",
        "figure.dpi": 100,
        "figure.facecolor": "none",
        "axes.facecolor": "none",
        "savefig.facecolor": "none",
        "savefig.transparent": True,
        "text.color": FG,
        "axes.labelcolor": FG,
        "axes.edgecolor": FG,
        "xtick.color": FG,
        "ytick.color": FG,
        "axes.grid": True,
        "grid.color": MUTED,
        "grid.alpha": 0.35,
        "legend.facecolor": BG,
        "legend.edgecolor": MUTED,
        "legend.framealpha": 0.95,
        "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE)),
        "image.cmap": "viridis",
    }


def new_figure(
    ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 3.6
) -> tuple[Figure, Axes | ndarray]:
    r"""Create a figure in the site's style.

    The style is applied to the process's rcParams (a site build draws only site
    figures), so later calls in the block (``ax.legend``, ``"C1"``, ``fig.colorbar``)
    get it too. Use ``"C0"``–``"C5"``, :data:`FG` and :data:`MUTED` for colors.

    Args:
        ncols: Number of subplot columns.
        nrows: Number of subplot rows.
        width: Width in inches.
        height: Height in inches.

    Returns:
        ``(fig, axes)`` as from :func:`matplotlib.pyplot.subplots`.
    """
    matplotlib.rcParams.update(style())
    return plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained")


def rasterize_dense(fig: Figure, max_vertices: int = DENSE_VERTICES) -> int:
    """Mark every collection with more than ``max_vertices`` vertices as raster.

    Args:
        fig: The figure.
        max_vertices: Collections above this are embedded as PNG.

    Returns:
        How many collections were marked.
    """
    marked = 0
    for coll in fig.findobj(Collection):
        paths = coll.get_paths()
        if len(paths) > max_vertices // 4 or sum(len(p.vertices) for p in paths) > max_vertices:
            coll.set_rasterized(True)
            marked += 1
    return marked


@contextmanager
def _math_as_outlines() -> Iterator[None]:
    """While saving, draw mathtext as outlines under a transparent, selectable text layer.

    Plain labels stay ``<text>``. A label with math (``"지연 $t - k$"``) is drawn as
    glyph outlines (its math fonts may be missing in the reader's browser) and covered
    by an invisible ``<text>`` of the same extent holding the label as plain Unicode,
    so it can still be selected, copied and searched.
    """
    original = RendererSVG.draw_text

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: ANN001
        if not ismath:
            return original(self, gc, x, y, s, prop, angle, ismath, mtext)
        clip = self._get_clip_attrs(gc)
        if clip:
            self.writer.start("g", **clip)
        self._draw_text_as_path(gc, x, y, s, prop, angle, ismath, mtext)
        width = self._text2path.mathtext_parser.parse(s, 72, prop)[0]
        size = prop.get_size_in_points()
        self.writer.element(
            "text", plain_text(s), x="0", y="0", textLength=f"{width:.2f}",
            lengthAdjust="spacingAndGlyphs", attrib={"class": "nb-math-text"},
            transform=f"translate({x:.3f} {y:.3f}) rotate({-angle:g})",
            style=f"font-size: {size:g}px; fill: transparent")
        if clip:
            self.writer.end("g")

    RendererSVG.draw_text = draw_text
    try:
        yield
    finally:
        RendererSVG.draw_text = original


def _theme(svg: str, prefix: str) -> str:
    """Sentinel colors to CSS variables, the Korean font stack, ids made unique."""
    svg = re.sub(r"#[0-9a-f]{6}\b", lambda m: _THEMED.get(m.group(0), m.group(0)), svg)
    # The family comes from figures.css (the site's Korean font stack), not from each <text>.
    svg = re.sub(r"font-family: '[^']*';? ?", "", svg)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    return re.sub(r'(url\(#|href="#)([^")]+)', lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)


def render_svg(fig: Figure, label: str) -> str:
    """Render ``fig`` to the site's themed, accessible SVG string, and close it.

    Args:
        fig: The matplotlib figure.
        label: Plain-text description for ``aria-label`` and ``<title>``.

    Returns:
        The ``<svg ...>...</svg>`` element.

    Raises:
        ValueError: If the SVG is larger than :data:`MAX_SVG_BYTES`.
    """
    matplotlib.rcParams.update(style())
    rasterize_dense(fig)
    buf = io.StringIO()
    with _math_as_outlines():
        fig.savefig(buf, format="svg", dpi=RASTER_DPI, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"\s*<style[^>]*>.*?</style>", "", svg, flags=re.S)  # figures.css has it
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"\n\s+", "\n", svg)
    prefix = "f" + hashlib.sha1(svg.encode()).hexdigest()[:8]
    svg = _theme(svg, prefix)
    svg = re.sub(r'\s(width|height)="[0-9.]+pt"', "", svg, count=2)
    label_attr = html.escape(label, quote=True)
    # data-search-exclude: Material's search skips the tick labels and the <title>
    # (the caption, outside the SVG, is indexed once).
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label_attr}" data-search-exclude="" ', 1)
    head_end = svg.index(">") + 1
    svg = svg[:head_end] + f"<title>{html.escape(label, quote=False)}</title>" + svg[head_end:]
    size = len(svg.encode())
    if size > MAX_SVG_BYTES:
        raise ValueError(
            f"figure SVG is {size:,} bytes (limit {MAX_SVG_BYTES:,}): draw dense data with "
            "imshow/pcolormesh (rasterized) or fewer points")
    return svg


def svg_figure(fig: Figure, caption: str, alt: str | None = None) -> str:
    r"""Render ``fig`` as an inline ``<figure>`` with a caption, and close it.

    Args:
        fig: The matplotlib figure.
        caption: Korean caption; ``$...$`` is math (rendered by KaTeX), the rest is
            escaped text.
        alt: Text for ``aria-label``/``<title>``; by default the caption with its math
            turned into plain Unicode.

    Returns:
        ``<figure class="nb-figure"><svg role="img" ...>...</svg><figcaption>...``.
    """
    label = alt if alt is not None else plain_text(caption)
    svg = render_svg(fig, label)
    return f'<figure class="nb-figure">{svg}<figcaption>{caption_html(caption)}</figcaption></figure>'


def plot_with_halo(ax: Axes, x: ndarray, y: ndarray, fmt: str = "-", halo: float = 2.5,
                   **kwargs: object) -> list[Line2D]:
    """``ax.plot`` over a background-colored halo, for lines drawn over a heatmap.

    The halo is a second, wider line in the background color (it follows the theme),
    drawn first and left out of the legend. Path effects would do the same but draw
    every marker as its own path (200 KB for 100 markers); two lines reuse one marker.

    Args:
        ax: The axes.
        x: x values.
        y: y values.
        fmt: matplotlib format string (``".-"``).
        halo: How much wider than the line the halo is, in points.
        **kwargs: Passed to :meth:`matplotlib.axes.Axes.plot` for the line.

    Returns:
        The line's artists (not the halo's).
    """
    lw = float(kwargs.get("linewidth", matplotlib.rcParams["lines.linewidth"]))
    ms = float(kwargs.get("markersize", matplotlib.rcParams["lines.markersize"]))
    halo_kw = {k: v for k, v in kwargs.items() if k in ("zorder",)}
    ax.plot(x, y, fmt, color=BG, linewidth=lw + halo, markersize=ms + halo / 2, label="_nolegend_",
            **halo_kw)
    return ax.plot(x, y, fmt, **kwargs)
