"""Tests for notes_code.common.fused: the fused Triton update against the batched trainer.

Without a GPU the kernel runs in Triton's interpreter (TRITON_INTERPRET=1, set by the module when
no CUDA device is visible); on the GPU machine the same tests run the compiled kernel on CUDA.
The reference is `batched.train_step` (itself tested against autograd and single runs).
"""

from __future__ import annotations

import dataclasses
import math
import os

import pytest
import torch

if not torch.cuda.is_available():  # before triton's first import: run kernels in its interpreter
    os.environ.setdefault("TRITON_INTERPRET", "1")
try:  # absent or broken (ImportError): skip with the reason
    import triton  # noqa: F401
except ImportError as exc:
    pytest.skip(f"Triton cannot be imported ({exc}); install the optional extra 'triton' to test "
                "the fused kernel", allow_module_level=True)

from notes_code.common import (
    batched,  # noqa: E402
    fused,  # noqa: E402
)
from notes_code.common.tasks import make_batch  # noqa: E402
from notes_code.common.train import TrainConfig, generator, make_model  # noqa: E402

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
if DEVICE.type == "cpu" and not fused.INTERPRETED:
    pytest.skip("no GPU, and triton was imported before TRITON_INTERPRET=1 could be set",
                allow_module_level=True)
BASE = TrainConfig(n_hidden=8, min_length=10, max_length=10, lr=0.1, dtype="float32")
GRID = [dataclasses.replace(BASE, init=i, method=m, seed=s)
        for s, (i, m) in enumerate((i, m) for i in ("sigmoid", "basic_tanh", "smart_tanh")
                                   for m in ("MSGD", "MSGD-C", "MSGD-CR"))]
TOL = {"float32": {"rtol": 2e-5, "atol": 2e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}


def _setup(cfgs: list[TrainConfig], T: int = 10, B: int = 4) -> tuple[dict, dict, torch.Tensor, torch.Tensor]:
    dtype = getattr(torch, cfgs[0].dtype)
    models = [make_model(c) for c in cfgs]
    P = {n: torch.stack([getattr(m, n).detach().clone() for m in models]).to(DEVICE) for n in batched.NAMES}
    bs = [make_batch(cfgs[0].task, B, T, generator(k, "fused-test"), dtype) for k in range(len(cfgs))]
    U = torch.stack([b.u for b in bs], 1).to(DEVICE)
    Y = torch.stack([b.target for b in bs]).to(DEVICE)
    return P, batched.coefficients(cfgs, DEVICE, dtype), U, Y


def _compare(cfgs: list[TrainConfig], alive: torch.Tensor | None = None, T: int = 10,
             B: int = 4) -> tuple[dict, dict, dict, dict, dict]:
    """One update by both trainers from the same state; assert they agree to the dtype's tolerance."""
    P, co, U, Y = _setup(cfgs, T, B)
    alive = torch.ones(len(cfgs), dtype=torch.bool, device=DEVICE) if alive is None else alive.to(DEVICE)
    P0 = {k: v.clone() for k, v in P.items()}
    Pr, Pf = {k: v.clone() for k, v in P.items()}, {k: v.clone() for k, v in P.items()}
    ref = batched.train_step(Pr, co, U, Y, alive)
    out = fused.train_step(Pf, co, U, Y, alive)
    tol = TOL[cfgs[0].dtype]
    for key in ("fell_back", "ok", "clipped"):
        if key in ref:  # `clipped` is returned by the batched trainer from the clipping fix on
            assert torch.equal(out[key], ref[key]), key
    fin = torch.isfinite(ref["loss"])
    for key in ("loss", "omega", "norm"):
        torch.testing.assert_close(out[key][fin], ref[key][fin].to(out[key].dtype), **tol)
    for name in batched.NAMES:
        torch.testing.assert_close(Pf[name], Pr[name], **tol)
    return P0, Pf, out, ref, co


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_step_matches_batched(dtype: str) -> None:
    """Fused update (eqs. 2-5 forward/BPTT, eq. 10 Omega and its W_rec gradient, Algorithm 1):
    for 3 inits (sigmoid and tanh) x MSGD / MSGD-C / MSGD-CR (§4.1.1, Fig. 7), one update
    equals the batched trainer's loss, Omega, norm, flags and new weights to float32 (1e-10 in
    float64) tolerance, and it moved every run."""
    cfgs = [dataclasses.replace(c, dtype=dtype) for c in GRID]
    P0, Pf, out, _, _ = _compare(cfgs)
    assert bool(out["ok"].all())
    assert all(bool((Pf[n] != P0[n]).flatten(1).any(1).all()) for n in ("W_rec", "W_in", "W_out"))


def test_hidden_50_padded() -> None:
    """Padding: the paper's n = 50 hidden units (padded to 64 in the kernel), batch 20 (padded
    to 32), both activations and MSGD-CR (Fig. 7 protocol) match the batched trainer."""
    cfgs = [dataclasses.replace(BASE, n_hidden=50, init=i, method=m, seed=s, lr=0.01)
            for s, (i, m) in enumerate((("sigmoid", "MSGD-CR"), ("smart_tanh", "MSGD-C")))]
    _compare(cfgs, B=20)


def test_clipping_rescales_to_threshold() -> None:
    """Algorithm 1 (§3.2): with a threshold below the norm, MSGD-C's step has length lr * threshold
    exactly (the kernel rescales by threshold / norm); MSGD's step has length lr * norm."""
    cfgs = [dataclasses.replace(BASE, method="MSGD-C", clip=0.05, seed=1),
            dataclasses.replace(BASE, method="MSGD", seed=1)]
    P0, Pf, out, _, co = _compare(cfgs)
    step = torch.sqrt(sum((Pf[n] - P0[n]).double().flatten(1).square().sum(1) for n in batched.NAMES))
    assert float(out["norm"][0]) > 0.05
    assert float(step[0]) == pytest.approx(0.1 * 0.05, rel=1e-4)
    assert float(step[1]) == pytest.approx(0.1 * float(out["norm"][1]), rel=1e-4)
    assert bool(out["clipped"][0]) and not bool(out["clipped"][1])


def test_fallback_step() -> None:
    """Released code's fallback (§3.2 footnote; norm above fallback_threshold): W_rec moves by
    -lr * 0.02 W_rec and nothing else moves, as in the batched trainer."""
    cfgs = [dataclasses.replace(BASE, method="MSGD-C", fallback_threshold=1e-6, seed=2),
            dataclasses.replace(BASE, method="MSGD-CR", seed=2)]
    P0, Pf, out, _, _ = _compare(cfgs)
    assert out["fell_back"].tolist() == [True, False]
    torch.testing.assert_close(Pf["W_rec"][0], P0["W_rec"][0] - 0.1 * (0.02 * P0["W_rec"][0]))
    for name in ("W_in", "b", "W_out", "b_out"):
        assert torch.equal(Pf[name][0], P0[name][0])


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_diverged_and_dead_runs_unchanged() -> None:
    """Divergence (Fig. 7's 'diverged'): an MSGD step that would write Inf/NaN is not applied
    (ok = False), and a run that is not alive is not updated; the others are."""
    cfgs = [dataclasses.replace(BASE, method="MSGD", lr=math.inf, seed=3),
            dataclasses.replace(BASE, method="MSGD-C", seed=4),
            dataclasses.replace(BASE, method="MSGD-CR", seed=5)]
    P0, Pf, out, _, _ = _compare(cfgs, alive=torch.tensor([True, False, True]))
    assert out["ok"].tolist() == [False, True, True]
    for name in batched.NAMES:
        assert torch.equal(Pf[name][:2], P0[name][:2])
        assert torch.isfinite(Pf[name]).all()
    assert not torch.equal(Pf["W_rec"][2], P0["W_rec"][2])


def test_bad_input_is_rejected() -> None:
    """Bad input: mismatched shapes or dtypes raise ValueError before any weight is written."""
    P, co, U, Y = _setup(GRID[:2])
    P0 = {k: v.clone() for k, v in P.items()}
    alive = torch.ones(2, dtype=torch.bool, device=DEVICE)
    with pytest.raises(ValueError, match="float32 or float64"):
        fused.train_step(P, co, U.double(), Y, alive)
    with pytest.raises(ValueError, match="Y must be"):
        fused.train_step(P, co, U, Y[:, :2], alive)
    for name in batched.NAMES:
        assert torch.equal(P[name], P0[name])


MIX_BASE = TrainConfig(n_hidden=8, min_length=10, max_length=12, lr=0.1, max_updates=12, eval_every=4,
                       eval_size=200, screen_size=50, eval_chunk=100, dtype="float64", length_seed=7,
                       success_error=0.77)
MIX = [
    dataclasses.replace(MIX_BASE, init="sigmoid", method="MSGD", seed=1),
    dataclasses.replace(MIX_BASE, init="basic_tanh", method="MSGD-CR", seed=2, max_updates=10),
    dataclasses.replace(MIX_BASE, init="smart_tanh", method="MSGD-C", seed=3, lr=0.3),
    dataclasses.replace(MIX_BASE, init="basic_tanh", method="MSGD-C", seed=4, clip=0.1,
                        fallback_threshold=0.3),
    dataclasses.replace(MIX_BASE, init="smart_tanh", method="MSGD", seed=5, lr=math.inf),
]


@pytest.mark.slow
def test_run_fused_equals_run_batched() -> None:
    """Whole runs (Fig. 7 protocol, float64): the fused trainer ends 5 mixed runs (3 inits, 3
    methods, a fallback, a diverging MSGD run, an early success, unequal budgets and lengths)
    exactly as batched.run_batched: same outcomes, update counts, errors, fallbacks; weights to 1e-9."""
    ref = batched.run_batched(MIX, DEVICE)
    out = fused.run_fused(MIX, DEVICE)
    assert {r.outcome for r in ref} == {"success", "fail", "diverged"}
    assert any(r.outcome == "success" and r.updates < r.config.max_updates for r in ref)
    assert ref[3].n_fallback > 0
    for r, f in zip(ref, out, strict=True):
        assert (f.outcome, f.updates, f.final_error, f.n_fallback) == (
            r.outcome, r.updates, r.final_error, r.n_fallback)
        assert f.max_grad_norm == pytest.approx(r.max_grad_norm, rel=1e-9)
        for name in batched.NAMES:
            torch.testing.assert_close(f.params[name], r.params[name], rtol=1e-9, atol=1e-9)
    assert batched.train_step.__module__ == batched.__name__  # the step swap was undone


@pytest.mark.slow
def test_gpu_run_toy(tmp_path, monkeypatch) -> None:
    """`make gpu-run` at toy size on the CPU (interpreter): the benchmark runs, the Fig. 7 grid
    (2 lengths x 3 methods, one process per length) trains with the fused trainer, the merged
    results file validates with provenance, and a rerun resumes without training again."""
    import importlib
    import json
    from pathlib import Path

    if DEVICE.type != "cpu":
        pytest.skip("the toy run is the CPU test of the GPU script")
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "scripts"))
    gpu_run = importlib.import_module("gpu_run")  # importable: the worker processes unpickle from it
    from notes_code.common import results

    argv = ["--toy", "--out", str(tmp_path), "--budget", "2", "--workers", "2", "--minutes", "5"]
    assert gpu_run.main(argv) == 0
    data = results.load_results(tmp_path / "fig7.json")
    assert len(data["cells"]) == 6
    assert data["provenance"]["trainer"].startswith("notes_code.common.fused")
    assert {c["updates"] for c in data["cells"].values()} <= {0, 2}
    man = json.loads((tmp_path / "gpu_run.json").read_text())
    assert man["budget"] == 2 and man["fig7"]["status"] == {"10": "done", "12": "done"}
    assert "fused_vs_bmm" in man["bench"]["lengths"]["10"]
    before = (tmp_path / "fig7-L10.json").read_text()
    assert gpu_run.main(argv) == 0  # resume: everything is recorded, nothing retrains
    assert (tmp_path / "fig7-L10.json").read_text() == before
    assert len(json.loads((tmp_path / "gpu_run.json").read_text())["sessions"]) == 2


def test_other_heads_are_refused_before_anything_runs() -> None:
    """The kernel implements the last-step softmax head only: a grid of addition or memorization
    runs is refused up front with a clear error (the batched and CPU engines train those)."""
    cfgs = [dataclasses.replace(c, task=task) for c, task in zip(GRID[:2], ("add", "mem"), strict=True)]
    with pytest.raises(ValueError, match="last-step softmax tasks only"):
        fused.run_fused(cfgs, DEVICE)
