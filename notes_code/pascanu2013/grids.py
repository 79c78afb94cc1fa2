r"""# The grids of Pascanu et al. (2013, §4.1) and the criteria registered with them

Each grid (`notes_code.common.grid.Grid`) is one experiment of the paper at stated settings:
the CI tier (short sequences, a few minutes on 2 CPU cores), Fig. 7 at the paper's protocol
with a stated budget, and the other tasks. Its deviations from the paper and the criteria
that decide its claims are part of its definition and hash. Running and recording grids is
`notes_code.common.runner`.
"""

from __future__ import annotations

from notes_code.common.criteria import TANH, Cells, Criterion
from notes_code.common.grid import Grid
from notes_code.common.train import TrainConfig

_EVAL = {"eval_size": 10_000, "screen_size": 1_000, "eval_chunk": 1_000, "success_error": 0.01}
_SCREEN = ("the 10,000-sequence success test runs only when a 1,000-sequence pre-test (every "
           "eval_every updates) has under 1% errors; the paper does not say how often it tested")
_XFORM = ("Omega in the paper's x-form (eq. 9: the ratio ||delta_{k+1} dx_{k+1}/dx_k|| / ||delta_{k+1}||, "
          "delta = dE/dx); the released code takes the ratio for the post-activation states h_k, which "
          "puts sigma' on the other side of the ratio")


_SCREEN_KO = ("10,000개 시퀀스 성공 시험은 1,000개 사전 시험(eval_every 갱신마다)의 오류가 1% 미만일 때만 "
              "한다. 논문은 얼마나 자주 시험했는지 말하지 않는다")
_XFORM_KO = ("Ω는 논문의 x 형태(식 9: ‖δ_{k+1} ∂x_{k+1}/∂x_k‖ / ‖δ_{k+1}‖, δ = ∂E/∂x)다. 공개 코드는 "
             "활성화 뒤 상태 h_k에 대해 비율을 재므로 σ'가 비율의 반대쪽에 놓인다")


def _alpha_mean_ko(lengths: str) -> str:
    return (f"α = 4는 공개 코드처럼 유효한 (스텝, 시퀀스) 쌍에 대한 Ω의 **평균**에 곱한다. 논문의 k에 대한 "
            f"합(식 9)이라면 같은 α가 T배 강하다 (여기서는 {lengths}배)")


def _alpha_mean(lengths: str) -> str:
    return (f"alpha = 4 multiplies the released code's mean of Omega over the valid (step, sequence) "
            f"pairs; under the paper's sum over k (eq. 9) the same alpha would be T times stronger "
            f"({lengths} times here)")


_C, _M, _CR = ("MSGD-C",), ("MSGD",), ("MSGD-CR",)
_CI_CRITERIA = (
    Criterion("pascanu2013/clipping-rescues-exploding-runs", "more-successes",
              "§3.2, §4.1.1: clipping deals with exploding gradients, so with the tanh inits MSGD-C "
              "solves more runs than MSGD at the longer lengths 20 and 30 (two-sided Fisher p < 0.05)",
              "(3.2절, 4.1.1절) clipping이 기울기 폭발을 다루므로, tanh 초기화의 길이 20과 30에서 MSGD-C가 "
              "MSGD보다 많은 실행을 푼다 (양측 Fisher p < 0.05).",
              Cells(_C, TANH, (20, 30)), Cells(_M, TANH, (20, 30))),
    Criterion("pascanu2013/clipping-rescues-exploding-runs", "failures-exploded",
              "§3.1-§3.2 (eq. 7: explosion needs lambda_1 > 1/gamma = 1 for tanh): every failed tanh "
              "MSGD run at lengths 20 and 30 met a gradient norm of at least 10x the clipping threshold, "
              "ends with rho(W_rec) > 1 and an error of at least 0.5 (stuck near chance, not diverged)",
              "(3.1–3.2절, 식 7: tanh에서 폭발하려면 λ₁ > 1/γ = 1) 길이 20과 30에서 실패한 tanh MSGD 실행은 "
              "모두 clipping threshold의 10배 이상인 기울기 노름을 만났고, 마지막 ρ(W_rec) > 1, 마지막 오류 "
              "≥ 0.5다 (발산이 아니라 우연 수준 근처에 갇힘).",
              Cells(_M, TANH, (20, 30))),
    Criterion("pascanu2013/clipping-matters-more-with-length", "gap-grows",
              "§4.1.1: 'As the length of the sequence increases, using clipping becomes more important "
              "to achieve a better success rate': with the tanh inits the gap success(MSGD-C) - "
              "success(MSGD) is larger at length 30 than at length 10",
              "(4.1.1절 \"시퀀스가 길어질수록 clipping이 성공률에 더 중요해진다\") tanh 초기화에서 "
              "성공률 차이 MSGD-C − MSGD가 길이 10보다 길이 30에서 크다.",
              Cells(_C), Cells(_M), at=(10, 30)),
    Criterion("pascanu2013/clipping-matters-more-with-length", "more-successes",
              "§4.1.1: without clipping, longer sequences fail more: tanh MSGD solves more runs at "
              "length 10 than at length 30 (two-sided Fisher p < 0.05)",
              "(4.1.1절) clipping이 없으면 길수록 더 실패한다: tanh MSGD가 길이 30보다 길이 10에서 많은 "
              "실행을 푼다 (양측 Fisher p < 0.05).",
              Cells(_M, TANH, (10,)), Cells(_M, TANH, (30,))),
)
_FIG7_CPU_CRITERIA = (
    Criterion("pascanu2013/fig7-cpu-clipping-effect", "more-successes",
              "Fig. 7, §4.1.1: at the paper's settings clipping raises the success rate: with the tanh "
              "inits (pooled, lengths 50 and 100) MSGD-C solves more runs than MSGD (two-sided Fisher "
              "p < 0.05)",
              "(Fig. 7, 4.1.1절) 논문 설정에서 clipping이 성공률을 높인다: 두 tanh 초기화와 길이 50·100을 "
              "합쳐 MSGD-C가 MSGD보다 많은 실행을 푼다 (양측 Fisher p < 0.05).",
              Cells(_C), Cells(_M)),
    Criterion("pascanu2013/fig7-cpu-omega-effect", "more-successes",
              "Fig. 7, §3.3: Omega counters vanishing gradients: with basic tanh (the init of the "
              "paper's variable-length run) MSGD-CR solves more runs than MSGD-C, lengths 50 and 100 "
              "pooled (two-sided Fisher p < 0.05). Stated after the grid was recorded",
              "(Fig. 7, 3.3절) Ω가 기울기 소실을 막는다: basic tanh(논문의 가변 길이 실험의 초기화)에서 길이 "
              "50·100을 합쳐 MSGD-CR이 MSGD-C보다 많은 실행을 푼다 (양측 Fisher p < 0.05). "
              "이 기준은 격자를 기록한 **뒤에** 정했다.",
              Cells(_CR, ("basic_tanh",)), Cells(_C, ("basic_tanh",))),
)
# Registered on 2026-12-02 before any fig7-2h cell was trained (the grid had no results file).
_FIG7_2H_CRITERIA = (
    Criterion("pascanu2013/fig7-clipping-matters-more-with-length", "gap-grows",
              "Fig. 7, §4.1.1: 'As the length of the sequence increases, using clipping becomes more "
              "important to achieve a better success rate': with the tanh inits the gap "
              "success(MSGD-C) - success(MSGD) is larger at length 200 than at length 50",
              "(Fig. 7, 4.1.1절 \"시퀀스가 길어질수록 clipping이 성공률에 더 중요해진다\") tanh 초기화에서 "
              "성공률 차이 MSGD-C − MSGD가 길이 50보다 길이 200에서 크다.",
              Cells(_C), Cells(_M), at=(50, 200)),
    Criterion("pascanu2013/fig7-clipping-matters-more-with-length", "more-successes",
              "Fig. 7, §4.1.1: at the long lengths clipping raises the success rate: with the tanh inits "
              "at lengths 150 and 200 pooled MSGD-C solves more runs than MSGD (two-sided Fisher p < 0.05)",
              "(Fig. 7, 4.1.1절) 긴 길이에서 clipping이 성공률을 높인다: 두 tanh 초기화, 길이 150·200을 합쳐 "
              "MSGD-C가 MSGD보다 많은 실행을 푼다 (양측 Fisher p < 0.05).",
              Cells(_C, TANH, (150, 200)), Cells(_M, TANH, (150, 200))),
    Criterion("pascanu2013/fig7-omega-helps-long", "more-successes",
              "Fig. 7, §3.3: Omega counters vanishing gradients where they dominate: with the sigmoid and "
              "basic tanh inits at lengths 100-200 pooled MSGD-CR solves more runs than MSGD-C "
              "(two-sided Fisher p < 0.05)",
              "(Fig. 7, 3.3절) Ω는 소실이 문제인 곳에서 효과가 있다: sigmoid와 basic tanh 초기화, 길이 "
              "100–200을 합쳐 MSGD-CR이 MSGD-C보다 많은 실행을 푼다 (양측 Fisher p < 0.05).",
              Cells(_CR, ("sigmoid", "basic_tanh"), (100, 150, 200)),
              Cells(_C, ("sigmoid", "basic_tanh"), (100, 150, 200))),
)
_PERM_CRITERIA = (
    Criterion("pascanu2013/permutation-omega-helps", "more-successes",
              "§4.1.2 (random permutation needs a long memory of the first symbol, so vanishing is the "
              "obstacle): with the tanh inits at length 20 MSGD-CR solves more runs than MSGD-C "
              "(two-sided Fisher p < 0.05)",
              "(4.1.2절, random permutation은 첫 기호를 끝까지 기억해야 하므로 소실이 장애물) tanh 초기화의 "
              "길이 20에서 MSGD-CR이 MSGD-C보다 많은 실행을 푼다 (양측 Fisher p < 0.05). 새 시드를 돌리기 "
              "전에 정했다.",
              Cells(_CR, TANH, (20,)), Cells(_C, TANH, (20,))),
)
GRIDS: dict[str, Grid] = {g.name: g for g in (
    Grid("ci", "Temporal order at lengths 10-30 with a 10x learning rate: the exploding-gradient "
         "effect of Fig. 7 in a few minutes on 2 CPU cores.",
         TrainConfig(lr=0.1, max_updates=5_000, eval_every=250, **_EVAL), lengths=(10, 15, 20, 30),
         deviations=("learning rate 0.1 (paper: 0.01): at 0.01 these short sequences rarely produce "
                     "a gradient spike that derails MSGD within the budget",
                     "lengths 10, 15, 20, 30 (paper: 50-200)",
                     "budget 5,000 updates per run (paper: up to 5M)", _SCREEN, _XFORM,
                     _alpha_mean("10-30")),
         deviations_ko=("학습률 0.1 (논문: 0.01): 0.01에서는 이 짧은 시퀀스가 예산 안에 "
                        "MSGD를 무너뜨리는 기울기 급증을 거의 만들지 않는다",
                        "길이 10, 15, 20, 30 (논문: 50–200)", "실행당 예산 5,000 갱신 (논문: 최대 5M)",
                        _SCREEN_KO, _XFORM_KO, _alpha_mean_ko("10–30")),
         criteria=_CI_CRITERIA),
    Grid("fig7", "Fig. 7: 3 inits x 3 methods x lengths 50-200 x 5 seeds, paper settings (for a GPU).",
         TrainConfig(lr=0.01, max_updates=100_000, eval_every=100, **_EVAL),
         deviations=("budget 100,000 updates per run (paper: up to 5M)", _SCREEN, _XFORM,
                     _alpha_mean("50-200")),
         deviations_ko=("실행당 예산 100,000 갱신 (논문: 최대 5M)", _SCREEN_KO, _XFORM_KO,
                        _alpha_mean_ko("50–200"))),
    Grid("fig7-2h", "Fig. 7 at the paper's protocol, lengths 50-200, with the largest budget that fits "
         "in about two hours of a 2-core CPU (the fastcpu engine, --workers 2).",
         TrainConfig(lr=0.01, max_updates=30_000, eval_every=250, **_EVAL),
         deviations=("budget 30,000 updates per run, the largest that fits in about two hours of a "
                     "2-core CPU (paper: up to 5M; its sample run needed 336,000)", _SCREEN, _XFORM,
                     _alpha_mean("50-200")),
         deviations_ko=("실행당 예산 30,000 갱신: 2코어 CPU 약 두 시간에 맞는 최대 예산 (논문: 최대 5M, "
                        "논문의 예시 실행은 336,000 갱신이 필요했다)", _SCREEN_KO, _XFORM_KO,
                        _alpha_mean_ko("50–200")),
         criteria=_FIG7_2H_CRITERIA),
    Grid("fig7-cpu", "Reduced Fig. 7, paper settings at lengths 50 and 100: about 40 min on one CPU "
         "core, 25 min with --workers 2.",
         TrainConfig(lr=0.01, max_updates=20_000, eval_every=250, **_EVAL), lengths=(50, 100),
         deviations=("lengths 50 and 100 only (paper: 50-200)",
                     "budget 20,000 updates per run (paper: up to 5M)", _SCREEN, _XFORM,
                     _alpha_mean("50-100")),
         deviations_ko=("길이 50과 100만 (논문: 50–200)", "실행당 예산 20,000 갱신 (논문: 최대 5M)",
                        _SCREEN_KO, _XFORM_KO, _alpha_mean_ko("50–100")),
         criteria=_FIG7_CPU_CRITERIA),
    Grid("ci-torder3", "3-bit temporal order (8 classes) at the CI tier's settings.",
         TrainConfig(task="torder3", lr=0.1, max_updates=5_000, eval_every=250, **_EVAL),
         lengths=(10, 20), seeds=(0, 1, 2),
         deviations=("learning rate 0.1 (paper: 0.01)", "lengths 10 and 20 (paper: 50-200)",
                     "3 seeds, budget 5,000 updates per run", _SCREEN, _XFORM, _alpha_mean("10-20")),
         deviations_ko=("학습률 0.1 (논문: 0.01)", "길이 10과 20 (논문: 50–200)",
                        "시드 3개, 실행당 예산 5,000 갱신", _SCREEN_KO, _XFORM_KO, _alpha_mean_ko("10–20"))),
    Grid("ci-perm", "Random permutation (100 symbols) at the CI tier's settings.",
         TrainConfig(task="perm", lr=0.1, max_updates=5_000, eval_every=250, **_EVAL),
         lengths=(10, 20), seeds=(0, 1, 2),
         deviations=("learning rate 0.1 (paper: 0.01)", "lengths 10 and 20 (paper: 50-200)",
                     "3 seeds, budget 5,000 updates per run", _SCREEN, _XFORM, _alpha_mean("10-20")),
         deviations_ko=("학습률 0.1 (논문: 0.01)", "길이 10과 20 (논문: 50–200)",
                        "시드 3개, 실행당 예산 5,000 갱신", _SCREEN_KO, _XFORM_KO, _alpha_mean_ko("10–20"))),
    Grid("ci-perm20", "Random permutation at length 20, tanh inits, 10 seeds: the CI tier's settings "
         "with enough runs for an exact test (seeds 0-2 repeat the ci-perm cells).",
         TrainConfig(task="perm", lr=0.1, max_updates=5_000, eval_every=250, **_EVAL),
         inits=TANH, lengths=(20,), seeds=tuple(range(10)),
         deviations=("learning rate 0.1 (paper: 0.01)", "length 20 (paper: 50-200)",
                     "tanh inits only, budget 5,000 updates per run", _SCREEN, _XFORM, _alpha_mean("20")),
         deviations_ko=("학습률 0.1 (논문: 0.01)", "길이 20 (논문: 50–200)",
                        "tanh 초기화만, 실행당 예산 5,000 갱신", _SCREEN_KO, _XFORM_KO, _alpha_mean_ko("20")),
         criteria=_PERM_CRITERIA),
)}


__all__ = ["GRIDS", "Grid"]
