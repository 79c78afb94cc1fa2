r"""# The grids of §4.1.1 (one model for lengths 50–200) and §4.1.2 (the other tasks, SGD-CR)

Pascanu et al. report, beyond Fig. 7:

* a **single temporal-order model** (50 tanh units, basic tanh init) trained with sequences of
  random length in [50, 200]: 5 of 5 seeds succeed, and the model has 0 errors in 10,000 at
  lengths 50, 100, …, 5000 (§4.1.1);
* **SGD-CR** (MSGD-CR) on addition, multiplication, 3-bit temporal order and random permutation,
  one model for lengths up to 200, and noiseless memorization (a 5-bit and a 23-bit pattern),
  one model per length 50, 100, 150, 200: 100% success "for all but one task", random
  permutation with 2 of 5; addition and multiplication generalise to 500 steps under 1% error
  (§4.1.2).

Each grid here restates one of these at the paper's settings where the paper gives them, and
says where it does not: the ICML text gives no per-task hidden size, learning rate or
$\alpha$; a secondary source (arXiv v2 appendix, unverified) gives them for addition and
random permutation, used here; the other tasks take the Fig. 7 protocol. Budgets are what a
2-core CPU or a small cluster can spend (`python -m notes_code.experiments plan <grid>`), far
below the paper's 5M updates. Every criterion was registered before the grid ran.
"""

from __future__ import annotations

from notes_code.common.criteria import Cells, Criterion
from notes_code.common.grid import Grid
from notes_code.common.train import TrainConfig

from .grids import _EVAL, _SCREEN, _SCREEN_KO, _XFORM, _XFORM_KO, _alpha_mean, _alpha_mean_ko

_CR = ("MSGD-CR",)
_GEN_TORDER = (50, 100, 150, 200, 250, 500, 1000, 2000, 3000, 5000)
_GEN_ARITH = (50, 100, 200, 300, 400, 500)
_BUDGET = 100_000
_BUDGET_EN = ("budget 100,000 updates per run (paper: up to 5M; its sample temporal-order run needed "
              "336,000)")
_BUDGET_KO = ("실행당 예산 100,000 갱신 (논문: 최대 5M, 논문의 예시 temporal order 실행은 "
              "336,000 갱신이 필요했다)")
_FIG7_EN = ("hidden size, learning rate, threshold and alpha not given for this task: the Fig. 7 protocol "
            "(50 units, lr 0.01, threshold 1, alpha 4) and the basic tanh init")
_FIG7_KO = ("이 task의 은닉 크기·학습률·threshold·α는 논문에 없다: Fig. 7 설정(유닛 50, 학습률 0.01, "
            "threshold 1, α 4)과 basic tanh 초기화")
_VAR_EN = "each update draws its length in [50, 200]; the success test draws its lengths the same way"
_VAR_KO = "갱신마다 길이를 [50, 200]에서 뽑는다. 성공 시험도 같은 방식으로 길이를 뽑는다"


def _solves(claim: str, task_en: str, task_ko: str, minimum: int,
            lengths: tuple[int, ...] = ()) -> Criterion:
    return Criterion(claim, "solves",
                     f"§4.1.2: SGD-CR solves {task_en}: at least {minimum} of the runs succeed (under 1% "
                     f"errors on 10,000 fresh sequences)",
                     f"(4.1.2절) SGD-CR이 {task_ko}를 푼다: 실행 중 {minimum}개 이상이 "
                     f"성공한다 (새 시퀀스 10,000개에서 오류 1% 미만).",
                     Cells(_CR, ("basic_tanh",), lengths), minimum=minimum)


def _generalises(claim: str, at: tuple[int, ...], section: str) -> Criterion:
    return Criterion(claim, "generalises",
                     f"{section}: every successful run has under 1% errors on 10,000 fresh sequences at "
                     f"each of the lengths {', '.join(map(str, at))} (the paper: 0 errors for temporal "
                     "order, under 1% for addition and multiplication)",
                     f"({section.replace('§', '')}절) 성공한 모든 실행이 길이 "
                     f"{', '.join(map(str, at))} 각각에서 새 시퀀스 10,000개의 오류 1% 이하다 "
                     "(논문: temporal order는 오류 0, 덧셈·곱셈은 1% 미만).",
                     Cells(_CR, ("basic_tanh",)), at=at)


def _one_model(name: str, task: str, description: str, base: dict, claim: str, task_en: str,
               task_ko: str, minimum: int, settings: tuple[str, str],
               generalise: tuple[int, ...] = ()) -> Grid:
    criteria = (_solves(claim, task_en, task_ko, minimum),)
    if generalise:
        criteria += (_generalises(claim, generalise, "§4.1.2" if task != "torder" else "§4.1.1"),)
    base_config = TrainConfig(task=task, max_updates=_BUDGET, eval_every=500, **_EVAL, **base)
    return Grid(name, description, base_config,
                inits=("basic_tanh",), methods=_CR, lengths=(200,), min_length=50, generalise=generalise,
                deviations=(_BUDGET_EN, settings[0], _VAR_EN, _SCREEN, _XFORM, _alpha_mean("50-200")),
                deviations_ko=(_BUDGET_KO, settings[1], _VAR_KO, _SCREEN_KO, _XFORM_KO,
                               _alpha_mean_ko("50–200")),
                criteria=criteria)


_SECONDARY = ("settings from a secondary source (arXiv v2 appendix, unverified; not in the ICML text): {}",
              "설정은 2차 자료(arXiv v2 부록, 미검증, ICML 본문에는 없음)의 값이다: {}")


def _secondary(en: str, ko: str) -> tuple[str, str]:
    return _SECONDARY[0].format(en), _SECONDARY[1].format(ko)


GRIDS: dict[str, Grid] = {g.name: g for g in (
    _one_model("torder-var", "torder", "§4.1.1: one temporal-order model trained on lengths 50-200 "
               "(basic tanh, MSGD-CR), tested for generalisation up to 5,000 steps.",
               {}, "pascanu2013/variable-length-model", "temporal order", "temporal order", 5,
               ("the Fig. 7 protocol (50 units, lr 0.01, threshold 1, alpha 4), as the paper's §4.1.1 "
                "describes this model",
                "논문 4.1.1절대로 Fig. 7 설정(유닛 50, 학습률 0.01, threshold 1, α 4)"),
               generalise=_GEN_TORDER),
    _one_model("add-cr", "add",
               "§4.1.2: addition, one SGD-CR model for lengths 50-200, generalisation to 500.",
               {"lr": 0.01, "alpha": 0.5, "clip": 6.0}, "pascanu2013/addition-sgd-cr", "addition", "덧셈",
               5, _secondary("50 tanh units, lr 0.01, alpha 0.5, threshold 6, N(0, 0.1^2) init "
                             "(basic tanh)",
                             "유닛 50(tanh), 학습률 0.01, α 0.5, threshold 6, N(0, 0.1²) 초기화(basic tanh)"),
               generalise=_GEN_ARITH),
    _one_model("mul-cr", "mul", "§4.1.2: multiplication, one SGD-CR model for lengths 50-200, generalisation "
               "to 500.", {}, "pascanu2013/multiplication-sgd-cr", "multiplication", "곱셈", 5,
               (_FIG7_EN, _FIG7_KO), generalise=_GEN_ARITH),
    _one_model("torder3-cr", "torder3", "§4.1.2: 3-bit temporal order, one SGD-CR model for lengths 50-200.",
               {}, "pascanu2013/torder3-sgd-cr", "3-bit temporal order", "3-bit temporal order", 5,
               (_FIG7_EN, _FIG7_KO)),
    _one_model("perm-cr", "perm", "§4.1.2: random permutation, one SGD-CR model for lengths 50-200 "
               "(the paper: 2 of 5 runs succeed).", {"n_hidden": 100, "lr": 0.001, "alpha": 1.0, "clip": 6.0},
               "pascanu2013/permutation-sgd-cr", "random permutation", "random permutation", 2,
               _secondary("100 units, lr 0.001, alpha 1, threshold 6",
                          "유닛 100, 학습률 0.001, α 1, threshold 6")),
    *(Grid(f"{task}-cr", f"§4.1.2: noiseless memorization ({bits}), one SGD-CR model per length 50, 100, "
           "150, 200.", TrainConfig(task=task, max_updates=_BUDGET, eval_every=500, **_EVAL),
           inits=("basic_tanh",), methods=_CR, lengths=(50, 100, 150, 200),
           deviations=(_BUDGET_EN, _FIG7_EN, f"the length L is the delay between the pattern and the go "
                       f"symbol (the sequence has L + {2 * npos} steps); the paper does not say which it "
                       "means", _SCREEN, _XFORM, _alpha_mean("50-200")),
           deviations_ko=(_BUDGET_KO, _FIG7_KO, f"길이 L은 패턴과 go 기호 사이의 지연이다 "
                          f"(시퀀스는 L + {2 * npos} 스텝). 논문은 어느 쪽인지 말하지 않는다",
                          _SCREEN_KO, _XFORM_KO, _alpha_mean_ko("50–200")),
           criteria=(_solves(f"pascanu2013/memorization-{tag}-sgd-cr",
                             f"noiseless memorization ({bits}) at each length 50, 100, 150 and 200",
                             f"잡음 없는 기억({bits_ko}, 길이 50·100·150·200 각각)", 20),))
      for task, tag, bits, bits_ko, npos in (("mem5", "5bit", "a 5-bit pattern", "5비트 패턴", 5),
                                             ("mem", "23bit", "a 23-bit pattern", "23비트 패턴", 10))),
)}

__all__ = ["GRIDS"]
