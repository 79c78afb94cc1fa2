r"""LSTM against the Pascanu RNN (MSGD-C / MSGD-CR) on temporal order, at a matched budget.

The RNN side is the recorded CI tier of `notes_code.common.runner` (grid `ci`:
temporal order, 50 units, batch 20, learning rate 0.1, clipping threshold 1, at most
5,000 updates). This module trains LSTMs under the same settings (50 cells, batch 20,
learning rate 0.1, norm clipping at 1, plain SGD, the same budget and lengths) and records
them in `docs/data/hochreiter1997/compare.json` with provenance, so the note only reads and
plots. One difference is stated with the results: the LSTM run counts as solved when a fixed
held-out set of `eval_size` sequences has under 1% errors, where the RNN grid screens on
1,000 fresh sequences and then confirms on 10,000.

The claim's criterion is part of the configuration (and of its hash): at the longest length
the 1997 LSTM solves more runs than the RNN with plain MSGD (tanh inits pooled), two-sided
Fisher exact test $p <$ `alpha` (`notes_code.common.stats.compare`). `verdict` applies it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notes_code.common.results import ROOT, ResultsError, provenance, write_results

from ..common.stats import Difference, compare
from .train import train_lstm_on_task

DEFAULT_PATH = ROOT / "docs" / "data" / "hochreiter1997" / "compare.json"


@dataclass(frozen=True)
class CompareConfig:
    r"""The LSTM side of the comparison.

    Attributes:
        lengths: sequence lengths (a subset of the RNN grid's).
        seeds: seeds per (form, length).
        forget_gate: the LSTM forms to train (`False` is the 1997 cell).
        n_hidden: memory cells.
        updates: budget of SGD updates per run.
        lr: learning rate.
        clip: norm-clipping threshold.
        batch_size: sequences per update.
        eval_every: updates between evaluations.
        eval_size: held-out sequences.
        criterion: the claim's registered criterion (English).
        criterion_ko: the same in Korean, for the note.
        alpha: its significance level.
    """

    lengths: tuple[int, ...] = (20, 30)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    forget_gate: tuple[bool, ...] = (False, True)
    n_hidden: int = 50
    updates: int = 5_000
    lr: float = 0.1
    clip: float = 1.0
    batch_size: int = 20
    eval_every: int = 250
    eval_size: int = 2_000
    criterion: str = ("hochreiter1997/matched-budget-temporal-order: at the longest length the 1997 "
                      "LSTM solves more runs than the RNN with plain MSGD (basic and smart tanh pooled, "
                      "recorded ci grid), two-sided Fisher p < alpha")
    criterion_ko: str = ("가장 긴 길이에서 1997년 LSTM이 clipping 없는 RNN(MSGD, basic·smart tanh "
                         "합침, 기록된 `ci` 격자)보다 많은 실행을 푼다 (양측 Fisher p < 0.05).")
    alpha: float = 0.05

    def config_hash(self) -> str:
        r"""Hash of the configuration (16 hex digits)."""
        blob = json.dumps(dataclasses.asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def run_comparison(config: CompareConfig, path: Path = DEFAULT_PATH) -> dict[str, Any]:
    r"""Train every LSTM run of `config` and write the results file (atomically).

    Args:
        config: what to train.
        path: the results file.

    Returns:
        The recorded data.
    """
    start = time.perf_counter()
    runs = []
    for length in config.lengths:
        for forget_gate in config.forget_gate:
            for seed in config.seeds:
                r = train_lstm_on_task(
                    task="torder", length_range=(length, length), n_hidden=config.n_hidden,
                    forget_gate=forget_gate, updates=config.updates, lr=config.lr,
                    batch_size=config.batch_size, clip=config.clip, seed=seed,
                    eval_every=config.eval_every, eval_size=config.eval_size, stop_error=0.01)
                runs.append({"length": length, "forget_gate": forget_gate, "seed": seed,
                             "success": r.final_error < 0.01, "updates": r.updates,
                             "final_error": r.final_error, "seconds": round(r.seconds, 3)})
    prov = provenance("cpu")
    prov["wall_time_s"] = round(time.perf_counter() - start, 1)
    config_data = json.loads(json.dumps(dataclasses.asdict(config)))  # tuples as JSON lists
    data = {"schema": 1, "config": config_data, "config_hash": config.config_hash(),
            "provenance": prov, "runs": runs}
    write_results(Path(path), data)
    return data


def load(path: Path = DEFAULT_PATH) -> dict[str, Any]:
    r"""Read the recorded comparison; a missing or corrupted file raises `ResultsError`.

    Args:
        path: the results file.

    Returns:
        The data.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read the LSTM comparison ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list) or "provenance" not in data:
        raise ResultsError(f"{path}: not an LSTM comparison file")
    return data


def restate(config: CompareConfig, path: Path = DEFAULT_PATH, *, reason: str) -> dict[str, Any]:
    r"""Store `config` in a recorded file whose runs it does not change (only the criterion fields
    differ), with a `restated` provenance entry; otherwise raise `ResultsError`.

    Args:
        config: the configuration as defined now.
        path: the results file.
        reason: why it was restated.
    """
    data = load(path)
    new = json.loads(json.dumps(dataclasses.asdict(config)))
    keep = ("criterion", "criterion_ko", "alpha")
    if {k: v for k, v in data["config"].items() if k not in keep} != \
            {k: v for k, v in new.items() if k not in keep}:
        raise ResultsError(f"{path}: the comparison's runs changed; retrain instead of restating")
    if data["config_hash"] == config.config_hash():
        return data
    entry = {"from_hash": data["config_hash"], "to_hash": config.config_hash(), "reason": reason}
    restated = [*data["provenance"].get("restated", []), entry]
    data = {**data, "config": new, "config_hash": config.config_hash(),
            "provenance": {**data["provenance"], "restated": restated}}
    write_results(Path(path), data)
    return data


def verdict(lstm: dict[str, Any], rnn_ci: dict[str, Any]) -> Difference:
    r"""The registered criterion: LSTM 1997 against RNN MSGD (tanh inits) at the longest length.

    Args:
        lstm: `load()` data (its `config` carries `alpha`).
        rnn_ci: the RNN `ci` grid's results.

    Returns:
        Counts with Wilson intervals and the two-sided Fisher test; the criterion is met when
        `a_better and significant`.
    """
    length = max(lstm["config"]["lengths"])
    rows = {r["model"]: r for r in summary_rows(lstm, rnn_ci) if r["length"] == length}
    a, b = rows["LSTM 1997"], rows["RNN MSGD (tanh inits)"]
    return compare(a["success"], a["runs"], b["success"], b["runs"], lstm["config"].get("alpha", 0.05))


def summary_rows(lstm: dict[str, Any], rnn_ci: dict[str, Any],
                 rnn_inits: tuple[str, ...] = ("basic_tanh", "smart_tanh")) -> list[dict[str, Any]]:
    r"""Success counts per (model, length): the LSTM forms and the RNN methods of the CI tier.

    Args:
        lstm: `load()` data.
        rnn_ci: the RNN `ci` grid's results (`common.results.load_results`).
        rnn_inits: the RNN initialisations pooled in the comparison.

    Returns:
        Rows with `model`, `length`, `success`, `runs` and `median_updates` (of successes).
    """
    def row(model: str, length: int, items: list[tuple[bool, int]]) -> dict[str, Any]:
        ups = sorted(u for ok, u in items if ok)
        return {"model": model, "length": length, "success": len(ups), "runs": len(items),
                "median_updates": ups[len(ups) // 2] if ups else None}

    rows = []
    for length in lstm["config"]["lengths"]:
        for forget_gate, name in ((False, "LSTM 1997"), (True, "LSTM + forget gate")):
            items = [(r["success"], r["updates"]) for r in lstm["runs"]
                     if r["length"] == length and r["forget_gate"] == forget_gate]
            if items:
                rows.append(row(name, length, items))
        for method in ("MSGD", "MSGD-C", "MSGD-CR"):
            items = [(c["outcome"] == "success", c["updates"]) for c in rnn_ci["cells"].values()
                     if c["length"] == length and c["method"] == method and c["init"] in rnn_inits]
            rows.append(row(f"RNN {method} (tanh inits)", length, items))
    return rows
