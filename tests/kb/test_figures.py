"""The figure style module (notes_code/kb/figures.py, figure_text.py): issue #11, figures.

Each test says what a reader would meet if it failed: English-only or outlined text,
LaTeX source in labels, white cards in dark mode, silent SVGs, multi-megabyte pages.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from notes_code.kb import figures
from notes_code.kb.figure_text import caption_html, plain_text, sci, split_math, tex_to_text
from notes_code.kb.figures import (
    FG,
    MUTED,
    PALETTE,
    find_korean_font,
    new_figure,
    plot_with_halo,
    rasterize_dense,
    svg_figure,
)

CSS = Path(__file__).resolve().parents[2] / "docs/assets/stylesheets/figures.css"
SVG_NS = "{http://www.w3.org/2000/svg}"


def _line_figure(caption: str = r"그림. 상한 $(\lambda_1\gamma)^{t-k}$ <b>&") -> str:
    fig, ax = new_figure()
    ax.semilogy([0, 1, 2], [1.0, 0.5, 0.25], label=r"$\lambda_1\gamma = 0.5$")
    ax.axhline(1.0, color=MUTED)
    ax.plot([0, 2], [0.3, 0.3], "k--", label="검은 선")
    ax.set_xlabel(r"지연 $t - k$")
    ax.set_ylabel(r"$\|\delta_{k+1} J_k\|$")
    ax.legend()
    return svg_figure(fig, caption)


def _svg(html: str) -> str:
    return html[html.index("<svg"):html.index("</svg>") + 6]


def test_korean_font_is_found_or_named_with_its_package(monkeypatch) -> None:
    """Labels are laid out in Noto Sans CJK KR; without it the error names the Debian package."""
    assert "NotoSansCJK" in Path(find_korean_font()).name
    monkeypatch.setattr(figures, "FONT", "No Such Font KR")
    with pytest.raises(RuntimeError, match="apt-get install fonts-noto-cjk"):
        figures.style()


def test_korean_labels_are_text_and_math_is_mathtext() -> None:
    """Korean stays SVG <text> (selectable, read aloud); math is typeset, not LaTeX source."""
    svg = _svg(_line_figure())
    texts = "".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    assert "지연" in texts and "검은 선" in texts
    assert "\\" not in texts and "$" not in texts and "^{" not in texts  # no TeX source shown
    assert "DejaVuSans-Oblique" in svg  # mathtext glyphs (italic J, k, delta) drawn as outlines
    assert "font-family" not in svg  # the family comes from figures.css (the site's font stack)
    ET.fromstring(svg)  # well-formed


def test_malformed_math_in_a_label_fails() -> None:
    """A broken formula in a label is an error, not a figure with TeX source in it."""
    fig, ax = new_figure()
    ax.set_xlabel(r"$\frac{1$")
    with pytest.raises(ValueError):
        svg_figure(fig, "깨진 식")


def test_accessible_svg_with_escaped_title_and_caption() -> None:
    """role="img", aria-label and <title> come from the caption (math as Unicode), all escaped."""
    html = _line_figure()
    root = ET.fromstring(_svg(html))
    assert root.get("role") == "img"
    assert "data-search-exclude" in _svg(html)[:400]  # tick labels stay out of the search index
    label = root.get("aria-label")
    assert label == "그림. 상한 (λ₁γ)ᵗ⁻ᵏ <b>&"
    assert root[0].tag == f"{SVG_NS}title" and root[0].text == label
    assert "<b>" not in html and "&lt;b&gt;" in html
    caption = html[html.index("<figcaption>"):]
    assert r'<span class="arithmatex">\((\lambda_1\gamma)^{t-k}\)</span>' in caption
    assert svg_figure(new_figure()[0], "x", alt="대체 텍스트").count('aria-label="대체 텍스트"') == 1


def test_no_metadata_no_global_style_and_deterministic() -> None:
    """Two renders are byte-identical; no <metadata>, no <style> leaking into the page."""
    a, b = _line_figure(), _line_figure()
    assert a == b
    assert "<metadata" not in a and "<style" not in a and "<!--" not in a


def test_colors_follow_the_theme() -> None:
    """No fixed foreground/background colors: sentinels, black and white become CSS variables."""
    svg = _svg(_line_figure())
    for color in (FG, MUTED, *PALETTE, "#000000", "#ffffff"):
        assert color not in svg
    assert "var(--nb-fig-fg)" in svg and "var(--nb-fig-c0)" in svg and "var(--nb-fig-muted)" in svg
    assert 'style="fill: none"' in svg  # the figure patch: no card of its own
    used = set(re.findall(r"var\((--nb-fig-[a-z0-9]+)\)", svg))
    css = CSS.read_text(encoding="utf-8")
    light, dark = css.split('[data-md-color-scheme="slate"] .nb-figure')
    for var in used:
        assert f"{var}:" in light, var
    for i in range(len(PALETTE)):
        assert f"--nb-fig-c{i}:" in dark


def _luminance(hex_color: str) -> float:
    rgb = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_palette_contrasts_with_both_backgrounds() -> None:
    """Every data color reaches 4.5:1 on Material's light (#fff) and slate (#1e2029) backgrounds."""
    css = CSS.read_text(encoding="utf-8")
    light, dark = css.split('[data-md-color-scheme="slate"] .nb-figure')
    for block, bg in ((light, "#ffffff"), (dark, "#1e2029")):
        colors = dict(re.findall(r"--nb-fig-(c\d): (#[0-9a-f]{6})", block))
        assert len(colors) == len(PALETTE)
        for name, color in colors.items():
            assert _contrast(color, bg) >= 4.5, (name, color, bg)


def test_ids_are_unique_per_figure() -> None:
    """Two figures on one page share no id (duplicate ids break clip paths and accessibility)."""
    ids_a = set(re.findall(r'id="([^"]+)"', _line_figure("하나")))
    fig, ax = new_figure()
    ax.plot([0, 1], [1, 0])
    ids_b = set(re.findall(r'id="([^"]+)"', svg_figure(fig, "둘")))
    assert ids_a and ids_b and not ids_a & ids_b
    svg = _svg(_line_figure())
    for ref in re.findall(r'(?:url\(#|href="#)([^")]+)', svg):
        assert f'id="{ref}"' in svg


def test_dense_data_is_embedded_as_raster() -> None:
    """A 121x121 heatmap becomes one PNG inside the SVG: tens of KB, not 2.8 MB of paths."""
    fig, ax = new_figure()
    x = np.linspace(-3, 3, 121)
    ax.pcolormesh(x, x, np.sign(np.add.outer(x, x ** 2)), shading="auto")
    svg = svg_figure(fig, "끌개 영역")
    assert svg.count("<image") == 1 and "data:image/png;base64," in svg
    assert len(svg.encode()) < 100_000
    fig, ax = new_figure()
    assert rasterize_dense(fig) == 0
    ax.contourf(*np.meshgrid(x, x), np.sin(np.add.outer(x, x)), levels=30)
    assert rasterize_dense(fig) == 1


def test_oversized_svg_is_an_error() -> None:
    """A figure over the size limit fails with a message saying what to do."""
    fig, ax = new_figure()
    rng = np.random.default_rng(0)
    for _ in range(20):
        ax.plot(rng.standard_normal(3000))
    with pytest.raises(ValueError, match="limit"):
        svg_figure(fig, "너무 큰 그림")


def test_halo_line_is_left_out_of_the_legend() -> None:
    """plot_with_halo draws a background-colored halo under the line; the legend lists the line once."""
    fig, ax = new_figure()
    plot_with_halo(ax, np.arange(3), np.arange(3), ".-", color="C1", label="궤적")
    legend = ax.legend()
    assert [t.get_text() for t in legend.get_texts()] == ["궤적"]
    assert len(ax.lines) == 2 and ax.lines[0].get_color() == figures.BG
    svg = svg_figure(fig, "궤적")
    assert "var(--nb-fig-bg)" in svg and "var(--nb-fig-c1)" in svg


def test_caption_math_split_and_plain_text() -> None:
    """Captions: $...$ is math (KaTeX span), unmatched $ is an error, aria text is Unicode."""
    assert split_math(r"a $x$ b") == [(False, "a "), (True, "x"), (False, " b")]
    with pytest.raises(ValueError, match="unmatched"):
        split_math("비용 $5")
    assert tex_to_text(r"\|W^{39}\|_2") == "‖W³⁹‖₂"
    assert tex_to_text(r"x_{t+1} = 5\,\sigma(x_t)") == "xₜ₊₁ = 5 σ(xₜ)"
    assert tex_to_text(r"\mathbf{W}_{rec}") == "W_(rec)"
    assert plain_text(r"노름 $\|\delta_{k+1} J_k\|$") == "노름 ‖δₖ₊₁ Jₖ‖"
    assert caption_html("a < b $x<y$") == r'a &lt; b <span class="arithmatex">\(x&lt;y\)</span>'
    assert sci(3.6e-5) == r"3.6 \times 10^{-5}" and sci(14.123) == "14.1" and sci(0.25) == "0.25"
