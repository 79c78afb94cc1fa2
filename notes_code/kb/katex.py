r"""Math at build time: every formula becomes KaTeX HTML before the page is written.

``pymdownx.arithmatex`` (generic mode) leaves each formula in the page as escaped TeX,

* inline:  ``<span class="arithmatex">\(x_t\)</span>``,
* display: ``<div class="arithmatex">\[x_t\]</div>``,

which the browser used to typeset with ``katex.min.js``. Here the vendored KaTeX
(``docs/assets/katex/katex.min.js``) runs in **one long-lived Node process** per build:
each page sends all its formulas in one JSON line and reads one JSON line back, so a
page costs one round trip, not one process per formula. KaTeX runs with
``throwOnError``: a malformed formula is a build error naming the page and the formula.

Rendered formulas are cached in memory and on disk (``build/katex-cache.json``, keyed on
KaTeX's version, the output mode, display mode and the TeX), so a rebuild renders only
formulas it has not seen.

Output mode: display formulas use ``htmlAndMathml`` (KaTeX's layout, plus hidden MathML so
screen readers read the formula). Inline formulas use KaTeX's ``mathml`` output alone, which
browsers lay out natively (MathML Core) in KaTeX's fonts (``extra.css``): about a fifth of the
bytes, which keeps a formula-dense note under the 600 KB page budget, and still accessible.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import subprocess
import tempfile
import threading
from pathlib import Path

OUTPUT = "htmlAndMathml"
INLINE_OUTPUT = "mathml"
FORMAT = 4  # bump when the post-processing below changes (invalidates the disk cache)

# The escaped TeX that arithmatex (generic) leaves; group 2 is the TeX, still HTML-escaped.
INLINE_RE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)
DISPLAY_RE = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.S)
# Math left as text in a TOC title (the toc extension strips the arithmatex span).
TOC_MATH_RE = re.compile(r"\\\((.+?)\\\)", re.S)

# A line-oriented JSON server: in: {"id", "items": [[tex, display], ...]};
# out: {"id", "results": [[html|null, error|null], ...], "version"}.
_SERVER_JS = r"""
const [katexPath, displayOutput, inlineOutput] = process.argv.slice(-3);
const katex = require(katexPath);
const rl = require('readline').createInterface({input: process.stdin, terminal: false});
rl.on('line', (line) => {
  const req = JSON.parse(line);
  const results = req.items.map(([tex, display]) => {
    try {
      const output = display ? displayOutput : inlineOutput;
      return [katex.renderToString(tex, {displayMode: display, throwOnError: true,
                                         output: output, strict: 'ignore', trust: false}), null];
    } catch (e) {
      return [null, String(e && e.message || e)];
    }
  });
  process.stdout.write(JSON.stringify({id: req.id, version: katex.version, results}) + '\n');
});
"""


_MATH_RE = re.compile(r"<math\b.*?</math>", re.S)
_ANNOTATION_RE = re.compile(r"<annotation\b.*?</annotation>", re.S)
_TAG_RE = re.compile(r"<[^>]+>")


def math_text(katex_html: str) -> str:
    """The formula as plain text, from KaTeX's MathML (``x t + 1 = F ( x t )``), no TeX."""
    m = _MATH_RE.search(katex_html)
    if not m:
        return ""
    inner = _ANNOTATION_RE.sub("", m.group(0))
    return " ".join(html.unescape(t) for t in _TAG_RE.split(inner) if t.strip())


def for_search(katex_html: str) -> str:
    """Wrap a rendered formula so that search indexes its text once, not three copies.

    Material's search parser compares elements by tag name, so ``data-search-exclude``
    on a ``<span>`` ends at the first nested ``</span>``; a custom element has no nested
    twin. The formula (boxes, MathML, TeX annotation) is excluded and a ``hidden``
    plain-text copy (from the MathML) is what the index and its previews get.
    """
    text = html.escape(math_text(katex_html), quote=False)
    return (f"<kb-math data-search-exclude>{katex_html}</kb-math>"
            f"<kb-math-text hidden>{text}</kb-math-text>")


class KatexError(ValueError):
    """A formula KaTeX cannot render (the message names the page and the formula)."""


class Renderer:
    """One Node process running KaTeX, with an in-memory and an on-disk cache.

    Args:
        katex_js: Path of ``katex.min.js`` (the copy the site vendors).
        cache_file: JSON file of rendered formulas; ``None`` keeps the cache in memory.
        output: KaTeX's ``output`` option for display math (``"html"`` or ``"htmlAndMathml"``).
        inline_output: KaTeX's ``output`` option for inline math (``"mathml"`` by default).
    """

    def __init__(self, katex_js: Path, cache_file: Path | None = None, output: str = OUTPUT,
                 inline_output: str = INLINE_OUTPUT) -> None:
        self.katex_js = Path(katex_js).resolve()
        if not self.katex_js.is_file():
            raise KatexError(f"KaTeX not found at {self.katex_js}")
        self.output = output
        self.inline_output = inline_output
        self.cache_file = cache_file
        self._cache: dict[str, str] = {}
        self._dirty = False
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._seq = 0
        # the vendored file's hash stands for KaTeX's version in cache keys
        self._version = hashlib.sha256(self.katex_js.read_bytes()).hexdigest()[:16]
        if cache_file and Path(cache_file).is_file():
            try:
                data = json.loads(Path(cache_file).read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    self._cache = {k: v for k, v in data.items() if isinstance(v, str)}
            except (OSError, json.JSONDecodeError):
                self._cache = {}  # a damaged cache is only a slower build

    def _key(self, tex: str, display: bool) -> str:
        raw = json.dumps([FORMAT, self._version, self.output if display else self.inline_output,
                          display, tex])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                ["node", "-e", _SERVER_JS, str(self.katex_js), self.output, self.inline_output],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
                bufsize=1)
        return self._proc

    def render_many(self, items: list[tuple[str, bool]], where: str = "") -> list[str]:
        r"""Render ``(tex, display)`` pairs, one Node round trip for the uncached ones.

        Args:
            items: TeX sources (without ``\(``/``\[`` delimiters) and display flags.
            where: The page, for error messages.

        Returns:
            The KaTeX HTML of each item, in order.

        Raises:
            KatexError: A formula does not parse; names ``where`` and the formula.
        """
        keys = [self._key(t, d) for t, d in items]
        todo = list(dict.fromkeys(i for i, k in enumerate(keys) if k not in self._cache))
        if todo:
            with self._lock:
                proc = self._start()
                self._seq += 1
                req = {"id": self._seq, "items": [list(items[i]) for i in todo]}
                assert proc.stdin and proc.stdout
                proc.stdin.write(json.dumps(req) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
            if not line:
                raise KatexError(f"{where}: the KaTeX process (node) exited")
            reply = json.loads(line)
            errors = []
            for i, (out, err) in zip(todo, reply["results"], strict=True):
                if err is not None:
                    errors.append(f"{where}: KaTeX cannot render formula {items[i][0]!r}: {err}")
                else:
                    self._cache[keys[i]] = for_search(out)
                    self._dirty = True
            if errors:
                raise KatexError("\n".join(errors))
        return [self._cache[k] for k in keys]

    def render_html(self, page_html: str, where: str = "") -> str:
        """Replace every arithmatex formula of a page's HTML with rendered KaTeX."""
        found: list[tuple[str, bool]] = []
        for regex, display in ((DISPLAY_RE, True), (INLINE_RE, False)):
            found += [(html.unescape(m.group(1)).strip(), display) for m in regex.finditer(page_html)]
        if not found:
            return page_html
        rendered = dict(zip(found, self.render_many(found, where), strict=True))

        def sub(display: bool):
            def one(m: re.Match[str]) -> str:
                out = rendered[(html.unescape(m.group(1)).strip(), display)]
                tag = "div" if display else "span"
                return f'<{tag} class="arithmatex">{out}</{tag}>'
            return one

        page_html = DISPLAY_RE.sub(sub(True), page_html)
        return INLINE_RE.sub(sub(False), page_html)

    def render_toc_title(self, title: str, where: str = "") -> str:
        r"""A TOC title (escaped text) with each ``\(...\)`` rendered as inline KaTeX."""
        parts = [html.unescape(m.group(1)).strip() for m in TOC_MATH_RE.finditer(title)]
        if not parts:
            return title
        out = iter(self.render_many([(p, False) for p in parts], where))
        return TOC_MATH_RE.sub(lambda m: f'<span class="arithmatex">{next(out)}</span>', title)

    def save(self) -> None:
        """Write the cache atomically (a crash leaves the old file, never half a file)."""
        if not (self.cache_file and self._dirty):
            return
        path = Path(self.cache_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self._cache, f, ensure_ascii=False)
        os.replace(tmp, path)
        self._dirty = False

    def close(self) -> None:
        """Save the cache and stop the Node process."""
        self.save()
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None


def render_toc(toc, renderer: Renderer, where: str = "") -> None:
    """Render math in every title of a page's table of contents (in place)."""
    for item in toc:
        item.title = renderer.render_toc_title(item.title, where)
        render_toc(item.children, renderer, where)
