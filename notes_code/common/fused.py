r"""# One fused Triton kernel per update of the batched Fig. 7 trainer

`batched.train_step` launches a few kernels per time step, so on a GPU one update at
$T = 200$ costs thousands of launches. Here the whole update of run $k$ is **one Triton
program**: it loads $\mathbf W_{rec}^{(k)}$, $\mathbf W_{in}^{(k)}$, $\mathbf b^{(k)}$,
$\mathbf W_{out}^{(k)}$, $\mathbf b_{out}^{(k)}$ into registers once and runs

1. the forward pass of eq. (2) over $T$ steps,
   $\mathbf x_t = \mathbf W_{rec}\sigma(\mathbf x_{t-1}) + \mathbf W_{in}\mathbf u_t + \mathbf b$,
   storing $\mathbf h_t = \sigma(\mathbf x_t)$ in a global scratch `(K, T+1, BB, BN)`;
2. the last-step softmax head and its cross-entropy;
3. BPTT written out (eqs. 3-5),
   $\boldsymbol\delta_t = (\boldsymbol\delta_{t+1}\mathbf W_{rec})\odot\sigma'(\mathbf x_t)$,
   in the same backward loop as the closed-form $\Omega$ of eq. (10) (the trainer's reduction:
   the mean over valid (step, sequence) pairs, $\|\boldsymbol\delta_{t+1}\|^2 \ge$ `bound`) and
   its $\mathbf W_{rec}$ gradient
   $\frac{\alpha}{N}\sum_t \boldsymbol\delta_{t+1}^\top\big(c_t\,\mathbf v_t\odot\sigma'(\mathbf x_t)\big)$,
   $\mathbf v_t = \boldsymbol\delta_{t+1}\,\partial\mathbf x_{t+1}/\partial\mathbf x_t$,
   $c_t = 4(r_t - 1)/\|\boldsymbol\delta_{t+1}\|^2$, $r_t = \|\mathbf v_t\|^2/\|\boldsymbol\delta_{t+1}\|^2$;
4. the run's global gradient norm (float64), Algorithm 1 (rescale when the norm is $\ge$ the
   threshold) and the released code's fallback (norm non-finite or above `fallback_threshold`:
   $\Delta\mathbf W_{rec} = -\eta\,s\,\mathbf W_{rec}$, $s$ = `fallback_shrink`, nothing else moves);
5. the SGD step, written only if every new weight is finite (else the run diverged and keeps
   its weights) and the run is alive.

Nothing goes back to the host inside an update. Hidden sizes, batch, input and output widths
are padded to powers of two ($\ge 16$, `tl.dot`'s minimum) with masks, so $n = 50$ runs as 64.
`train_step` has the interface and semantics of `batched.train_step`; `run_fused` is
`batched.run_batched` with this step. Without CUDA the kernel runs in Triton's interpreter
(`TRITON_INTERPRET=1`, set on import when no GPU is visible), which is how CI verifies it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

_LATE = "triton" in sys.modules  # imported before us: its own kernels (tl.sum, ...) are fixed
if not torch.cuda.is_available():  # the interpreter must be chosen before kernels are decorated
    os.environ.setdefault("TRITON_INTERPRET", "1")

import triton  # noqa: E402
import triton.language as tl  # noqa: E402
from triton.runtime.interpreter import InterpretedFunction  # noqa: E402

#: whether kernels run in Triton's interpreter (on CPU tensors); needs TRITON_INTERPRET=1 set
#: before triton was first imported
INTERPRETED = isinstance(tl.sum, InterpretedFunction)

from notes_code.common.tasks import TASKS  # noqa: E402
from notes_code.common.train import TrainConfig, TrainResult  # noqa: E402

from . import batched  # noqa: E402

FELL_BACK, CLIPPED, OK = 1, 2, 4  # bits of the kernel's per-run flags


@triton.jit
def _finite(x):  # noqa: ANN001, ANN202 - a Triton helper
    return (x == x) & (tl.abs(x) < float("inf"))


@triton.jit
def _step_kernel(W_in, W_rec, b, W_out, b_out, U, Y,  # noqa: ANN001, C901, PLR0913, PLR0915
                 lr_p, clip_p, alpha_p, clipm_p, fbthr_p, shrink_p, A_p, C_p, D_p, p_p, q_p, alive_p,
                 Hs, loss_o, omega_o, norm_o, flags_o,
                 T, K, B, n, n_in, n_out, bound,
                 BB: tl.constexpr, BN: tl.constexpr, BI: tl.constexpr, BO: tl.constexpr,
                 PREC: tl.constexpr):
    k = tl.program_id(0).to(tl.int64)
    rb, rn = tl.arange(0, BB), tl.arange(0, BN)
    ri, ro = tl.arange(0, BI), tl.arange(0, BO)
    mb, mn, mi, mo = rb < B, rn < n, ri < n_in, ro < n_out
    m_nn = mn[:, None] & mn[None, :]
    m_ni = mn[:, None] & mi[None, :]
    m_on = mo[:, None] & mn[None, :]
    m_bn = mb[:, None] & mn[None, :]
    m_bi = mb[:, None] & mi[None, :]
    # parameters of run k, on chip for the whole update
    Wr = tl.load(W_rec + k * n * n + rn[:, None] * n + rn[None, :], mask=m_nn, other=0.0)  # (BN, BN)
    Wi = tl.load(W_in + k * n * n_in + rn[:, None] * n_in + ri[None, :], mask=m_ni, other=0.0)  # (BN, BI)
    bv = tl.load(b + k * n + rn, mask=mn, other=0.0)  # (BN,)
    Wo = tl.load(W_out + k * n_out * n + ro[:, None] * n + rn[None, :], mask=m_on, other=0.0)  # (BO, BN)
    bo = tl.load(b_out + k * n_out + ro, mask=mo, other=0.0)  # (BO,)
    lr, clip, alpha = tl.load(lr_p + k), tl.load(clip_p + k), tl.load(alpha_p + k)
    clipm, alive = tl.load(clipm_p + k) != 0, tl.load(alive_p + k) != 0
    fb_thr, shrink = tl.load(fbthr_p + k), tl.load(shrink_p + k)
    A, C, D = tl.load(A_p + k), tl.load(C_p + k), tl.load(D_p + k)  # sigma = A sigmoid(C x) + D
    p, q = tl.load(p_p + k), tl.load(q_p + k)  # sigma' = p + h (q - h)
    hs = Hs + k * (T + 1) * BB * BN + rb[:, None] * BN + rn[None, :]  # scratch of h_t, (BB, BN)
    u_row = rb[:, None] * n_in + ri[None, :]
    # forward: x_t = W_rec h_{t-1} + W_in u_t + b, h_t = sigma(x_t); h_0 = sigma(0)
    h = tl.where(m_bn, tl.zeros((BB, BN), dtype=Wr.dtype) + (A * 0.5 + D), 0.0)  # (BB, BN)
    tl.store(hs, h)
    for t in range(T):
        u = tl.load(U + (t * K + k) * B * n_in + u_row, mask=m_bi, other=0.0)  # (BB, BI)
        x = tl.dot(u, tl.trans(Wi), input_precision=PREC) + bv[None, :]
        x = tl.dot(h, tl.trans(Wr), acc=x, input_precision=PREC)
        h = tl.where(m_bn, A / (1.0 + tl.exp(-C * x)) + D, 0.0)  # tl.sigmoid's formula, inlined
        tl.store(hs + (t + 1) * BB * BN, h)
    tl.debug_barrier()  # the backward loop reads h_t stored by other threads of this program
    # last-step softmax head and cross-entropy
    y = tl.load(Y + k * B + rb, mask=mb, other=0)
    logits = tl.dot(h, tl.trans(Wo), input_precision=PREC) + bo[None, :]  # (BB, BO)
    logits = tl.where(mo[None, :], logits, -float("inf"))
    mx = tl.max(logits, axis=1)
    logp = logits - (mx + tl.log(tl.sum(tl.exp(logits - mx[:, None]), axis=1)))[:, None]
    hot = (ro[None, :] == y[:, None]) & mb[:, None]
    loss = -tl.sum(tl.sum(tl.where(hot, logp, 0.0), axis=1), axis=0) / B
    dZ = tl.where(mb[:, None] & mo[None, :], (tl.exp(logp) - tl.where(hot, 1.0, 0.0)) / B, 0.0)
    # BPTT fused with Omega: delta = delta_{t+1} going back from t = T - 1
    delta = tl.dot(dZ, Wo, input_precision=PREC) * (p + h * (q - h))  # (BB, BN)
    G1 = tl.zeros_like(Wr)  # sum_t delta_{t+1}^T h_t
    G2 = tl.zeros_like(Wr)  # sum_t delta_{t+1}^T (c_t v_t sigma'(x_t))
    Gi = tl.zeros_like(Wi)
    gb = tl.zeros_like(delta)  # reductions over the batch wait until after the loop
    om = tl.zeros((BB,), dtype=Wr.dtype)
    cnt = tl.zeros_like(rb)
    for i in range(T):
        t = T - 1 - i
        ht = tl.load(hs + t * BB * BN)
        st = p + ht * (q - ht)  # sigma'(x_t)
        v = tl.dot(delta, Wr, input_precision=PREC) * st  # delta_{t+1} dx_{t+1}/dx_t, = delta_t
        den = tl.sum(delta * delta, axis=1)  # (BB,)
        a = tl.sum(v * v, axis=1)
        valid = den >= bound
        den = tl.where(valid, den, 1.0)
        r = a / den
        om += tl.where(valid, (r - 1.0) * (r - 1.0), 0.0)
        cnt += valid.to(tl.int32)
        c = tl.where(valid, 4.0 * (r - 1.0) / den, 0.0)
        dT = tl.trans(delta)  # (BN, BB)
        G1 = tl.dot(dT, ht, acc=G1, input_precision=PREC)
        G2 = tl.dot(dT, c[:, None] * v * st, acc=G2, input_precision=PREC)
        u = tl.load(U + (t * K + k) * B * n_in + u_row, mask=m_bi, other=0.0)
        Gi = tl.dot(dT, u, acc=Gi, input_precision=PREC)
        gb += delta
        delta = v
    count = tl.maximum(tl.sum(cnt, axis=0), 1).to(Wr.dtype)
    omega = tl.sum(om, axis=0) / count
    # alpha = 0 (MSGD, MSGD-C): exactly no Omega term, even where it is NaN
    Gr = tl.where(m_nn, tl.where(alpha != 0, G1 + (alpha / count) * G2, G1), 0.0)
    Gi = tl.where(m_ni, Gi, 0.0)
    gb = tl.where(mn, tl.sum(gb, axis=0), 0.0)
    Go = tl.where(m_on, tl.dot(tl.trans(dZ), h, input_precision=PREC), 0.0)  # (BO, BN)
    gbo = tl.where(mo, tl.sum(dZ, axis=0), 0.0)
    sq = tl.sum(tl.sum(Gr.to(tl.float64) * Gr.to(tl.float64), axis=1), axis=0)
    sq += tl.sum(tl.sum(Gi.to(tl.float64) * Gi.to(tl.float64), axis=1), axis=0)
    sq += tl.sum(gb.to(tl.float64) * gb.to(tl.float64), axis=0)
    sq += tl.sum(tl.sum(Go.to(tl.float64) * Go.to(tl.float64), axis=1), axis=0)
    sq += tl.sum(gbo.to(tl.float64) * gbo.to(tl.float64), axis=0)
    norm = tl.sqrt(sq)
    # Algorithm 1 with the released code's fallback
    fin = _finite(norm)
    fell = clipm & (~fin | (norm > fb_thr.to(tl.float64)))
    clipped = clipm & ~fell & (norm >= clip.to(tl.float64))
    scale = tl.where(clipped, clip.to(tl.float64) / norm, 1.0).to(Wr.dtype)
    step = lr * scale
    ok = clipm | (fin & _finite(loss))
    nWr = Wr - tl.where(fell, lr * (shrink * Wr), step * Gr)
    nWi = Wi - tl.where(fell, 0.0, step * Gi)
    nb = bv - tl.where(fell, 0.0, step * gb)
    nWo = Wo - tl.where(fell, 0.0, step * Go)
    nbo = bo - tl.where(fell, 0.0, step * gbo)
    bad = tl.sum(tl.sum((m_nn & ~_finite(nWr)).to(tl.int32), axis=1), axis=0)
    bad += tl.sum(tl.sum((m_ni & ~_finite(nWi)).to(tl.int32), axis=1), axis=0)
    bad += tl.sum((mn & ~_finite(nb)).to(tl.int32), axis=0)
    bad += tl.sum(tl.sum((m_on & ~_finite(nWo)).to(tl.int32), axis=1), axis=0)
    bad += tl.sum((mo & ~_finite(nbo)).to(tl.int32), axis=0)
    ok = ok & (bad == 0)
    commit = ok & alive
    tl.store(W_rec + k * n * n + rn[:, None] * n + rn[None, :], nWr, mask=tl.where(commit, m_nn, False))
    tl.store(W_in + k * n * n_in + rn[:, None] * n_in + ri[None, :], nWi, mask=tl.where(commit, m_ni, False))
    tl.store(b + k * n + rn, nb, mask=tl.where(commit, mn, False))
    tl.store(W_out + k * n_out * n + ro[:, None] * n + rn[None, :], nWo, mask=tl.where(commit, m_on, False))
    tl.store(b_out + k * n_out + ro, nbo, mask=tl.where(commit, mo, False))
    tl.store(loss_o + k, loss)
    tl.store(omega_o + k, omega)
    tl.store(norm_o + k, norm)
    tl.store(flags_o + k, fell.to(tl.int32) * 1 + clipped.to(tl.int32) * 2 + ok.to(tl.int32) * 4)


def _pad(size: int) -> int:
    return max(16, triton.next_power_of_2(int(size)))


def train_step(P: dict[str, Tensor], co: dict, U: Tensor, Y: Tensor, alive: Tensor,
               bound: float = 1e-20, workspace: dict | None = None, *,
               precision: str = "ieee", num_warps: int = 4) -> dict[str, Tensor]:
    r"""One MSGD / MSGD-C / MSGD-CR update of every run, in place, as one kernel launch.

    Same interface and semantics as `batched.train_step` (last-step softmax head).

    Args:
        P: parameters `W_in (K, n, n_in)`, `W_rec (K, n, n)`, `b (K, n)`, `W_out (K, n_out, n)`,
            `b_out (K, n_out)`, all of one dtype (float32 or float64) and device.
        co: `batched.coefficients` of the runs.
        U: inputs, time-major `(T, K, B, n_in)`.
        Y: class targets `(K, B)`.
        alive: `(K,)` bool; other runs are not changed.
        bound: $\Omega$'s mask threshold on $\|\boldsymbol\delta\|^2$.
        workspace: a dict kept between calls for the scratch of hidden states.
        precision: `tl.dot`'s `input_precision` for float32 (`"ieee"`: exact float32; `"tf32"`
            is faster on a GPU and changes the rounding).
        num_warps: warps per program (GPU tuning; no effect on the result).

    Returns:
        Per-run `(K,)` tensors: `loss`, `omega`, `norm` (float64, before clipping), `fell_back`,
        `clipped` (Algorithm 1 rescaled) and `ok` (false: the run diverged and was not updated).

    Raises:
        ValueError: for mismatched shapes, dtypes or devices.
        RuntimeError: for CPU tensors when Triton's interpreter is off.
    """
    T, K, B, n_in = U.shape
    W_rec = P["W_rec"]
    n, n_out, dtype, device = W_rec.shape[1], P["W_out"].shape[1], W_rec.dtype, W_rec.device
    want = {"W_in": (K, n, n_in), "W_rec": (K, n, n), "b": (K, n), "W_out": (K, n_out, n),
            "b_out": (K, n_out)}
    for name, shape in want.items():
        if tuple(P[name].shape) != shape or P[name].dtype != dtype or P[name].device != device:
            raise ValueError(f"{name}: expected {shape} {dtype} on {device}, got "
                             f"{tuple(P[name].shape)} {P[name].dtype} on {P[name].device}")
    if dtype not in (torch.float32, torch.float64) or U.dtype != dtype or U.device != device:
        raise ValueError(f"inputs must be float32 or float64 like the weights, got U {U.dtype} on "
                         f"{U.device}, weights {dtype} on {device}")
    if tuple(Y.shape) != (K, B) or tuple(alive.shape) != (K,) or T < 1:
        raise ValueError(f"Y must be {(K, B)} and alive {(K,)} with T >= 1, got {tuple(Y.shape)}, "
                         f"{tuple(alive.shape)}, T = {T}")
    if device.type == "cpu" and not INTERPRETED:
        raise RuntimeError("CPU tensors need Triton's interpreter: set TRITON_INTERPRET=1 before "
                           "triton is first imported" + (" (it was imported before this module)"
                                                         if _LATE else ""))
    ws = {} if workspace is None else workspace
    BB, BN, BI, BO = _pad(B), _pad(n), _pad(n_in), _pad(n_out)
    hs = ws.get("Hs")
    if hs is None or hs.numel() < K * (T + 1) * BB * BN or hs.dtype != dtype or hs.device != device:
        hs = ws["Hs"] = torch.empty(K * (T + 1) * BB * BN, dtype=dtype, device=device)
    work = {k: v if v.is_contiguous() else v.contiguous() for k, v in P.items()}

    def flat(name: str, kind: torch.dtype = dtype) -> Tensor:
        return co[name].reshape(-1).to(device=device, dtype=kind).contiguous()

    loss, omega = torch.empty(K, dtype=dtype, device=device), torch.empty(K, dtype=dtype, device=device)
    norm = torch.empty(K, dtype=torch.float64, device=device)
    flags = torch.empty(K, dtype=torch.int32, device=device)
    _step_kernel[(K,)](work["W_in"], work["W_rec"], work["b"], work["W_out"], work["b_out"],
                       U.contiguous(), Y.to(device=device, dtype=torch.int64).contiguous(),
                       flat("lr"), flat("clip"), flat("alpha"), flat("clipped", torch.int8),
                       flat("fb_thr"), flat("shrink"), flat("A"), flat("C"), flat("D"), flat("p"),
                       flat("q"), alive.to(device=device, dtype=torch.int8).contiguous(),
                       hs, loss, omega, norm, flags, T, K, B, n, n_in, n_out, float(bound),
                       BB=BB, BN=BN, BI=BI, BO=BO, PREC=precision, num_warps=num_warps)
    for name, v in work.items():
        if v is not P[name]:
            P[name].copy_(v)
    return {"loss": loss, "omega": omega, "norm": norm, "fell_back": (flags & FELL_BACK) != 0,
            "clipped": (flags & CLIPPED) != 0, "ok": (flags & OK) != 0}


@contextlib.contextmanager
def fused_steps(precision: str = "ieee") -> Iterator[None]:
    r"""Within the block, `batched.run_batched` takes its updates from this kernel.

    `run_batched` has no step argument, so its module's `train_step` is swapped and restored
    (not thread-safe; one trainer at a time).

    Args:
        precision: see `train_step`.
    """
    old = batched.train_step

    def step(*args: Any, **kwargs: Any) -> dict[str, Tensor]:
        return train_step(*args, precision=precision, **kwargs)

    batched.train_step = step
    try:
        yield
    finally:
        batched.train_step = old


def run_fused(configs: list[TrainConfig], device: torch.device | str = "cuda", *,
              precision: str = "ieee", **kwargs: Any) -> list[TrainResult]:
    r"""`batched.run_batched` with every update from the fused kernel.

    Args:
        configs: the runs (see `batched.check_batchable`).
        device: where to train (`"cuda"`; `"cpu"` runs Triton's interpreter).
        precision: see `train_step`.
        **kwargs: `checkpoint`, `checkpoint_every`, `progress`, `on_finish`, `callback` of
            `run_batched`.

    Returns:
        One `TrainResult` per config, in order.

    Raises:
        ValueError: before anything runs, for a task whose head is not the last-step softmax
            (the kernel implements that head only; the batched engines train every head).
    """
    heads = {TASKS[c.task].head for c in configs}
    if heads - {"last_softmax"}:
        raise ValueError(f"the fused kernel trains last-step softmax tasks only, not {sorted(heads)}; "
                         "use the batched or fastcpu trainer")
    with fused_steps(precision):
        return batched.run_batched(configs, device, **kwargs)


__all__ = ["INTERPRETED", "fused_steps", "run_fused", "train_step"]
