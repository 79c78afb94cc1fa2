r"""What an executed block read: the modules it imported and the project files it opened.

Recorded while the block runs (more reliable than reading its source: imports inside
functions, ``importlib``, data paths built at run time):

* an ``__import__`` hook (installed only while a block runs) records every import
  statement, including those of modules already in ``sys.modules``; a ``sys.modules``
  diff adds modules imported by other means;
* :func:`module_closure` closes those over the modules' own imports (parsed from their
  files), so a block that imports ``a``, which imports ``b``, depends on ``b`` even when
  ``a`` was imported by an earlier block;
* an audit hook on ``open`` (``sys.addaudithook``: installed once, active only while a
  block runs) records files under the project root opened for reading, outside
  ``.venv/``, ``.cache/``, ``.git/`` and ``__pycache__/``.
"""

from __future__ import annotations

import ast
import builtins
import os
import sys
from pathlib import Path
from typing import Any


class Recorder:
    """Records, while a block runs, the modules it imports and the project files it opens."""

    active: Recorder | None = None

    def __init__(self, root: Path, packages: tuple[str, ...]) -> None:
        self.root = root
        self.packages = packages
        self.modules: set[str] = set()
        self.files: set[Path] = set()
        self._skip = [root / ".venv", root / ".cache", root / ".git", Path(sys.prefix).resolve()]

    def tracked(self, name: str) -> bool:
        """Whether module ``name`` belongs to a tracked package."""
        return any(name == p or name.startswith(p + ".") for p in self.packages)

    def on_import(self, name: str, globals_: dict | None, fromlist: Any, level: int) -> None:
        """Record an import statement (relative names resolved against the importer)."""
        if level and globals_:
            package = globals_.get("__package__") or ""
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            name = f"{base}.{name}" if name else base
        if self.tracked(name):
            self.modules.add(name)
            for sub in fromlist or ():
                if isinstance(sub, str) and sub != "*":
                    self.modules.add(f"{name}.{sub}")

    def on_open(self, path: Any, mode: Any) -> None:
        """Record a project file opened for reading."""
        if not isinstance(path, (str, bytes, os.PathLike)) or isinstance(path, int):
            return
        if isinstance(mode, str) and any(c in mode for c in "wax+"):
            return
        try:
            p = Path(os.fsdecode(path)).resolve()
        except (OSError, ValueError):
            return
        if p.is_relative_to(self.root) and not any(p.is_relative_to(s) for s in self._skip) \
                and "__pycache__" not in p.parts and p.is_file():
            self.files.add(p)


def audit(event: str, args: tuple) -> None:
    """The audit hook: an ``open`` while a block runs goes to the active :class:`Recorder`."""
    rec = Recorder.active
    if rec is not None and event == "open" and args:
        rec.on_open(args[0], args[1] if len(args) > 1 else "r")


REAL_IMPORT = builtins.__import__


def tracking_import(name: str, globals: dict | None = None, locals: dict | None = None,  # noqa: A002
                    fromlist: Any = (), level: int = 0) -> Any:
    """``builtins.__import__`` that tells the active :class:`Recorder` first."""
    rec = Recorder.active
    if rec is not None:
        rec.on_import(name, globals, fromlist, level)
    return REAL_IMPORT(name, globals, locals, fromlist, level)


def _module_file(name: str) -> Path | None:
    mod = sys.modules.get(name)
    file = getattr(mod, "__file__", None)
    return Path(file).resolve() if file else None


def _static_imports(path: Path, name: str) -> set[str]:
    """Module names ``import``-ed anywhere in the file of module ``name``."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                head = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{head}.{base}" if base else head
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def module_closure(names: set[str], tracked: Any) -> dict[str, Path]:
    """Every tracked module that importing ``names`` runs, with its file.

    Args:
        names: Module names a block imported (a ``from a import b`` gives ``a`` and ``a.b``;
            names that are not modules are dropped).
        tracked: A predicate on module names (the packages whose files are inputs).

    Returns:
        ``{module name: file}``, parent packages and transitive imports included.
    """
    out: dict[str, Path] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in out or not tracked(name):
            continue
        file = _module_file(name)
        if file is None:
            continue
        out[name] = file
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += [n for n in _static_imports(file, name) if tracked(n)]
    return out
