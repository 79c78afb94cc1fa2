"""Speed of the pascanu2013 implementation (CPU), measured within one run.

Usage::

    python benchmarks/bench_pascanu2013.py [--out reports/bench_pascanu2013.json] [--quick]

Three ratios, each the median of interleaved repeats after a warm-up
(``time.perf_counter``, fixed ``torch.set_num_threads``):

1. one MSGD-C update (forward, backward, norm clipping that rescales, SGD step) of ``PascanuRNN``
   against ``torch.nn.RNN`` + ``nn.Linear`` of the same size (n=50, B=20, tanh,
   last-step softmax cross-entropy), T in {50, 200}. Target: <= 1.1x.
2. one MSGD-CR update (with the regulariser Omega) against one MSGD-C update of ours.
   Target: <= 1.3x.
3. the vectorised Omega + its W_rec gradient (autograd of ``omega``, and the closed form
   ``omega_and_grad``) against a naive version with one autograd call per time step.
   Target: speed-up >= 10x.

It prints one line per ratio and writes a JSON report (atomically). It always exits 0:
a missed target is reported, not raised.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

# Runnable from a checkout without installing the package: put the repository root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from notes_code.pascanu2013.clipping import clip_grad_norm_
from notes_code.pascanu2013.regularized_training import backward_with_omega, loss_and_grads
from notes_code.pascanu2013.regularizer import omega, omega_and_grad
from notes_code.pascanu2013.rnn import PascanuRNN

N_HIDDEN, BATCH, N_IN, N_OUT = 50, 20, 6, 4
# CLIP sits below every gradient norm of these updates (about 0.3-0.6), so each timed MSGD-C /
# MSGD-CR update really rescales its gradient; the reports record the fraction that did.
LR, CLIP, ALPHA = 0.01, 0.1, 2.0
THREADS = 1
USAGE = "usage: bench_pascanu2013.py [--out PATH] [--quick]"


def _interleaved_medians(fns: list[Callable[[], object]], repeats: int,
                         warmup: int) -> list[float]:
    """Median wall time of each function, alternating them to share any drift."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def _data(T: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    symbols = torch.randint(0, N_IN, (T, BATCH), generator=g)
    u = F.one_hot(symbols, N_IN).float()  # (T, B, n_in)
    target = torch.randint(0, N_OUT, (BATCH,), generator=g)
    return u, target


def bench_update_vs_torch(T: int, repeats: int, warmup: int) -> dict[str, float]:
    """MSGD-C update of PascanuRNN vs torch.nn.RNN + Linear."""
    g = torch.Generator().manual_seed(0)
    u, target = _data(T, g)
    ours = PascanuRNN.basic_tanh_init(N_IN, N_HIDDEN, N_OUT, generator=1)
    opt_ours = torch.optim.SGD(ours.parameters(), lr=LR)
    rnn = torch.nn.RNN(N_IN, N_HIDDEN, nonlinearity="tanh")
    head = torch.nn.Linear(N_HIDDEN, N_OUT)
    ref_params = [*rnn.parameters(), *head.parameters()]
    opt_ref = torch.optim.SGD(ref_params, lr=LR)

    norms: dict[str, list[torch.Tensor]] = {"ours": [], "torch": []}

    def step_ours() -> None:
        opt_ours.zero_grad()
        out = ours(u)
        ours.loss(out.y, target).backward()
        norms["ours"].append(clip_grad_norm_(ours.parameters(), CLIP))
        opt_ours.step()

    def step_ref() -> None:
        opt_ref.zero_grad()
        hs, _ = rnn(u)
        F.cross_entropy(head(hs[-1]), target).backward()
        norms["torch"].append(torch.nn.utils.clip_grad_norm_(ref_params, CLIP))
        opt_ref.step()

    t_ours, t_ref = _interleaved_medians([step_ours, step_ref], repeats, warmup)
    return {"ours_s": t_ours, "torch_s": t_ref, "ratio": t_ours / t_ref,
            "ours_clipped_fraction": _clipped_fraction(norms["ours"]),
            "torch_clipped_fraction": _clipped_fraction(norms["torch"])}


def _clipped_fraction(norms: list[torch.Tensor]) -> float:
    """Share of the timed updates whose pre-clipping norm reached CLIP (Algorithm 1 rescaled)."""
    return sum(float(n) >= CLIP for n in norms) / max(len(norms), 1)


def bench_cr_vs_c(T: int, repeats: int, warmup: int) -> dict[str, float]:
    """MSGD-CR update vs MSGD-C update, both ours."""
    g = torch.Generator().manual_seed(0)
    u, target = _data(T, g)
    model = PascanuRNN.basic_tanh_init(N_IN, N_HIDDEN, N_OUT, generator=1)
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    norms: dict[str, list[torch.Tensor]] = {"c": [], "cr": []}

    def step_c() -> None:
        opt.zero_grad()
        out = model(u)
        model.loss(out.y, target).backward()
        norms["c"].append(clip_grad_norm_(model.parameters(), CLIP))
        opt.step()

    def step_cr() -> None:
        opt.zero_grad()
        backward_with_omega(model, u, target, ALPHA)
        norms["cr"].append(clip_grad_norm_(model.parameters(), CLIP))
        opt.step()

    t_c, t_cr = _interleaved_medians([step_c, step_cr], repeats, warmup)
    return {"msgd_c_s": t_c, "msgd_cr_s": t_cr, "ratio": t_cr / t_c,
            "msgd_c_clipped_fraction": _clipped_fraction(norms["c"]),
            "msgd_cr_clipped_fraction": _clipped_fraction(norms["cr"])}


def naive_omega_and_grad(W_rec: torch.Tensor, x: torch.Tensor, delta: torch.Tensor,
                         activation: str = "tanh",
                         bound: float = 1e-20) -> tuple[torch.Tensor, torch.Tensor]:
    """Omega (code's mean reduction, squared) with one autograd call per step k."""
    sigma = torch.tanh if activation == "tanh" else torch.sigmoid
    W = W_rec.detach().requires_grad_(True)
    x_prev = torch.cat([torch.zeros_like(x[:1]), x[:-1]]).detach()
    total = torch.zeros((), dtype=x.dtype)
    count = torch.zeros((), dtype=x.dtype)
    for k in range(x.shape[0]):
        xk = x_prev[k].clone().requires_grad_(True)
        x_next = sigma(xk) @ W.t()  # the W_in u + b part does not depend on x_k
        (back,) = torch.autograd.grad(x_next, xk, grad_outputs=delta[k], create_graph=True)
        den = delta[k].square().sum(-1)
        mask = den >= bound
        ratio = back.square().sum(-1) / torch.where(mask, den, torch.ones_like(den))
        total = total + torch.where(mask, (ratio - 1) ** 2, torch.zeros_like(ratio)).sum()
        count = count + mask.sum()
    om = total / count.clamp_min(1)
    (grad,) = torch.autograd.grad(om, W)
    return om.detach(), grad


def vectorised_omega_and_grad(W_rec: torch.Tensor, x: torch.Tensor,
                              delta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Omega and its eq. (10) gradient from the package (one matmul, one autograd call)."""
    W = W_rec.detach().requires_grad_(True)
    om = omega(W, x, delta, "tanh")
    (grad,) = torch.autograd.grad(om, W)
    return om.detach(), grad


def bench_omega(T: int, repeats: int, warmup: int) -> dict[str, float]:
    """Vectorised vs naive Omega (+ W_rec gradient)."""
    g = torch.Generator().manual_seed(0)
    u, target = _data(T, g)
    model = PascanuRNN.basic_tanh_init(N_IN, N_HIDDEN, N_OUT, generator=1)
    step = loss_and_grads(model, u, target, 0.0)
    with torch.no_grad():
        x = model(u).x
    delta, W = step.delta, model.W_rec.detach()
    om_v, g_v = vectorised_omega_and_grad(W, x, delta)
    om_n, g_n = naive_omega_and_grad(W, x, delta)
    torch.testing.assert_close(om_v, om_n, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(g_v, g_n, rtol=1e-3, atol=1e-6)
    om_c, g_c = omega_and_grad(W, x, delta, "tanh")
    torch.testing.assert_close(om_c, om_n, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(g_c, g_n, rtol=1e-3, atol=1e-6)
    t_v, t_c, t_n = _interleaved_medians([lambda: vectorised_omega_and_grad(W, x, delta),
                                          lambda: omega_and_grad(W, x, delta, "tanh"),
                                          lambda: naive_omega_and_grad(W, x, delta)],
                                         repeats, warmup)
    return {"vectorised_s": t_v, "closed_form_s": t_c, "naive_s": t_n, "speedup": t_n / t_v,
            "closed_form_speedup": t_n / t_c}


def _parse(argv: list[str]) -> tuple[Path, bool]:
    out = Path(__file__).resolve().parents[1] / "reports" / "bench_pascanu2013.json"
    quick = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--quick":
            quick = True
        elif arg == "--out" and i + 1 < len(argv):
            out = Path(argv[i + 1])
            i += 1
        elif arg.startswith("--out="):
            out = Path(arg.split("=", 1)[1])
        else:
            raise SystemExit(f"{USAGE}\nunknown argument: {arg}")
        i += 1
    return out, quick


def _write_json_atomic(path: Path, payload: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write the JSON report."""
    if argv is None:
        argv = sys.argv[1:]
    if "-h" in argv or "--help" in argv:
        print(USAGE)
        return 0
    out, quick = _parse(argv)
    torch.set_num_threads(THREADS)
    repeats, warmup = (7, 2) if quick else (41, 5)
    results: list[dict[str, object]] = []

    def record(name: str, measured: float, target: float, higher_is_better: bool,
               details: dict[str, float]) -> None:
        ok = measured >= target if higher_is_better else measured <= target
        results.append({"name": name, "measured": measured, "target": target,
                        "target_kind": ">=" if higher_is_better else "<=",
                        "pass": ok, "details": details})
        sign = ">=" if higher_is_better else "<="
        print(f"{name:<34} {measured:8.3f}x   target {sign} {target:<5} "
              f"{'PASS' if ok else 'MISS'}", flush=True)

    for T in (50, 200):
        d = bench_update_vs_torch(T, repeats, warmup)
        record(f"msgd_c_vs_torch_rnn_T{T}", d["ratio"], 1.1, False, d)
    for T in (50, 200):
        d = bench_cr_vs_c(T, repeats, warmup)
        record(f"msgd_cr_vs_msgd_c_T{T}", d["ratio"], 1.3, False, d)
    d = bench_omega(200, max(3, repeats // 4), 1)
    record("omega_vectorised_speedup_T200", d["speedup"], 10.0, True, d)
    record("omega_closed_form_speedup_T200", d["closed_form_speedup"], 10.0, True, d)

    payload = {
        "benchmark": "pascanu2013",
        "quick": quick,
        "config": {"n_hidden": N_HIDDEN, "batch": BATCH, "n_in": N_IN, "n_out": N_OUT, "clip": CLIP,
                   "repeats": repeats, "warmup": warmup, "device": "cpu"},
        "results": results,
        "ratios": {r["name"]: r["measured"] for r in results},
        "targets": {r["name"]: r["target"] for r in results},
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "timestamp": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    _write_json_atomic(out, payload)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
