r"""# The Table 1 grids on the Bach chorales and the criteria registered with them

The settings are the ones the paper gives for polyphonic music, where known (§4.2; the
hyper-parameters are in its appendix, which we read only through a secondary source [S1]), and
the deviations say where we differ. The criteria were written **before** the grid was run, and
they are part of its hash (`Table1Grid.config_hash`): changing one changes the grid's identity.
"""

from __future__ import annotations

from .polyphonic import PolyConfig
from .table1 import NLLCriterion, Table1Grid

_SIZE = ("100 sigmoid units instead of the appendix's 300 and 30 epochs per run: what fits 2 shared CPU "
         "cores (a 300-unit epoch costs about 3x a 100-unit one; measured before the grid was started)")
_SIZE_KO = ("은닉 sigmoid 100개(부록은 300개), 실행당 30 에폭: 공유된 CPU 2코어에 들어가는 크기다 "
            "(300개짜리 에폭은 100개짜리의 약 3배; 격자를 시작하기 전에 쟀다)")
_S1 = ("Sigmoid units, initial learning rate 1.0 halved when the epoch cost rises, threshold 8 and "
       "alpha_t = 1/(2t) are the arXiv appendix's settings for Piano-midi.de and Nottingham as a secondary "
       "source quotes them [S1]; not verified against the appendix")
_S1_KO = ("sigmoid 은닉 단위, 초기 학습률 1.0(에폭 비용이 오르면 절반), threshold 8, α_t = 1/(2t)는 "
          "arXiv 부록의 Piano-midi.de·Nottingham 설정을 2차 자료 [S1]가 옮긴 것이다. 부록과 대조하지 못했다")
_DATA = ("data: the Bach chorales of music21's corpus (four-voice files, quarter-note piano roll, split by "
         "BWV number), not Piano-midi.de, Nottingham or MuseData; not the JSB Chorales files or split either")
_DATA_KO = ("데이터: music21 코퍼스의 Bach 코랄(네 성부 파일, 4분음표 피아노 롤, BWV 번호로 나눔)이다. "
            "Piano-midi.de, Nottingham, MuseData가 아니며 JSB Chorales의 파일·분할과도 다르다")
_BUDGET = ("the final model after the last epoch is measured (no early stopping); the paper does not say "
           "how long it trained or which model it reported")
_BUDGET_KO = ("마지막 에폭 뒤의 모델을 잰다(조기 종료 없음). "
              "논문은 학습 길이와 보고한 모델을 말하지 않는다")
_BATCH = ("minibatches of 10 chorales, weights N(0, 0.1^2), biases 0, x_0 = 0 (so h_0 = sigma(0) = 1/2): "
          "not stated in the paper for the music tasks")
_BATCH_KO = ("미니배치는 코랄 10개, 가중치 N(0, 0.1²), 편향 0, x_0 = 0(그래서 h_0 = σ(0) = 1/2): 논문이 음악 "
             "실험에 대해 밝히지 않은 것들이다")
_OMEGA = ("Omega in the paper's x-form (eq. 9-10), the released code's mean over valid (step, sequence) "
          "pairs, on W_rec only, added before clipping")
_OMEGA_KO = ("Ω는 논문의 x 형태(식 9–10), 공개 코드처럼 유효한 (스텝, 시퀀스) 쌍의 평균, "
             "W_rec에만, clipping 전에 더한다")
_CRITERIA = (
    NLLCriterion("pascanu2013/table1-bach-clipping-improves", "lower-nll",
                 "§4.2, Table 1: clipping 'solves an optimization issue and does not act as a regularizer': "
                 "on the chorales MSGD+C has a lower NLL than MSGD on the training and on the test set "
                 "(two-sided paired t test over seeds, p < 0.05 on each)",
                 "(4.2절, Table 1) clipping은 \"최적화 문제를 풀 뿐 regularizer로 작용하지 "
                 "않는다\": 코랄에서 MSGD+C의 NLL이 학습 집합과 시험 집합 **모두에서** MSGD보다 "
                 "낮다 (시드 대응 양측 t 검정, 각각 p < 0.05).",
                 "MSGD+C", "MSGD", ("train", "test")),
    NLLCriterion("pascanu2013/table1-bach-omega-helps", "lower-nll",
                 "§4.2, Table 1: with a 1/t schedule the regularizer helps: MSGD+CR has a lower test NLL "
                 "than MSGD+C (two-sided paired t test over seeds, p < 0.05)",
                 "(4.2절, Table 1) 1/t로 줄어드는 가중치의 Ω가 돕는다: MSGD+CR의 시험 NLL이 MSGD+C보다 "
                 "낮다 (시드 대응 양측 t 검정, p < 0.05).",
                 "MSGD+CR", "MSGD+C", ("test",)),
)
GRIDS: dict[str, Table1Grid] = {g.name: g for g in (
    Table1Grid("table1-bach", "Table 1's three methods on the Bach chorales of music21: 100 sigmoid units, "
               "the appendix's other music settings, 30 epochs, 5 seeds (2 CPU processes, 1 thread each).",
               PolyConfig(n_hidden=100, std=0.1, lr=1.0, clip=8.0, alpha0=0.5, epochs=30, batch_size=10),
               seeds=(0, 1, 2, 3, 4),
               deviations=(_DATA, _SIZE, _S1, _BUDGET, _BATCH, _OMEGA),
               deviations_ko=(_DATA_KO, _SIZE_KO, _S1_KO, _BUDGET_KO, _BATCH_KO, _OMEGA_KO),
               criteria=_CRITERIA),
)}


__all__ = ["GRIDS"]
