r"""# The grids of the LSTM note: the LSTM beside the RNN under one protocol

Registered here and run by `notes_code.common.runner` like every grid
(`python -m notes_code.experiments run <grid>`); results in `docs/data/hochreiter1997/`.
"""

from __future__ import annotations

from notes_code.common.grid import Grid

GRIDS: dict[str, Grid] = {}

__all__ = ["GRIDS"]
