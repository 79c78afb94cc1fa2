r"""Run the pages' executed blocks bounded, and reuse their output while their inputs are unchanged.

markdown-exec 1.12.6 runs every ``exec="on"`` block on every build (its ``cache``
option is not in this release). :func:`install` replaces its ``python``/``py``/``pycon``
formatters with ones that keep markdown-exec's rendering (``base_format``) but run
the code here, so that each block

* runs under a time limit and an output cap (:mod:`notes_code.kb.exec_guard`), set per
  block in the fence: ``timeout="120"`` (seconds), ``maxoutput="4MB"``; the default time
  limit (60 s) can be raised for a slow machine with ``NOTES_EXEC_TIMEOUT``;
* is stored, once it succeeded, under ``.cache/exec/`` (git-ignored) keyed by

  $$\text{key} = H(\text{page}, \text{source}, \text{options}, \text{python}, \text{torch},
  \text{numpy}, \text{matplotlib})$$

  together with the hashes of its *inputs*: every ``notes_code`` module it imported,
  directly or transitively (recorded while it ran: an ``__import__`` hook and a
  ``sys.modules`` diff, closed over the modules' own imports), and every file under the
  project that it opened for reading (an audit hook on ``open``);
* is reused when an entry with its key exists and every recorded input still hashes
  the same; otherwise it runs again and the entry is replaced.

Entries are written through a temporary file and ``os.replace``, so an interrupted
build leaves either the old entry or the new one, never half of one; an entry that
does not parse is a miss. Blocks with ``session=`` share state with earlier blocks, so
they always run (and their sessions are page-local here, not shared across pages).

``NOTES_EXEC_CACHE`` chooses the mode: ``on`` (default: read and write),
``refresh`` (run every block, write the entries: what ``make test`` uses),
``off`` (run every block, touch nothing). ``NOTES_EXEC=off`` runs no block at all
(for the benchmark's execution-off baseline).
"""

from __future__ import annotations

import builtins
import hashlib
import importlib.metadata
import json
import os
import re
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

from notes_code.kb import exec_guard
from notes_code.kb.exec_inputs import REAL_IMPORT, Recorder, audit, module_closure, tracking_import

FORMAT_VERSION = 1
CACHE_DIR = Path(".cache") / "exec"
MODES = ("on", "refresh", "off")
_SVG_RE = re.compile(r"<svg\b.*?</svg>", re.S)
_PARKED_RE = re.compile(r"<!--notes-exec-svg:(\d+)-->")
_FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>python|py|pycon)\b"
                       r"(?P<info>[^\n]*)$")


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "format": str(FORMAT_VERSION)}
    for dist in ("torch", "numpy", "matplotlib", "markdown-exec"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "-"
    return out


def _sha256_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


# --- where a block is in its page -----------------------------------------------------------

def executed_blocks(text: str) -> list[tuple[int, str]]:
    """``(line of the opening fence, source)`` of every executed Python block in a page.

    Args:
        text: The page's Markdown as stored (front matter included, so lines match the file).

    Returns:
        One pair per fence whose info string has ``exec`` set, in page order.
    """
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        m = _FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        if re.search(r"\bexec\s*=\s*[\"']?(?:on|yes|true|1)\b", m["info"], re.I):
            body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1:j]]
            out.append((i + 1, "\n".join(body)))
        i = j + 1
    return out


# --- the store ------------------------------------------------------------------------------

@dataclass
class Stats:
    """What the blocks of the last build did."""

    executed: list[str] = field(default_factory=list)  # "page:line" of blocks that ran
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0


class ExecCache:
    """Runs blocks for markdown-exec; reuses stored outputs whose inputs are unchanged.

    Args:
        root: The project root (inputs are recorded relative to it).
        mode: ``on``, ``refresh`` or ``off`` (see the module docstring).
        directory: Where entries live (default ``<root>/.cache/exec``).
        packages: The packages whose modules count as inputs.
        execute: ``False`` runs nothing and renders no output (the execution-off baseline).
        default_timeout: The time limit of a block whose fence sets no ``timeout``.
    """

    def __init__(self, root: Path, mode: str = "on", directory: Path | None = None,
                 packages: tuple[str, ...] = ("notes_code",), execute: bool = True,
                 default_timeout: float = exec_guard.DEFAULT_TIMEOUT_S) -> None:
        if mode not in MODES:
            raise ValueError(f"NOTES_EXEC_CACHE={mode!r}: use one of {', '.join(MODES)}")
        self.root = Path(root).resolve()
        self.mode = mode
        self.directory = Path(directory) if directory else self.root / CACHE_DIR
        self.packages = packages
        self.execute = execute
        self.default_timeout = default_timeout
        self.versions = _versions()
        self.stats = Stats()
        self._page = ""
        self._blocks: list[tuple[int, str]] = []
        self._sessions: dict[str, dict] = {}
        self._hashes: dict[tuple[Path, int, int], str | None] = {}
        self._svgs: dict[str, str] = {}

    # -- page bookkeeping
    def begin_build(self) -> None:
        """Forget the last build's statistics and the file-hash memo."""
        self.stats = Stats()
        self._hashes.clear()
        self._svgs.clear()
        for name in [m for m in sys.modules if any(m == p or m.startswith(p + ".")
                                                    for p in self.packages if p != "notes_code")]:
            del sys.modules[name]

    def begin_page(self, uri: str, text: str) -> None:
        """Announce the page about to render: its path and its stored text (for block lines)."""
        self._page = uri
        self._blocks = executed_blocks(text)
        self._sessions = {}

    def _line_of(self, code: str) -> int | None:
        for k, (line, src) in enumerate(self._blocks):
            if src.strip("\n") == code.strip("\n"):
                del self._blocks[k]
                return line
        return None

    # -- hashing
    def _hash(self, path: Path) -> str | None:
        try:
            st = path.stat()
        except OSError:
            return None
        memo = (path, st.st_mtime_ns, st.st_size)
        if memo not in self._hashes:
            self._hashes[memo] = _sha256_file(path)
        return self._hashes[memo]

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)

    def key(self, page: str, code: str, options: dict) -> str:
        """The lookup key of a block: page, source, options and library versions."""
        blob = json.dumps({"page": page, "code": code, "options": options, "versions": self.versions},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def lookup(self, key: str) -> str | None:
        """The stored output for ``key`` if every recorded input is unchanged, else ``None``."""
        try:
            entry = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
            inputs, output = entry["inputs"], entry["output"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        for rel, digest in inputs.items():
            path = Path(rel) if Path(rel).is_absolute() else self.root / rel
            if self._hash(path) != digest:
                return None
        return output if isinstance(output, str) else None

    def store(self, key: str, output: str, inputs: dict[str, str], where: str) -> None:
        """Write an entry atomically (temporary file, then ``os.replace``)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        entry = {"where": where, "inputs": inputs, "output": output, "versions": self.versions,
                 "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{key}", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f, ensure_ascii=False)
            os.replace(tmp, self.directory / f"{key}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- figures: kept out of the page while MkDocs and the search index parse it
    def park_svgs(self, html: str) -> str:
        """Replace each inline ``<svg>`` of a block's HTML output by a comment placeholder.

        A figure's SVG is most of a page's bytes (the basin page: 2.8 MB, 14,685 paths) and
        nothing in it is worth searching, but the search plugin parses every tag of it
        (about 4 s for that page). :meth:`restore_svgs` puts them back into the written page.
        """
        def park(m: re.Match) -> str:
            token = str(len(self._svgs))
            self._svgs[token] = m.group(0)
            return f"<!--notes-exec-svg:{token}-->"
        return _SVG_RE.sub(park, html)

    def restore_svgs(self, html: str) -> str:
        """Put parked figures back (``on_post_page``, after the search index read the page)."""
        if "<!--notes-exec-svg:" not in html:
            return html
        return _PARKED_RE.sub(lambda m: self._svgs.get(m.group(1), m.group(0)), html)

    def write_stats(self) -> None:
        """Record the last build's :class:`Stats` in ``<directory>/last-build.json`` (atomically)."""
        if self.mode == "off" or not (self.stats.executed or self.stats.reused):
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".last-build", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"executed": self.stats.executed, "reused": self.stats.reused,
                       "seconds": round(self.stats.seconds, 3)}, f, indent=1)
        os.replace(tmp, self.directory / "last-build.json")

    # -- running
    def run(self, code: str, *, language: str = "python", session: str | None = None,
            options: dict | None = None, timeout: float = exec_guard.DEFAULT_TIMEOUT_S,
            max_output: int = exec_guard.DEFAULT_MAX_OUTPUT) -> str:
        """Run one block (or reuse its output); returns what it printed.

        Raises:
            markdown_exec ExecutionError: the block raised, exited, ran past ``timeout``
                or printed more than ``max_output`` bytes; the message names page and line.
        """
        from markdown_exec._internal.formatters.base import ExecutionError
        from markdown_exec._internal.rendering import code_block

        line = self._line_of(code)
        where = f"{self._page}:{line if line is not None else '?'}"
        if not self.execute:
            return ""
        cacheable = self.mode != "off" and not session
        key = self.key(self._page, code, {**(options or {}), "language": language})
        if cacheable and self.mode == "on":
            hit = self.lookup(key)
            if hit is not None:
                self.stats.reused.append(where)
                return hit
        recorder = Recorder(self.root, self.packages)
        modname = re.sub(r"[^a-zA-Z\d]+", "_", f"code block {where}")
        exec_globals = self._sessions.setdefault(session, {}) if session else {}
        exec_globals["__name__"] = modname
        sys.modules[modname] = ModuleType(modname)
        buffer = exec_guard.CappedBuffer(max_output)
        exec_globals["print"] = partial(_buffer_print, buffer)
        filename = f"<code block: {where}>"
        before = set(sys.modules)
        start = time.perf_counter()
        Recorder.active = recorder
        builtins.__import__ = tracking_import
        try:
            with exec_guard.deadline(timeout):
                exec(compile(code, filename, "exec"), exec_globals)  # noqa: S102
        except exec_guard.BlockTimeout:
            raise ExecutionError(f"{where}: the block ran past its time limit of {timeout:g} s "
                                 f"(raise it in the fence with timeout=\"...\")") from None
        except exec_guard.OutputLimit:
            raise ExecutionError(f"{where}: the block printed more than its output limit of "
                                 f"{exec_guard.human_size(max_output)} (raise it in the fence with "
                                 f"maxoutput=\"...\")") from None
        except SystemExit as exc:
            raise ExecutionError(f"{where}: the block called sys.exit({exc.code!r}), which would "
                                 "end the whole build; raise an exception instead") from None
        except Exception as error:
            trace = traceback.TracebackException.from_exception(error)
            lines = code.split("\n")
            for frame in trace.stack:
                if frame.filename == filename and frame.lineno and frame.lineno <= len(lines):
                    frame._line = lines[frame.lineno - 1]
            raise ExecutionError(f"{where}: the block raised\n\n"
                                 + code_block("python", "".join(trace.format()))) from error
        finally:
            builtins.__import__ = REAL_IMPORT
            Recorder.active = None
            self.stats.seconds += time.perf_counter() - start
        self.stats.executed.append(where)
        output = buffer.getvalue()
        if cacheable:
            recorder.modules |= {m for m in set(sys.modules) - before if recorder.tracked(m)}
            files = set(module_closure(recorder.modules, recorder.tracked).values()) | recorder.files
            inputs = {self._rel(p): self._hash(p) for p in sorted(files)}
            self.store(key, output, {k: v for k, v in inputs.items() if v is not None}, where)
        return output


def _buffer_print(buffer: exec_guard.CappedBuffer, *texts: object, end: str = "\n", **_: Any) -> None:
    buffer.write(" ".join(str(text) for text in texts) + end)


# --- wiring into markdown-exec --------------------------------------------------------------

_AUDIT_INSTALLED: list[bool] = []


def _block_limits(extra: dict, default_timeout: float) -> tuple[float, int]:
    from markdown_exec._internal.formatters.base import ExecutionError
    try:
        timeout = float(extra.pop("timeout", default_timeout))
        max_output = exec_guard.parse_size(str(extra.pop("maxoutput", exec_guard.DEFAULT_MAX_OUTPUT)))
    except ValueError as exc:
        raise ExecutionError(f"bad block option: {exc}") from None
    return timeout, max_output


def install(cache: ExecCache) -> None:
    """Route markdown-exec's Python formatters through ``cache`` (idempotent)."""
    from markdown_exec._internal import main
    from markdown_exec._internal.formatters.base import base_format
    from markdown_exec._internal.formatters.pycon import _transform_source

    if not _AUDIT_INSTALLED:
        sys.addaudithook(audit)  # audit hooks cannot be removed: it records only while a block runs
        _AUDIT_INSTALLED.append(True)

    def make(language: str, transform: Any = None) -> Any:
        def fmt(**kwargs: Any) -> Any:
            extra = dict(kwargs.pop("extra", {}) or {})
            options = {k: kwargs.get(k) for k in ("returncode", "workdir", "width")}
            try:
                timeout, max_output = _block_limits(extra, cache.default_timeout)
            except Exception as exc:  # markdown-exec renders and logs ExecutionError itself
                error = exc

                def failing(*_a: Any, **_k: Any) -> str:
                    raise error
                return base_format(language=language, run=failing, transform_source=transform,
                                   extra=extra, **kwargs)

            def run(code: str, returncode: int | None = None, session: str | None = None,
                    id: str | None = None, **_extra: str) -> str:  # noqa: A002
                out = cache.run(code, language=language, session=session or None,
                                options={**options, **extra}, timeout=timeout, max_output=max_output)
                return cache.park_svgs(out) if kwargs.get("html") else out
            return base_format(language=language, run=run, transform_source=transform, extra=extra,
                               **kwargs)
        return fmt

    main.formatters["python"] = main.formatters["py"] = make("python")
    main.formatters["pycon"] = make("pycon", _transform_source)


def from_environment(root: Path) -> ExecCache:
    """An :class:`ExecCache` configured by ``NOTES_EXEC_CACHE``, ``NOTES_EXEC_CACHE_DIR``,
    ``NOTES_EXEC_PACKAGES`` (comma-separated, default ``notes_code``), ``NOTES_EXEC`` and
    ``NOTES_EXEC_TIMEOUT`` (the default time limit in seconds, 60; for slow or loaded machines).

    Raises:
        ValueError: a mode or time limit that is not understood.
    """
    raw_timeout = os.environ.get("NOTES_EXEC_TIMEOUT", "").strip()
    try:
        default_timeout = float(raw_timeout) if raw_timeout else exec_guard.DEFAULT_TIMEOUT_S
    except ValueError:
        raise ValueError(f"NOTES_EXEC_TIMEOUT={raw_timeout!r}: give a number of seconds") from None
    packages = tuple(p.strip() for p in os.environ.get("NOTES_EXEC_PACKAGES", "notes_code").split(",")
                     if p.strip())
    directory = os.environ.get("NOTES_EXEC_CACHE_DIR")
    return ExecCache(root, mode=os.environ.get("NOTES_EXEC_CACHE", "on").strip().lower() or "on",
                     directory=Path(directory) if directory else None, packages=packages,
                     execute=os.environ.get("NOTES_EXEC", "on").strip().lower() not in ("off", "0", "no"),
                     default_timeout=default_timeout)
