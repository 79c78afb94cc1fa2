"""Data into HTML: escape text, allow only safe URLs.

Everything that comes from data (front matter, ``references.yaml``, claim ids) passes
through here where it enters a page:

* :func:`text` for text inside HTML or Markdown (``<script>`` shows as text; Markdown
  link and emphasis characters lose their meaning, so a title cannot open a link);
* :func:`attr` for an attribute value;
* :func:`check_url` for a link target: http(s), ``doi:`` (rewritten to https://doi.org/)
  and relative links only; anything else (``javascript:``, ``data:``) is an error.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

# Markdown characters that would give data text a meaning (links, emphasis, code).
_MD_ENTITIES = {"[": "&#91;", "]": "&#93;", "*": "&#42;", "_": "&#95;", "`": "&#96;",
                "\\": "&#92;", "!": "&#33;"}
_MD_RE = re.compile("[" + re.escape("".join(_MD_ENTITIES)) + "]")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_CONTROL_RE = re.compile(r"[\x00-\x20\x7f]")


class UnsafeURL(ValueError):
    """A URL whose scheme is not allowed in the site."""


def text(value: object) -> str:
    """``value`` as literal text in HTML or Markdown (HTML-escaped, Markdown-neutral)."""
    return _MD_RE.sub(lambda m: _MD_ENTITIES[m.group(0)], html.escape(str(value), quote=True))


def attr(value: object) -> str:
    """``value`` escaped for a double- or single-quoted HTML attribute."""
    return html.escape(str(value), quote=True)


def normalize(value: str) -> str:
    """Escape a title that may or may not be escaped already (never double-escapes)."""
    return html.escape(html.unescape(value), quote=True)


def check_url(url: str, where: str = "") -> str:
    """A safe link target for ``url``, or :class:`UnsafeURL` naming ``where``.

    Args:
        url: The URL as written in the data.
        where: Where it came from (file and key), for the error message.

    Returns:
        ``url`` itself for http(s) and relative links; ``https://doi.org/<doi>`` for
        ``doi:<doi>``.

    Raises:
        UnsafeURL: Another scheme (``javascript:``, ``data:``, ``file:``...), a
            protocol-relative ``//host`` link, or control characters or spaces.
    """
    url = str(url)
    if _CONTROL_RE.search(url):
        raise UnsafeURL(f"{where}: URL {url!r} contains spaces or control characters")
    m = _SCHEME_RE.match(url)
    if m:
        scheme = m.group(1).lower()
        if scheme in ("http", "https") and url[len(scheme) + 1 :].startswith("//"):
            return url
        if scheme == "doi" and len(url) > 4:
            return "https://doi.org/" + url[4:]
        raise UnsafeURL(f"{where}: URL scheme {scheme!r} is not allowed in {url!r} "
                        f"(use http(s)://, doi: or a relative link)")
    if url.startswith("//"):
        raise UnsafeURL(f"{where}: protocol-relative URL {url!r} is not allowed")
    return url


def url_for_markdown(url: str) -> str:
    """A checked URL as a Markdown link target: ``( ) < > " '`` and spaces percent-encoded."""
    return quote(str(url), safe=":/?#[]@!$&*+,;=%~")
