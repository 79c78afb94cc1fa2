r"""Figure captions: ``$...$`` math for KaTeX in the HTML, plain Unicode for screen readers.

A caption is Korean text with inline math between single dollars,
``"상한 $(\lambda_1\gamma)^{t-k}$"``. In the ``<figcaption>`` the text is escaped
and the math becomes an arithmatex span (``<span class="arithmatex">\(...\)</span>``,
what ``pymdownx.arithmatex`` writes for ``$...$`` in Markdown), so the site's KaTeX
renders it like any other formula. For ``aria-label`` and ``<title>`` the math is
turned into readable Unicode (``(λ₁γ)ᵗ⁻ᵏ``).
"""

from __future__ import annotations

import html
import re

_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η",
    "theta": "θ", "lambda": "λ", "mu": "μ", "xi": "ξ", "pi": "π", "rho": "ρ",
    "sigma": "σ", "tau": "τ", "phi": "φ", "omega": "ω", "Omega": "Ω", "Delta": "Δ",
    "Sigma": "Σ", "partial": "∂", "nabla": "∇", "infty": "∞", "cdot": "·",
    "times": "×", "in": "∈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "approx": "≈", "ne": "≠", "neq": "≠", "to": "→", "rightarrow": "→", "|": "‖",
    "ldots": "…", "dots": "…", "sim": "∼", "pm": "±", "circ": "∘", "top": "ᵀ",
    "prime": "′", "lVert": "‖", "rVert": "‖", "Vert": "‖", "log": "log", "exp": "exp",
    "max": "max", "min": "min", "det": "det", "operatorname": "",
}
_SUP = dict(zip("0123456789+-=()nikt", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵏᵗ", strict=True))
_SUB = dict(zip("0123456789+-=()aeikntx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢₖₙₜₓ", strict=True))


def split_math(caption: str) -> list[tuple[bool, str]]:
    r"""Split a caption into text and ``$...$`` math pieces.

    Args:
        caption: Text with inline math between single dollars.

    Returns:
        ``[(is_math, piece), ...]`` in order; math pieces without their dollars.

    Raises:
        ValueError: If a ``$`` is left unmatched.
    """
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for m in _MATH.finditer(caption):
        pieces.append((False, caption[pos:m.start()]))
        pieces.append((True, m.group(1)))
        pos = m.end()
    rest = caption[pos:]
    if re.search(r"(?<!\\)\$", rest):
        raise ValueError(f"unmatched $ in figure caption: {caption!r}")
    pieces.append((False, rest))
    return [(is_math, p) for is_math, p in pieces if p]


def _script(body: str, table: dict[str, str], mark: str) -> str:
    if body and all(ch in table for ch in body):
        return "".join(table[ch] for ch in body)
    return f"{mark}\x00{body}\x01" if len(body) > 1 else f"{mark}{body}"


def tex_to_text(tex: str) -> str:
    r"""Turn a small inline TeX formula into readable Unicode.

    Args:
        tex: TeX without dollars, e.g. ``\|W^{k}\|_2``.

    Returns:
        Plain text, e.g. ``‖Wᵏ‖₂``.
    """
    s = re.sub(r"\\(?:left|right|big|Big|bigl|bigr)(?![a-zA-Z])", "", tex)
    s = re.sub(r"\\(?:mathbf|mathrm|mathit|boldsymbol|text|operatorname)\{([^{}]*)\}", r"\1", s)
    s = re.sub(r"\\(?:tilde|bar|hat)\{([^{}]*)\}", r"\1", s)
    s = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", s)
    s = re.sub(r"\\([,;:! ])", " ", s)
    s = re.sub(r"\\([a-zA-Z]+|\|)", lambda m: _SYMBOLS.get(m.group(1), m.group(1)), s)
    for mark, table in (("^", _SUP), ("_", _SUB)):
        s = re.sub(re.escape(mark) + r"\{([^{}]*)\}", lambda m, t=table, k=mark: _script(m.group(1), t, k), s)
    for mark, table in (("^", _SUP), ("_", _SUB)):
        s = re.sub(re.escape(mark) + r"([^\s\x00])", lambda m, t=table, k=mark: _script(m.group(1), t, k), s)
    s = s.replace("{", "").replace("}", "").replace("\x00", "(").replace("\x01", ")")
    return re.sub(r"\s+", " ", s).strip()


def plain_text(caption: str) -> str:
    """The caption as plain text, math turned into Unicode (for ``aria-label``).

    Args:
        caption: Caption with ``$...$`` math.

    Returns:
        One line of plain text.
    """
    return "".join(tex_to_text(p) if is_math else p for is_math, p in split_math(caption))


def caption_html(caption: str) -> str:
    r"""The caption as HTML: escaped text, math as arithmatex spans for KaTeX.

    Args:
        caption: Caption with ``$...$`` math.

    Returns:
        HTML for the ``<figcaption>``.
    """
    out = []
    for is_math, piece in split_math(caption):
        if is_math:
            out.append(f'<span class="arithmatex">\\({html.escape(piece, quote=False)}\\)</span>')
        else:
            out.append(html.escape(piece, quote=False))
    return "".join(out)


def sci(x: float, digits: int = 1) -> str:
    r"""A number in TeX scientific notation, for captions: ``1.2 \times 10^{-5}``.

    Args:
        x: The number.
        digits: Digits after the decimal point of the mantissa.

    Returns:
        TeX without dollars; numbers between 0.01 and 1000 are written plainly.
    """
    x = float(x)
    if x == 0 or 1e-2 <= abs(x) < 1e3:
        return f"{x:.{digits + 1}g}" if abs(x) < 1 else f"{x:.{digits}f}"
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"
