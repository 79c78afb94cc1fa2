r"""# The grids of the LSTM note: the LSTM beside the RNN under one protocol

`lstm-ci` trains the two LSTM forms (the 1997 cell and the forget-gate cell) and the RNN with
the two tanh inits of Pascanu et al. on temporal order at the settings of the RNN note's CI
tier (`pascanu2013.grids.GRIDS["ci"]`: 50 units or cells, minibatch 20, learning rate 0.1,
threshold 1, at most 5,000 updates, lengths 20 and 30, 5 seeds), with MSGD and MSGD-C, through
the same runner: the same data, lengths and success test (under 1% errors on 10,000 fresh
sequences, after a 1,000-sequence screen). Its criterion was registered before it ran.

Registered here and run by `notes_code.common.runner` like every grid
(`python -m notes_code.experiments run lstm-ci`); results in `docs/data/hochreiter1997/`.
"""

from __future__ import annotations

from notes_code.common.criteria import TANH, Cells, Criterion
from notes_code.common.grid import Grid
from notes_code.pascanu2013.grids import GRIDS as _PASCANU

_CI = _PASCANU["ci"]

GRIDS: dict[str, Grid] = {g.name: g for g in (
    Grid("lstm-ci", "Temporal order at the RNN note's CI tier: the 1997 LSTM and the forget-gate LSTM "
         "beside the tanh-init RNN, MSGD and MSGD-C, lengths 20 and 30, one success test.",
         _CI.base, inits=(*TANH, "lstm1997", "lstm"), methods=("MSGD", "MSGD-C"),
         lengths=(20, 30), seeds=(0, 1, 2, 3, 4), paper="hochreiter1997",
         deviations=(_CI.deviations[0],
                     "lengths 20 and 30 (Pascanu et al.: 50-200; the 1997 paper: up to 1,000)",
                     _CI.deviations[2], _CI.deviations[3],
                     "the LSTM is trained with full BPTT through its cells and plain SGD (the 1997 paper "
                     "truncated the gradient outside the cells and updated online); Gaussian initial "
                     "weights of standard deviation 0.1, forget-gate bias 0"),
         deviations_ko=(_CI.deviations_ko[0], "길이 20과 30 (Pascanu et al.: 50–200, 1997년 논문: 1,000까지)",
                        _CI.deviations_ko[2], _CI.deviations_ko[3],
                        "LSTM은 cell을 통한 full BPTT와 보통의 SGD로 학습한다 (1997년 논문은 cell 밖의 "
                        "기울기를 잘라 내고 온라인으로 갱신했다). 초기 가중치는 표준편차 0.1의 정규분포, "
                        "forget gate 편향은 0이다"),
         criteria=(
             Criterion("hochreiter1997/matched-budget-temporal-order", "more-successes",
                       "Hochreiter & Schmidhuber 1997 §5 (temporal order) beside Pascanu et al. §4.1: at "
                       "length 30, the 1997 LSTM (MSGD-C) solves more runs than the RNN with plain MSGD "
                       "(basic and smart tanh pooled) under the same budget and success test (two-sided "
                       "Fisher p < 0.05)",
                       "(1997년 논문 5절, Pascanu et al. 4.1절) 길이 30에서, 같은 예산과 같은 성공 판정으로 "
                       "1997년 LSTM(MSGD-C)이 clipping 없는 RNN(MSGD, basic·smart tanh 합침)보다 많은 "
                       "실행을 푼다 (양측 Fisher p < 0.05).",
                       Cells(("MSGD-C",), ("lstm1997",), (30,)), Cells(("MSGD",), TANH, (30,))),
         )),
)}

__all__ = ["GRIDS"]
