r"""Executed blocks that fail, run too long, print too much or exit: build errors naming the page.

markdown-exec reports a code block that raises as a WARNING on the logger
``mkdocs.plugins.markdown_exec`` and renders the traceback into the page; a plain
build still exits 0, and ``--strict`` fails only at the end without naming the page.
:class:`ExecFailureCollector` records those warnings while a page renders, so the
hook can raise with the page's path as soon as the page is done.

Bounds on one block (used by :mod:`notes_code.kb.exec_cache`, which runs the blocks):

* :func:`deadline`: a wall-clock limit. A watchdog thread raises :class:`BlockTimeout`
  inside the thread running the block (``PyThreadState_SetAsyncExc``), so it works in
  ``mkdocs serve``'s build thread too, where ``SIGALRM`` cannot. It interrupts Python
  code between bytecodes (``while True: pass``); one long C call finishes first.
* :class:`CappedBuffer`: the block's ``print`` output, refused past a byte limit.
* ``sys.exit(n)`` in a block raises :class:`SystemExit`, which would end the whole
  build silently; the runner turns it into an ordinary block failure.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import threading
from collections.abc import Iterator

LOGGER_NAME = "mkdocs.plugins.markdown_exec"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_OUTPUT = 2 * 1024 * 1024  # bytes of printed text (UTF-8)


class ExecFailureCollector(logging.Handler):
    """A logging handler that keeps markdown-exec warnings until they are drained."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's message."""
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


# --- bounds ---------------------------------------------------------------------------------

class BlockTimeout(BaseException):
    """Raised inside a block that ran past its time limit.

    A ``BaseException``, so that ``except Exception`` in the block cannot swallow it.
    """


class OutputLimit(BaseException):
    """Raised inside a block whose printed output passed its byte limit."""


def _async_raise(thread_id: int, exc: type[BaseException] | None) -> None:
    """Schedule ``exc`` in the thread ``thread_id`` (``None`` cancels a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc) if exc else None)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[dict]:
    r"""Raise :class:`BlockTimeout` in this thread if the body runs more than ``seconds``.

    Args:
        seconds: The wall-clock limit; $\le 0$ means no limit.

    Yields:
        A dict whose ``"fired"`` entry says whether the limit was hit.
    """
    state = {"fired": False, "done": False}
    if seconds <= 0:
        yield state
        return
    target = threading.get_ident()
    lock = threading.Lock()

    def fire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _async_raise(target, BlockTimeout)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield state
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
            if state["fired"]:
                _async_raise(target, None)  # the exception may still be pending: drop it
    if state["fired"]:
        raise BlockTimeout()


class CappedBuffer(io.StringIO):
    """A text buffer that raises :class:`OutputLimit` once it holds more than ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.size = 0

    def write(self, text: str) -> int:
        """Append ``text``, or raise :class:`OutputLimit` past the limit (nothing is kept)."""
        self.size += len(text.encode("utf-8", "replace"))
        if 0 < self.limit < self.size:
            raise OutputLimit()
        return super().write(text)


def parse_size(text: str) -> int:
    """``"2MB"``, ``"512kB"``, ``"100"`` (bytes) as a number of bytes.

    Raises:
        ValueError: for anything else.
    """
    units = {"": 1, "b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
    raw = text.strip().lower().replace(" ", "")
    digits = raw.rstrip("kmgb")
    unit = raw[len(digits):]
    if not digits or unit not in units:
        raise ValueError(f"not a size: {text!r} (write e.g. 2MB, 512kB or 1000)")
    return int(float(digits) * units[unit])


def human_size(n: int) -> str:
    """Bytes as ``"2 MB"`` / ``"512 kB"`` / ``"100 B"``."""
    if n >= 1024**2 and n % 1024**2 == 0:
        return f"{n // 1024**2} MB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} kB"
    return f"{n} B"
