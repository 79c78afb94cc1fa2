"""Executable study notes: one sub-package per paper, plus the knowledge-base machinery in `kb`."""

__version__ = "0.1.0"
