"""Sepp Hochreiter and Jürgen Schmidhuber (1997), *Long Short-Term Memory*.

- note: ``docs/papers/hochreiter1997/index.md``
- tests: ``tests/hochreiter1997/``
- key in ``references.yaml``: ``hochreiter1997``
"""
