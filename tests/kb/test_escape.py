"""notes_code.kb.escape: data text never becomes markup, only safe URLs become links."""

from __future__ import annotations

import html

import markdown
import pytest

from notes_code.kb import escape

PAYLOADS = ['<script>alert(1)</script>', '<svg onload=alert(1)>', '" onmouseover="x', "' q",
            "[link](javascript:alert(1))", "*em* _u_ `c`"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_stays_text_through_markdown(payload: str) -> None:
    """Escaped data converted by Markdown yields no tag, attribute or link: only the text."""
    out = markdown.markdown(escape.text(payload))
    assert out.count("<") == 2  # <p> and </p>
    assert "<a" not in out and "<em" not in out and "<code" not in out
    assert html.unescape(out[3:-4]) == payload


def test_normalize_never_double_escapes() -> None:
    """A title escaped once or not at all ends up escaped exactly once."""
    assert escape.normalize("<b>&") == "&lt;b&gt;&amp;"
    assert escape.normalize(escape.normalize("<b>&")) == "&lt;b&gt;&amp;"


@pytest.mark.parametrize("url", ["https://arxiv.org/abs/1211.5063", "http://x.org/a?b=c#d",
                                 "../reading-list.md", "#ref-x", "page.html"])
def test_safe_urls_pass(url: str) -> None:
    """http(s) and relative links are kept as they are."""
    assert escape.check_url(url) == url


def test_doi_becomes_https() -> None:
    """doi: links point to the DOI resolver."""
    assert escape.check_url("doi:10.1109/72.279181") == "https://doi.org/10.1109/72.279181"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x",
                                 "vbscript:x", "file:///etc/passwd", "//evil.org/x",
                                 "java\tscript:alert(1)", " javascript:alert(1)", "https:evil"])
def test_unsafe_urls_are_errors_naming_where(url: str) -> None:
    """Other schemes, protocol-relative links and hidden whitespace are rejected with the place."""
    with pytest.raises(escape.UnsafeURL, match="refs.yaml: entry 'k' key 'url'"):
        escape.check_url(url, "refs.yaml: entry 'k' key 'url'")


def test_url_for_markdown_keeps_the_link_whole() -> None:
    """Quotes and parentheses are percent-encoded so the Markdown link cannot be broken out of."""
    target = escape.url_for_markdown('https://x.org/?a="b)c')
    out = markdown.markdown(f"[t]({target})")
    assert out == '<p><a href="https://x.org/?a=%22b%29c">t</a></p>'
