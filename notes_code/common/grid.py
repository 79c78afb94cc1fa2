r"""# An experiment grid: inits × methods × lengths × seeds, with its deviations and criteria

A `Grid` is the product inits × methods × lengths × seeds on one task, every other setting
(learning rate, clipping threshold, $\alpha$, batch size, evaluation, budget) coming from a
base `TrainConfig`. The "inits" name the network and its initialisation: the RNN inits of
Pascanu et al. (§4.1.1) or an LSTM (`train.LSTM_INITS`), so one grid can compare both under
one success test. Its **deviations** from the paper (in English and Korean) and the
**criteria** that decide its claims (`criteria.Criterion`) are part of the definition and of
its hash: a criterion cannot change after the data are in without changing the grid's
identity. Each paper registers its grids (`notes_code.<paper>.grids.GRIDS`); running and
recording them is `notes_code.common.runner`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from notes_code.common.criteria import Criterion
from notes_code.common.train import INITS, METHODS, TrainConfig

# fields added after grids were first recorded, with the defaults that leave a hash unchanged
_LATER: dict[str, Any] = {"paper": "pascanu2013", "min_length": None, "generalise": []}
_LATER_CRITERION: dict[str, Any] = {"minimum": 1, "max_error": 0.01}


def cell_length(config: TrainConfig) -> int:
    r"""The length $L$ a cell is recorded under: its fixed length, or the longest it trains on."""
    return config.min_length if config.min_length == config.max_length else config.max_length - 1


@dataclass(frozen=True)
class Grid:
    r"""One experiment grid.

    Attributes:
        name: the grid's name (also the results file's stem).
        description: what the grid shows.
        base: every setting but init, method, length and seed (`max_updates` is the budget).
        inits: initialisations (§4.1.1).
        methods: `"MSGD"`, `"MSGD-C"`, `"MSGD-CR"`.
        lengths: training (and test) lengths.
        seeds: seeds per (init, method, length).
        deviations: departures from the paper's protocol, stated with the results.
        deviations_ko: the same deviations in Korean, for the notes (one per deviation).
        criteria: the criteria that decide the grid's claims (registered before it runs).
        paper: the note whose data folder holds the results (`docs/data/<paper>/<name>.json`).
        min_length: variable-length training: the cells of length $L$ train on lengths drawn in
            [`min_length`, L] (`max_length = L + 1`, as the released code's `[min, max - 1]`);
            `None`: every cell trains at its fixed length.
        generalise: lengths at which every finished run is tested after training (`eval_size`
            fresh sequences each); recorded with the cell as `generalisation`.
    """

    name: str
    description: str
    base: TrainConfig
    inits: tuple[str, ...] = INITS
    methods: tuple[str, ...] = METHODS
    lengths: tuple[int, ...] = (50, 100, 150, 200)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    deviations: tuple[str, ...] = ()
    deviations_ko: tuple[str, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    paper: str = "pascanu2013"
    min_length: int | None = None
    generalise: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.deviations_ko and len(self.deviations_ko) != len(self.deviations):
            raise ValueError(f"grid {self.name}: {len(self.deviations)} deviations but "
                             f"{len(self.deviations_ko)} Korean ones")

    @property
    def budget(self) -> int:
        r"""Updates per run at most."""
        return self.base.max_updates

    def with_budget(self, budget: int) -> Grid:
        r"""The same grid with another budget (a different configuration: new cell keys)."""
        return dataclasses.replace(self, base=dataclasses.replace(self.base, max_updates=int(budget)))

    def cells(self) -> list[TrainConfig]:
        r"""Every run of the grid, length-major (at a fixed length $L$: `min_length = max_length = L`;
        with `min_length` set: `min_length`, `max_length = L + 1`)."""
        def span(L: int) -> dict[str, int]:
            return {"min_length": L, "max_length": L} if self.min_length is None else \
                {"min_length": self.min_length, "max_length": L + 1}

        return [dataclasses.replace(self.base, init=i, method=m, seed=s, **span(L))
                for L in self.lengths for i in self.inits for m in self.methods for s in self.seeds]

    def groups(self) -> dict[int, list[TrainConfig]]:
        r"""The cells by length: each list trains as one batched model."""
        return {L: [c for c in self.cells() if cell_length(c) == L] for L in self.lengths}

    def as_dict(self) -> dict[str, Any]:
        r"""The configuration as JSON-ready data. Fields added after grids were first recorded
        (`_LATER`, `_LATER_CRITERION`) appear only away from their defaults, so that the hashes
        of the recorded grids did not change."""
        data = json.loads(json.dumps(dataclasses.asdict(self)))
        for d, later in ((data, _LATER), *((c, _LATER_CRITERION) for c in data["criteria"])):
            for key, default in later.items():
                if d[key] == default:
                    del d[key]
        return data

    def config_hash(self) -> str:
        r"""Hash of `as_dict()` (16 hex digits)."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


__all__ = ["Grid", "cell_length"]
