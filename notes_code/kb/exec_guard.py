"""Turn markdown-exec's silent failures into build errors that name the page.

markdown-exec reports a code block that raises as a WARNING on the logger
``mkdocs.plugins.markdown_exec`` and renders the traceback into the page; a plain
build still exits 0, and ``--strict`` fails only at the end without naming the page.
:class:`ExecFailureCollector` records those warnings while a page renders, so the
hook can raise with the page's path as soon as the page is done.
"""

from __future__ import annotations

import logging

LOGGER_NAME = "mkdocs.plugins.markdown_exec"


class ExecFailureCollector(logging.Handler):
    """A logging handler that keeps markdown-exec warnings until they are drained."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def drain(self) -> list[str]:
        """Return the collected messages and forget them."""
        out, self.messages = self.messages, []
        return out


def install() -> ExecFailureCollector:
    """Attach one collector to markdown-exec's logger (idempotent across rebuilds)."""
    logger = logging.getLogger(LOGGER_NAME)
    # `mkdocs build -q` raises the parent logger's level to ERROR, which would drop
    # these warnings before any handler sees them; pin this logger's own level.
    logger.setLevel(logging.WARNING)
    for handler in logger.handlers:
        if isinstance(handler, ExecFailureCollector):
            return handler
    collector = ExecFailureCollector()
    logger.addHandler(collector)
    return collector
