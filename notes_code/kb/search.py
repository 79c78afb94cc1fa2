r"""Index-time processing for the site search (Material for MkDocs' lunr search).

Three steps, each called from `hooks.py` with one line:

* :func:`install` (``on_pre_build``): before Material's search plugin reads a page, its math is
  replaced by readable text, so previews say $\lVert\mathbf{W}\rVert$ as ``‖W‖`` and not as
  ``\(\lVert\mathbf{W}\rVert\)``. Both forms are handled: arithmatex's ``\(...\)`` spans and
  KaTeX HTML rendered at build time (its ``<annotation encoding="application/x-tex">``).
* :func:`post_build` (``on_post_build``, before the offline plugin inlines the index):
  drops generated helper pages (``SUMMARY``) and adds to the index's config what the query
  side needs: the Korean words the index knows, the particles, and the glossary's synonyms.
* the query side is `docs/assets/javascripts/kb-search.js`: it strips a trailing particle
  from a query word only when the rest is a known word (기울기를 → 기울기, but 사이 stays 사이),
  and adds the word's synonyms (야코비안 → 야코비 jacobian).

A Korean word is *known* when it occurs on its own, or with two different particles; a token
is *inflected* when it is a known word (two syllables or more) plus a particle.
"""

from __future__ import annotations

import bisect
import html
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notes_code.kb import glossary as kb_glossary
from notes_code.kb import memo

# Longest first, so 에서는 is tried before 는.
PARTICLES: tuple[str, ...] = tuple(sorted({
    "을", "를", "이", "가", "은", "는", "의", "에", "와", "과", "도", "로", "으로", "만",
    "에서", "에게", "부터", "까지", "보다", "처럼", "이나", "나", "이며", "이고", "이다",
    "에는", "에서는", "으로는", "로는", "과의", "와의", "에서의", "으로서", "로서", "이라는", "라는",
    "입니다", "이라", "라", "마다", "조차", "밖에", "이면", "면",
}, key=lambda p: (-len(p), p)))
MIN_STEM = 2  # syllables: 사이 is not 사 + 이, 경로 is not 경 + 로
HANGUL = re.compile(r"[가-힣]")
_TAG = re.compile(r"<[^>]+>")

# --- math to text -----------------------------------------------------------------------

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "θ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "partial": "∂", "nabla": "∇", "cdot": "·", "cdots": "⋯", "ldots": "…", "dots": "…",
    "times": "×", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "neq": "≠", "ne": "≠",
    "approx": "≈", "sim": "∼", "equiv": "≡", "propto": "∝", "infty": "∞", "sum": "Σ",
    "prod": "Π", "int": "∫", "to": "→", "rightarrow": "→", "leftarrow": "←",
    "Rightarrow": "⇒", "mapsto": "↦", "in": "∈", "notin": "∉", "subset": "⊂",
    "subseteq": "⊆", "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃", "top": "⊤",
    "prime": "′", "odot": "⊙", "otimes": "⊗", "circ": "∘", "pm": "±", "mp": "∓",
    "ll": "≪", "gg": "≫", "|": "‖", "lVert": "‖", "rVert": "‖", "Vert": "‖", "lvert": "|",
    "rvert": "|", "vert": "|", "langle": "⟨", "rangle": "⟩", "{": "{", "}": "}", "%": "%",
    "#": "#", "&": "&", "_": "_", "lbrace": "{", "rbrace": "}", "setminus": "∖",
    "emptyset": "∅", "star": "⋆", "ast": "∗", "neg": "¬", "land": "∧", "lor": "∨",
    "quad": " ", "qquad": " ", ",": " ", ";": " ", ":": " ", "!": "", " ": " ",
}
_DROP = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
         "displaystyle", "textstyle", "limits", "nolimits", "nonumber", "notag"}
_WRAPPERS = {"text", "textrm", "textbf", "textit", "mathrm", "mathbf", "mathit", "mathsf",
             "mathtt", "boldsymbol", "bm", "operatorname", "mathcal", "mathscr", "mbox",
             "hat", "tilde", "bar", "vec", "dot", "ddot", "overline", "underline",
             "widehat", "widetilde", "underbrace", "overbrace"}
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
_SUP = dict(zip("0123456789+-=()inTt", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵀᵗ", strict=True))
_SUP["*"] = "*"
_SUP["′"] = "′"
_SUP["⊤"] = "ᵀ"


def _group(tex: str, i: int) -> tuple[str, int]:
    """The argument starting at ``tex[i]``: a braced group, a command or one character."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return "", i
    if tex[i] == "{":
        depth, j = 0, i
        while j < len(tex):
            if tex[j] == "\\":
                j += 2
                continue
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            if depth == 0:
                return tex[i + 1 : j], j + 1
            j += 1
        return tex[i + 1 :], len(tex)
    if tex[i] == "\\":
        m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
        return m.group(0), i + len(m.group(0))
    return tex[i], i + 1


def _script(body: str, table: dict[str, str], mark: str) -> str:
    """``body`` as Unicode sub- or superscript when every character has one, else ``mark(body)``."""
    if body and all(c in table for c in body):
        return "".join(table[c] for c in body)
    return f"{mark}{body}" if re.fullmatch(r"\w+", body) else f"{mark}({body})"


def tex_to_text(tex: str) -> str:
    r"""Readable plain text for a TeX formula, for search previews.

    Greek letters and operators become Unicode (``\lambda_1\gamma`` → ``λ₁γ``), ``\frac{a}{b}``
    becomes ``a/b``, font commands keep their argument, sizing commands disappear.

    Args:
        tex: The formula's source, without delimiters.

    Returns:
        One line of text without backslashes or braces.
    """
    out: list[str] = []
    i = 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            name = m.group(1)
            i += len(m.group(0))
            if name in ("frac", "dfrac", "tfrac"):
                num, i = _group(tex, i)
                den, i = _group(tex, i)
                num, den = tex_to_text(num), tex_to_text(den)
                wrap = lambda s: s if len(s) <= 1 or re.fullmatch(r"[\w′‖|]+", s) else f"({s})"  # noqa: E731
                out.append(f"{wrap(num)}/{wrap(den)}")
            elif name == "sqrt":
                arg, i = _group(tex, i)
                out.append(f"√({tex_to_text(arg)})")
            elif name == "mathbb":
                arg, i = _group(tex, i)
                out.append("".join(_BLACKBOARD.get(ch, ch) for ch in arg))
            elif name in _WRAPPERS:
                arg, i = _group(tex, i)
                out.append(tex_to_text(arg))
            elif name in ("begin", "end"):
                _, i = _group(tex, i)
            elif name == "\\":
                out.append("; ")
            elif name in _DROP:
                continue
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            else:  # \tanh, \log, \max, \arg, \det ...: the name itself
                out.append(name)
        elif c in "_^":
            body, i = _group(tex, i + 1)
            body = tex_to_text(body).replace(" ", "")
            out.append(_script(body, _SUB if c == "_" else _SUP, c))
        elif c in "{}":
            i += 1
        elif c == "&":
            out.append(" ")
            i += 1
        elif c == "~":
            out.append(" ")
            i += 1
        else:
            out.append(c)
            i += 1
    return re.sub(r"\s+", " ", "".join(out)).strip()


# --- math in page HTML ------------------------------------------------------------------

_KATEX_OPEN = re.compile(r'<span class="katex(?:-display)?"[^>]*>')
_ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.S)
_SPAN_TAG = re.compile(r"<(/?)span\b[^>]*>")
_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
_DELIMITED = re.compile(r"^\s*(?:\\\((.*)\\\)|\\\[(.*)\\\]|\$\$(.*)\$\$|\$(.*)\$)\s*$", re.S)


def _math_span(tex_escaped: str) -> str:
    text = tex_to_text(html.unescape(tex_escaped))
    return f'<span class="kb-math">{html.escape(text, quote=False)}</span>'


def _replace_katex(content: str) -> str:
    out, pos = [], 0
    for m in _KATEX_OPEN.finditer(content):
        if m.start() < pos:  # inside a KaTeX element already replaced
            continue
        depth, end = 0, None
        for tag in _SPAN_TAG.finditer(content, m.start()):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                end = tag.end()
                break
        if end is None:
            break
        annotation = _ANNOTATION.search(content, m.start(), end)
        out.append(content[pos : m.start()])
        out.append(_math_span(annotation.group(1)) if annotation else "")
        pos = end
    out.append(content[pos:])
    return "".join(out)


def _replace_arithmatex(m: re.Match) -> str:
    delimited = _DELIMITED.match(html.unescape(m.group(2)))
    if not delimited:  # already rendered (KaTeX inside), keep what is there
        return m.group(0)
    tex = next(g for g in delimited.groups() if g is not None)
    return _math_span(html.escape(tex, quote=False))


def searchable_html(content: str) -> str:
    """``content`` with every formula replaced by a ``<span>`` of its readable text.

    Handles KaTeX HTML (rendered at build time) and arithmatex's ``\\(...\\)``/``\\[...\\]``.
    """
    return _ARITHMATEX.sub(_replace_arithmatex, _replace_katex(content))


def install(config: Any, incremental: bool = False) -> None:
    """Make Material's search plugin index readable math (call from ``on_pre_build``).

    The plugin parses ``page.content`` in ``on_page_context``; this wraps that one call so the
    plugin reads :func:`searchable_html` of the page while the page itself is left unchanged.
    It also records each page's entries in :data:`INDEX` and makes the plugin write the index
    that :meth:`PageIndex.generate` assembles (Korean words, synonyms; no SUMMARY pages).

    Args:
        config: The MkDocs config.
        incremental: Keep the entries of pages that this build does not render (a dirty
            rebuild of ``mkdocs serve``); otherwise start from an empty index.
    """
    if not incremental:
        INDEX.clear()
    config_file = getattr(config, "config_file_path", None)
    INDEX.root = Path(config_file).resolve().parent if config_file else None
    plugin = config.plugins.get("material/search") or config.plugins.get("search")
    index = getattr(plugin, "search_index", None)
    if index is None or getattr(index, "_kb_wrapped", False):
        return
    original = index.add_entry_from_context

    def add_entry_from_context(page) -> None:
        real = page.content
        page.content = searchable_html(real)
        entries = getattr(index, "entries", None)
        before = len(entries) if entries is not None else 0
        try:
            original(page)
        finally:
            page.content = real
        if entries is not None:
            INDEX.set_page(page.url, entries[before:])

    def generate_search_index(prev) -> str:  # noqa: ARG001 (Material's merge of ``prev`` is replaced)
        return INDEX.generate({key: index.config[key] for key in ("lang", "separator", "pipeline", "fields")})

    index.add_entry_from_context = add_entry_from_context
    index.generate_search_index = generate_search_index
    index._kb_wrapped = True


# --- Korean words and particles -----------------------------------------------------------


def tokens(text: str, separator: str) -> list[str]:
    """The lower-cased tokens of ``text`` (HTML tags removed) split like the index splits."""
    plain = html.unescape(_TAG.sub(" ", text))
    return [t for t in re.split(separator, plain.lower()) if t]


def split_particle(token: str, stems: set[str]) -> tuple[str, str] | None:
    """``(stem, particle)`` when ``token`` is a word of ``stems`` plus a trailing particle."""
    for particle in PARTICLES:
        stem = token[: -len(particle)]
        if token.endswith(particle) and len(stem) >= MIN_STEM and stem in stems:
            return stem, particle
    return None


def known_words(all_tokens: list[str], extra: set[str] = frozenset()) -> set[str]:
    """The Korean words the index knows (see the module docstring).

    Args:
        all_tokens: Every token of the index.
        extra: Words known anyway (the glossary's).

    Returns:
        Bare words and stems seen with two particles, without the inflected tokens.
    """
    seen = {t for t in all_tokens if HANGUL.search(t)}
    particles_of: dict[str, set[str]] = defaultdict(set)
    for token in seen:
        for particle in PARTICLES:
            stem = token[: -len(particle)]
            if token.endswith(particle) and len(stem) >= MIN_STEM and HANGUL.search(stem):
                particles_of[stem].add(particle)
    base = seen | {s for s, ps in particles_of.items() if len(ps) >= 2} | set(extra)
    inflected = {t for t in seen if t not in extra and split_particle(t, base)}
    return base - inflected


def strip_particle(term: str, known: set[str]) -> str:
    """The query word ``term`` without its particle, if the rest is known (Python twin of the JS)."""
    term = term.lower()
    if term in known or not HANGUL.search(term):
        return term
    split = split_particle(term, known)
    return split[0] if split else term


# --- the index ------------------------------------------------------------------------------


def _is_summary(location: str) -> bool:
    return location.split("#")[0].split("/")[-1].startswith("SUMMARY.")


def present_words(groups: list[list[str]], vocabulary: set[str] | list[str]) -> list[str]:
    """The synonym words that start some token of ``vocabulary`` (sorted; prefix search by bisection)."""
    ordered = sorted(vocabulary)
    out = set()
    for w in {w for g in groups for w in g}:
        i = bisect.bisect_left(ordered, w)
        if i < len(ordered) and ordered[i].startswith(w):
            out.add(w)
    return sorted(out)


def kb_config(vocabulary: set[str], entries: list[kb_glossary.Entry]) -> dict:
    """``config.kb`` of the index: known words, particles, synonym groups and the words present."""
    groups = kb_glossary.synonym_groups(entries)
    words = {w for g in groups for w in g}
    known = known_words(list(vocabulary), {w for w in words if HANGUL.search(w)})
    return {"known": sorted(known), "particles": list(PARTICLES), "minStem": MIN_STEM,
            "synonyms": [g for g in groups if g], "present": present_words(groups, vocabulary)}


@dataclass
class PageIndex:
    r"""The search entries of every page, kept across the rebuilds of ``mkdocs serve``.

    A dirty rebuild renders only the edited page. Material's own merge of the previous index
    keeps the old entries of every page but the *first* one rendered (an edited note also
    re-renders the home page, so the note's entries would be doubled) and re-serialises
    everything. Here the entries are kept per page URL: a rendered page replaces its own,
    pages that left the site are dropped, and only the rendered pages are tokenised again
    (the vocabulary is the union of per-page token sets; ``known`` is recomputed only when
    that union changes).
    """

    pages: dict[str, list[dict]] = field(default_factory=dict)
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    json_parts: dict[str, str] = field(default_factory=dict)  # each page's entries, serialised once
    order: list[str] | None = None  # the site's page URLs in build order (None: insertion order)
    root: Path | None = None
    tokenised: int = 0  # pages tokenised since the last clear (what a test can count)
    _memo: tuple | None = None

    def clear(self) -> None:
        """Forget every page (a full build starts here)."""
        self.pages.clear()
        self.tokens.clear()
        self.json_parts.clear()
        self.order, self._memo, self.tokenised = None, None, 0

    def set_pages(self, urls: list[str]) -> None:
        """The URLs of the pages the site has now (``on_files``); others are dropped."""
        self.order = list(urls)
        keep = set(urls)
        for url in [u for u in self.pages if u not in keep]:
            del self.pages[url]
            self.tokens.pop(url, None)
            self.json_parts.pop(url, None)

    def set_page(self, url: str, entries: list[dict]) -> None:
        """The entries a page produced in this build (none: a page excluded from search)."""
        self.pages[url] = [e for e in entries if not _is_summary(e["location"])]
        self.tokens.pop(url, None)
        self.json_parts.pop(url, None)

    def _urls(self) -> list[str]:
        order = [u for u in (self.order or []) if u in self.pages]
        seen = set(order)
        return order + [u for u in self.pages if u not in seen]

    def docs(self) -> list[dict]:
        """Every entry, pages in site order."""
        return [e for u in self._urls() for e in self.pages[u]]

    def _docs_json(self) -> str:
        """``json.dumps(self.docs())``, joined from per-page parts serialised once."""
        parts = []
        for url in self._urls():
            if not self.pages[url]:
                continue
            if url not in self.json_parts:
                self.json_parts[url] = _dumps(self.pages[url])[1:-1]
            parts.append(self.json_parts[url])
        return "[" + ",".join(parts) + "]"

    def vocabulary(self, separator: str) -> set[str]:
        """Every distinct token of the index (only pages without cached tokens are tokenised)."""
        vocab: set[str] = set()
        for url, entries in self.pages.items():
            toks = self.tokens.get(url)
            if toks is None:
                found: list[str] = []
                for doc in entries:
                    found += tokens(doc.get("title", ""), separator)
                    found += tokens(doc.get("text", ""), separator)
                toks = self.tokens[url] = frozenset(found)
                self.tokenised += 1
            vocab |= toks
        return vocab

    def generate(self, config: dict) -> str:
        """The index file's JSON: Material's ``config`` plus ``kb``, and every page's entries."""
        glossary_file = self.root / kb_glossary.GLOSSARY_PATH if self.root else None
        entries = (memo.cached("glossary", [glossary_file], lambda: kb_glossary.load(glossary_file),
                               key=str(glossary_file), deep=False)
                   if glossary_file and glossary_file.is_file() else [])
        vocab = self.vocabulary(config["separator"])
        key = (frozenset(vocab), tuple(tuple(g) for g in kb_glossary.synonym_groups(entries)))
        if self._memo is None or self._memo[0] != key:
            self._memo = (key, kb_config(vocab, entries))
        head = _dumps({"config": {**config, "kb": self._memo[1]}})
        return head[:-1] + ',"docs":' + self._docs_json() + "}"


INDEX = PageIndex()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def rewrite_index(path: Path, entries: list[kb_glossary.Entry]) -> dict:
    """Post-process the search index at ``path`` in place; returns the new ``config.kb``.

    Drops the generated navigation pages (``SUMMARY``) and adds ``config.kb`` with the known
    words, the particles and the glossary's synonym groups (only the words the index has).
    The file is replaced atomically: a failure leaves the old index.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    docs = [d for d in data["docs"]
            if not d["location"].split("#")[0].split("/")[-1].startswith("SUMMARY.")]
    separator = data["config"]["separator"]
    vocabulary: set[str] = set()
    for doc in docs:
        vocabulary.update(tokens(doc.get("title", ""), separator))
        vocabulary.update(tokens(doc.get("text", ""), separator))
    kb = kb_config(vocabulary, entries)
    data["docs"] = docs
    data["config"]["kb"] = kb
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)
    return kb


def post_build(config) -> None:
    """Rewrite ``site/search/search_index.json`` (call from ``on_post_build``).

    Nothing to do when :func:`install` wrapped the plugin (it wrote the final index itself).
    """
    plugin = config.plugins.get("material/search") or config.plugins.get("search")
    if getattr(getattr(plugin, "search_index", None), "_kb_wrapped", False):
        return
    path = Path(config.site_dir) / "search" / "search_index.json"
    if not path.is_file():
        return
    root = Path(config.config_file_path).resolve().parent
    glossary_file = root / kb_glossary.GLOSSARY_PATH
    entries = kb_glossary.load(glossary_file) if glossary_file.is_file() else []
    rewrite_index(path, entries)
