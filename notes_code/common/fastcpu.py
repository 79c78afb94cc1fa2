r"""# The batched Fig. 7 update with fewer, larger operations (the CPU engine)

`common.batched.train_step` (the *reference*) spends a time step on about fifteen small
tensor operations. This module computes the same update of $K$ runs with three matrix
products and a handful of element-wise passes per step, by rewriting the recurrence in terms
of the logistic output $s_t = \mathrm{sigmoid}(C x_t)$, so that $\sigma(x) = A\,s + D$ and
$\sigma'(x) = A C\,s(1 - s)$ (tanh: $(A, C, D) = (2, 2, -1)$; sigmoid: $(1, 1, 0)$):

$$z_{t+1} = C\mathbf x_{t+1} = [\,s_t \;|\; \mathbf u_{t+1} \;|\; 1\,]
\begin{bmatrix} C A\,\mathbf W_{rec}^\top \\ C\,\mathbf W_{in}^\top \\
C\,(\mathbf b + D\,\mathbf W_{rec}\mathbf 1)^\top \end{bmatrix}.$$

* **Forward**: one `bmm` of `(K, B, n + n_in + 1)` by `(K, n + n_in + 1, n)` and one `sigmoid`
  per step: the input and the bias ride in the same product, and the affine map of tanh is
  folded into the weights.
* **BPTT**: $\boldsymbol\delta_t = (\boldsymbol\delta_{t+1}\,A C\,\mathbf W_{rec})\odot s_t(1 - s_t)$:
  one `bmm`, one `addcmul` (keeping $s_t(1 - s_t)$ for the gradient pass) and one `mul`.
* **Gradients**: $\partial\mathcal E/\partial\mathbf W_{rec} +
  \alpha\,\partial^+\Omega/\partial\mathbf W_{rec} =
  \sum_t \boldsymbol\delta_{t+1}^\top\big(A s_t + c_t\,A C\,\mathbf v_t\odot s_t(1 - s_t)\big) +
  D\,(\textstyle\sum_t\boldsymbol\delta_{t+1}^\top\mathbf 1)\mathbf 1^\top$, and
  $\partial\mathcal E/\partial\mathbf W_{in}$ and $\partial\mathcal E/\partial\mathbf b$ in the same
  `baddbmm` (the inputs and a column of ones sit beside the $\Omega$-corrected states): one
  product per step for all three.
* **Heads** (`common.heads`): the output reads $\sigma(\mathbf x_t) = A s_t + D$, so
  $\mathbf y_t = s_t\,(A\,\mathbf W_{out})^\top + (\mathbf b_{out} + D\,\mathbf W_{out}\mathbf 1)^\top$,
  at the last step or (`mem`) at every step. The per-step head's immediate error
  $(\partial\mathcal E/\partial\mathbf y_t\,A C\,\mathbf W_{out})\odot s_t(1 - s_t)$ joins
  $\mathbf v_t$ at every step of BPTT (one more `bmm`), and $\mathbf v_t$ is kept apart for
  $\Omega$; $\partial\mathcal E/\partial\mathbf W_{out}$ sums over the steps.

$\Omega$, its coefficients $c_t$ and the loss are computed as in the reference; the per-run
norm, Algorithm 1 with the released code's fallback and the guarded SGD step are the
reference's own code (`batched._apply`). Only the arithmetic of the passes over $T$ is
reorganised, so float64 results agree with the reference to rounding
(`tests/common/test_fastcpu.py`).

**Threads.** By default an update runs in the calling thread on torch's intra-op threads. With
`threads` > 1 the runs are split into that many groups, one per worker thread, each with
intra-op parallelism off: slower on a quiet machine (the Python between operations is
serialised on the GIL), much faster when other processes hold the cores, where each of the
few thousand joins of torch's per-operation threads per update waits for a scheduler slice.

**Why this and not a compiler** (measured on the 2-core machine, issue #14): `torch.compile`
of the whole update unrolls the loop over $T$; at $T = 50$ inductor had not finished compiling
after 15 minutes (about 4 CPU-minutes under load), and every new $T$ (variable-length training
draws one per batch) or $K$ (runs finishing) would compile again. Compiling only the per-step
bodies leaves nothing to fuse: each step is already one product followed by one or two
element-wise passes. A C++ extension could fuse those passes, but the three products, which
MKL runs at 60-75% of the machine's sgemm rate, are most of the time.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch
from torch import Tensor

from notes_code.common import batched, heads
from notes_code.common.train import TrainConfig, TrainResult

NAMES = batched.NAMES
_apply = batched._apply  # the reference's norm, Algorithm 1 with the fallback and the guarded step


def _buffer(ws: dict, name: str, shape: tuple[int, ...], like: Tensor) -> Tensor:
    return batched._buffer(ws, name, shape, like)


def train_step(P: dict[str, Tensor], co: dict, U: Tensor, Y: Tensor, alive: Tensor,
               bound: float = 1e-20, workspace: dict | None = None, *,
               threads: int | None = None, pool: ThreadPoolExecutor | None = None) -> dict[str, Tensor]:
    r"""One MSGD / MSGD-C / MSGD-CR update of every run, in place (as `batched.train_step`).

    With `threads` = 1 (the default) the update runs in the calling thread, each operation
    on torch's intra-op threads. With `threads` > 1 the runs are split into that many contiguous
    groups, each updated by `step` in its own thread with intra-op parallelism off: the runs are
    independent, so no thread waits for another inside an update. On a quiet machine the
    default is faster (the split serialises the Python between operations on the GIL); when
    other processes hold the cores the split is much faster, because every one of the few
    thousand joins of torch's per-operation threads per update then waits for a scheduler
    slice (measured on 2 cores: see `benchmarks/bench_fastcpu.py`).

    Args:
        P: parameters `W_in (K, n, n_in)`, `W_rec (K, n, n)`, `b (K, n)`, `W_out (K, n_out, n)`,
            `b_out (K, n_out)`.
        co: `batched.coefficients` of the runs.
        U: inputs, time-major `(T, K, B, n_in)`.
        Y: targets of any head, as in `batched.train_step`.
        alive: `(K,)` bool; other runs are not changed.
        bound: $\Omega$'s mask threshold on $\|\boldsymbol\delta\|^2$.
        workspace: a dict kept between calls for the scratch buffers.
        threads: groups updated in parallel threads (default 1: inline).
        pool: an executor with at least `threads` workers, kept between calls (default: one
            made for this call).

    Returns:
        Per-run `(K,)` tensors: `loss`, `omega`, `norm` (float64, before clipping), `fell_back`,
        `clipped` and `ok`, as `batched.train_step`.

    Raises:
        ValueError: if `threads` < 1, or `Y` fits no head.
    """
    ws = {} if workspace is None else workspace
    threads = 1 if threads is None else threads
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    K = U.shape[1]
    parts = min(threads, K)
    if parts == 1:
        return step(P, co, U, Y, alive, bound, ws)
    head = heads.head_of(U, Y)
    edges = [K * i // parts for i in range(parts + 1)]
    cuts = [slice(lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    spaces = ws.setdefault("parts", {})
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with contextlib.ExitStack() as stack:
            if pool is None:
                pool = stack.enter_context(ThreadPoolExecutor(parts, thread_name_prefix="fastcpu"))
            futures = [pool.submit(step, {k: v[c] for k, v in P.items()}, {k: v[c] for k, v in co.items()},
                                   U[:, c], heads.runs(Y, head, c), alive[c], bound, spaces.setdefault(i, {}))
                       for i, c in enumerate(cuts)]
            outs = [f.result() for f in futures]
    finally:
        torch.set_num_threads(old)
    return {k: torch.cat([o[k] for o in outs]) for k in outs[0]}


def step(P: dict[str, Tensor], co: dict, U: Tensor, Y: Tensor, alive: Tensor,
         bound: float = 1e-20, workspace: dict | None = None) -> dict[str, Tensor]:
    r"""`train_step` of one group of runs in the calling thread (same arguments and results).

    Args:
        P: parameters `W_in (K, n, n_in)`, `W_rec (K, n, n)`, `b (K, n)`, `W_out (K, n_out, n)`,
            `b_out (K, n_out)`.
        co: `batched.coefficients` of the runs.
        U: inputs, time-major `(T, K, B, n_in)`.
        Y: targets of any head, as in `batched.train_step`.
        alive: `(K,)` bool; other runs are not changed.
        bound: $\Omega$'s mask threshold on $\|\boldsymbol\delta\|^2$.
        workspace: a dict kept between calls for the scratch buffers.

    Returns:
        Per-run `(K,)` tensors: `loss`, `omega`, `norm` (float64, before clipping), `fell_back`,
        `clipped` and `ok`, as `batched.train_step`.
    """
    ws = {} if workspace is None else workspace
    head = heads.head_of(U, Y)
    per_step = head == "softmax"
    W_in, W_rec, W_out = P["W_in"], P["W_rec"], P["W_out"]
    T, K, B, n_in = U.shape
    n, m = W_rec.shape[1], W_rec.shape[1] + n_in + 1
    A, C, Dc = co["A"], co["C"], co["D"]  # (K, 1, 1)
    AC = A * C
    # forward: X[t] = [s_t | u_{t+1} | 1], z_{t+1} = X[t] W_f (the last row of W_f is the bias
    # C (b + D W_rec 1)); s_0 = sigmoid(0) = 1/2
    W_f = _buffer(ws, "W_f", (K, m, n), U)
    W_f[:, :n].copy_((W_rec * AC).transpose(1, 2))
    W_f[:, n:m - 1].copy_((W_in * C).transpose(1, 2))
    W_f[:, m - 1].copy_((P["b"] + Dc.view(K, 1) * W_rec.sum(2)) * C.view(K, 1))
    X = _buffer(ws, "X", (T + 1, K, B, m), U)
    X[:T, :, :, n:m - 1].copy_(U)
    X[:, :, :, m - 1].fill_(1.0)
    s = X[..., :n]  # (T + 1, K, B, n), a strided view
    s[0].fill_(0.5)
    z = _buffer(ws, "z", (K, B, n), U)
    Xs, ss = X.unbind(0), s.unbind(0)  # per-step views made once (indexing in the loops costs)
    for t in range(T):
        torch.bmm(Xs[t], W_f, out=z)
        torch.sigmoid(z, out=ss[t + 1])
    # the head reads sigma(x_t) = A s_t + D: y = s_t (A W_out)^T + (b_out + D W_out 1)
    b_o, W_o = (P["b_out"] + Dc.view(K, 1) * W_out.sum(2)).unsqueeze(1), (W_out * A).transpose(1, 2)
    y = torch.matmul(s[1:], W_o).add_(b_o) if per_step else torch.baddbmm(b_o, s[T], W_o)
    loss, dZ = heads.loss_and_dy(head, y, Y)  # (K,) and dE/dy
    # BPTT: D[t] = delta_{t+1}; Q[t] = s_t (1 - s_t), so that sigma'(x_t) = AC Q[t]; a per-step
    # head adds its immediate error at every step, and V[t] = v_t keeps the back-propagated part
    D = _buffer(ws, "D", (T, K, B, n), U)
    Q = _buffer(ws, "Q", (T + 1, K, B, n), U)
    V = _buffer(ws, "V", (T, K, B, n), U) if per_step else None
    W_b, W_ob = W_rec * AC, W_out * AC  # (K, n, n), (K, n_out, n)
    den = U.new_empty(T, K, B)  # ||delta_{t+1}||^2, taken while D[t] is in cache
    Ds, Qs, dens = D.unbind(0), Q.unbind(0), den.unbind(0)
    dZs = dZ.unbind(0) if per_step else None
    torch.addcmul(ss[T], ss[T], ss[T], value=-1.0, out=Qs[T])
    torch.bmm(dZs[T - 1] if per_step else dZ, W_ob, out=Ds[T - 1]).mul_(Qs[T])
    for t in range(T - 1, 0, -1):
        torch.linalg.vecdot(Ds[t], Ds[t], out=dens[t])
        torch.addcmul(ss[t], ss[t], ss[t], value=-1.0, out=Qs[t])
        if per_step:
            torch.bmm(Ds[t], W_b, out=V[t]).mul_(Qs[t])
            torch.bmm(dZs[t - 1], W_ob, out=Ds[t - 1]).mul_(Qs[t]).add_(V[t])
        else:
            torch.bmm(Ds[t], W_b, out=Ds[t - 1]).mul_(Qs[t])
    torch.linalg.vecdot(Ds[0], Ds[0], out=dens[0])
    Q[0].fill_(0.25)
    v0 = (torch.bmm(D[0], W_b, out=V[0]) if per_step else torch.bmm(D[0], W_b)).mul_(0.25)  # v_0
    # Omega (eq. 10, mean over valid pairs) and its coefficients, as the reference
    a = torch.linalg.vecdot(V, V) if per_step else torch.cat([torch.linalg.vecdot(v0, v0).unsqueeze(0),
                                                             den[:-1]])  # ||v_k||^2
    omega, coef = batched.omega_terms(a, den, co["alpha"], bound)
    coef.mul_(C.view(1, K, 1, 1))
    if per_step:  # before the gradient pass overwrites s_1, ..., s_{T-1}
        g_W_out = torch.einsum("tkbo,tkbn->kon", dZ, A * s[1:] + Dc)
    else:
        g_W_out = torch.bmm(dZ.transpose(1, 2), A * s[T] + Dc)
    # gradients: G = sum_t D[t]^T [s_t + c_t C v_t Q[t] | u_{t+1} | 1], whose state block is the
    # W_rec gradient's (A s_t + c_t AC v_t Q[t]) divided by A (restored below). X[t]'s state block
    # is overwritten (s_t is not needed after it), so the input and ones columns are reused in
    # place and G's last column is dE/db
    tmp = _buffer(ws, "tmp", (K, B, n), U)
    G = torch.zeros(K, n, m, dtype=U.dtype, device=U.device)
    coefs = coef.unbind(0)
    for t in range(T):
        torch.mul(V[t] if per_step else v0 if t == 0 else Ds[t - 1], Qs[t], out=tmp)
        ss[t].addcmul_(tmp, coefs[t])
        G.baddbmm_(Ds[t].transpose(1, 2), Xs[t])
    g_b = G[..., m - 1]  # (K, n)
    g_W_rec = G[..., :n].mul_(A).addcmul_(Dc, g_b.unsqueeze(-1).expand(K, n, n))
    g = {"W_in": G[..., n:m - 1], "W_rec": g_W_rec,
         "b": g_b, "W_out": g_W_out, "b_out": dZ.sum((0, 2)) if per_step else dZ.sum(1)}
    return _apply(P, co, g, loss, omega, alive)


@contextlib.contextmanager
def fast_steps(threads: int | None = None) -> Iterator[None]:
    r"""Within the block, `batched.run_batched` takes its updates from this module.

    `run_batched` has no step argument, so its module's `train_step` is swapped and restored
    (not thread-safe; one trainer at a time), as `common.fused.fused_steps` does. One
    thread pool serves every update of the block.

    Args:
        threads: see `train_step` (default 1).

    Raises:
        ValueError: if `threads` < 1.
    """
    threads = 1 if threads is None else threads
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    old = batched.train_step
    with ThreadPoolExecutor(threads, thread_name_prefix="fastcpu") as pool:
        batched.train_step = functools.partial(train_step, threads=threads, pool=pool)
        try:
            yield
        finally:
            batched.train_step = old


def run_fast(configs: list[TrainConfig], device: torch.device | str = "cpu", *, threads: int | None = None,
             **kwargs: Any) -> list[TrainResult]:
    r"""`batched.run_batched` with every update from `train_step`.

    Args:
        configs: the runs (see `batched.check_batchable`).
        device: where to train.
        threads: see `train_step`.
        **kwargs: `checkpoint`, `checkpoint_every`, `progress`, `on_finish`, `callback` of
            `run_batched`.

    Returns:
        One `TrainResult` per config, in order.
    """
    with fast_steps(threads):
        return batched.run_batched(configs, device, **kwargs)


__all__ = ["fast_steps", "run_fast", "step", "train_step"]
