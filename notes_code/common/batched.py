r"""# K runs of the Fig. 7 protocol as one batched model

$K$ independent runs with the same shapes (same task, so the same head, $n$, batch size, length
range and `length_seed`; any init, method, seed, learning rate or budget) are trained together: every
parameter gets a leading run axis, `W_rec` is `(K, n, n)`, and each step of eq. (2) is one
`torch.bmm` over the runs,
$\mathbf{x}_t^{(k)} = \mathbf{W}_{rec}^{(k)}\sigma_k(\mathbf{x}_{t-1}^{(k)}) +
\mathbf{W}_{in}^{(k)}\mathbf{u}_t^{(k)} + \mathbf{b}^{(k)}$. Nothing is shared between runs
but the length $T$ of each step's batch (drawn from the common `length_seed` generator, with
the steps $l'$ of an `add`/`mul` batch), so run $k$ follows exactly the trajectory of
`train.run(configs[k])`:

* its own data and eval generators (the same seeds and draws as the single run);
* the task's head (`common.heads`): class logits at the last step (`torder`, `torder3`,
  `perm`), a linear output at the last step with the squared error (`add`, `mul`), or class
  logits at every step (`mem`), with the single-run loss and error test;
* BPTT written out,
  $\boldsymbol\delta_t = \partial^+\mathcal E/\partial\mathbf x_t + \mathbf v_t$ with
  $\mathbf v_t = (\boldsymbol\delta_{t+1}\mathbf{W}_{rec})\odot\sigma'(\mathbf{x}_t)$, where the
  immediate error $\partial^+\mathcal E/\partial\mathbf x_t$ is non-zero at $t = T$ only unless
  the head reads every step, with every element-wise pass fused into the loops over $t$ (no loop
  over runs);
* $\Omega$ and $\partial^+\Omega/\partial\mathbf{W}_{rec}$ in closed form per run (as
  `regularized_training.loss_and_grads`: $\Omega_k$ compares $\|\mathbf v_k\|$ with
  $\|\boldsymbol\delta_{k+1}\|$), weighted by each run's $\alpha$ (0 unless MSGD-CR);
* one gradient norm per run (accumulated in float64, so finite gradients have a finite norm),
  Algorithm 1 ($\ge$ the threshold: rescale) and the released code's fallback per run; no
  step that would write a NaN or Inf into a weight is applied;
* divergence, success and budget per run: a finished run is frozen and dropped from the batch.

Sigmoid and tanh runs mix in one batch (see `coefficients`). The code is device-agnostic
(CPU or CUDA; the data generators stay on the CPU); CUDA graphs are not used.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor
from tqdm import tqdm

from . import heads
from .heads import count_errors
from .tasks import arith_steps, make_batch, sample_length
from .train import DTYPES, TrainConfig, TrainResult, _row, atomic_save, eval_plan, generator, make_model

SHARED = ("task", "n_hidden", "min_length", "max_length", "batch_size", "length_seed", "eval_every",
          "eval_size", "screen_size", "eval_chunk", "success_error", "dtype")
NAMES = ("W_in", "W_rec", "b", "W_out", "b_out")
ACC = ("loss", "omega", "n", "grad_norm", "n_fallback", "n_clipped")


def check_batchable(configs: list[TrainConfig]) -> None:
    r"""Raise `ValueError` unless the runs can share one batched model: they must agree on
    every field of `SHARED` (the task, and so its head, included)."""
    if not configs:
        raise ValueError("no runs")
    for name in SHARED:
        values = {getattr(c, name) for c in configs}
        if len(values) > 1:
            raise ValueError(f"batched runs must share {name!r}, got {sorted(map(str, values))}")


def coefficients(configs: list[TrainConfig], device: torch.device, dtype: torch.dtype) -> dict:
    r"""Per-run constants as `(K,)` tensors: `lr`, `clip`, `alpha`, `clipped`, `fb_thr`, `shrink`,
    and the activation's `A`, `C`, `D`, `p`, `q` as `(K, 1, 1)`.

    $\sigma_k(x) = A_k\,\mathrm{sigmoid}(C_k x) + D_k$ with $(A, C, D) = (2, 2, -1)$ for tanh
    ($\tanh x = 2\,\mathrm{sigmoid}(2x) - 1$; torch's CPU sigmoid is about 5x faster than its
    tanh) and $(1, 1, 0)$ for sigmoid; $\sigma'_k = p_k + h(q_k - h)$ with $(p, q) = (1, 0)$ or
    $(0, 1)$."""
    sig = [c.init == "sigmoid" for c in configs]

    def t(values: list, kind: torch.dtype = dtype) -> Tensor:
        return torch.tensor(values, dtype=kind, device=device)

    act = {k: t([v[i] for i in sig]).view(-1, 1, 1) for k, v in
           {"A": (2.0, 1.0), "C": (2.0, 1.0), "D": (-1.0, 0.0), "p": (1.0, 0.0), "q": (0.0, 1.0)}.items()}
    return {"lr": t([c.lr for c in configs]), "clip": t([c.clip for c in configs]),
            "alpha": t([c.alpha if c.method == "MSGD-CR" else 0.0 for c in configs]),
            "clipped": t([c.method != "MSGD" for c in configs], torch.bool),
            "fb_thr": t([c.fallback_threshold for c in configs]),
            "shrink": t([c.fallback_shrink for c in configs]),
            **act}


def _sigma_(z: Tensor, out: Tensor, co: dict) -> None:
    """out = A sigmoid(z) + D per run, where z = C x (C = 2 is exact, so the batch's mix of
    activations does not change any run's rounding)."""
    torch.sigmoid(z, out=out).mul_(co["A"]).add_(co["D"])


def _dsigma_(h: Tensor, out: Tensor, co: dict) -> None:
    """out = sigma'(x) = p + h (q - h) from h = sigma(x): 1 - h^2 (tanh) or h (1 - h) (sigmoid)."""
    torch.addcmul(co["p"], h, torch.sub(co["q"], h), out=out)


def _buffer(ws: dict, name: str, shape: tuple[int, ...], like: Tensor) -> Tensor:
    """A reused scratch tensor: fresh large allocations cost page faults on every step."""
    numel = math.prod(shape)
    buf = ws.get(name)
    if buf is None or buf.numel() < numel or buf.dtype != like.dtype or buf.device != like.device:
        buf = ws[name] = like.new_empty(numel)
    return buf[:numel].view(shape)


def omega_terms(a: Tensor, den: Tensor, alpha: Tensor, bound: float) -> tuple[Tensor, Tensor]:
    r"""$\Omega$ per run (eq. 10, the mean over valid pairs) and the coefficients of its
    $\mathbf{W}_{rec}$ gradient, $\alpha\,4(r - 1)/\|\boldsymbol\delta\|^2$ over the valid count.

    Args:
        a: $\|\mathbf v_k\|^2$, `(T, K, B)`.
        den: $\|\boldsymbol\delta_{k+1}\|^2$, `(T, K, B)`; pairs below `bound` are masked out.
        alpha: $\alpha$ per run, `(K,)` (0 unless MSGD-CR).
        bound: the mask threshold.

    Returns:
        `(omega (K,), coef (T, K, B, 1))`.
    """
    mask = den >= bound
    den = torch.where(mask, den, torch.ones_like(den))
    r = a / den
    count = mask.sum((0, 2)).clamp_min(1).to(a.dtype)  # (K,)
    omega = torch.where(mask, (r - 1.0).square(), torch.zeros_like(r)).sum((0, 2)) / count
    coef = torch.where(mask, 4.0 * (r - 1.0) / den, torch.zeros_like(r))
    # runs with alpha = 0 (MSGD, MSGD-C) get exactly no Omega term, even where Omega is NaN
    # (float32 ||delta||^2 overflowing): NaN * 0 would otherwise leak into their W_rec gradient
    coef = torch.where((alpha != 0).view(1, -1, 1), coef * (alpha / count).view(1, -1, 1),
                       torch.zeros_like(coef)).unsqueeze(-1)  # (T, K, B, 1)
    return omega, coef


def train_step(P: dict[str, Tensor], co: dict, U: Tensor, Y: Tensor, alive: Tensor,
               bound: float = 1e-20, workspace: dict | None = None) -> dict[str, Tensor]:
    r"""One MSGD / MSGD-C / MSGD-CR update of every run, in place.

    The loops over $t$ work on `(K, B, n)` slices that stay in cache; every other
    element-wise pass over `(T, K, B, n)` arrays is fused into them.

    Args:
        P: parameters `W_in (K, n, n_in)`, `W_rec (K, n, n)`, `b (K, n)`, `W_out (K, n_out, n)`,
            `b_out (K, n_out)`.
        co: `coefficients` of the runs.
        U: inputs, time-major `(T, K, B, n_in)`.
        Y: targets, which name the head (`heads.head_of`): classes `(K, B)` (last-step softmax),
            values `(K, B, n_out)` (last-step linear) or classes at every step `(T, K, B)`.
        alive: `(K,)` bool; other runs are not changed.
        bound: $\Omega$'s mask threshold on $\|\boldsymbol\delta\|^2$.
        workspace: a dict kept between calls for the scratch buffers.

    Returns:
        Per-run `(K,)` tensors: `loss`, `omega`, `norm` (float64, before clipping), `fell_back`,
        `clipped` (Algorithm 1 rescaled the gradient) and `ok` (false: the run diverged and was
        not updated).

    Raises:
        ValueError: if `Y` fits no head (nothing is changed).
    """
    ws = {} if workspace is None else workspace
    head = heads.head_of(U, Y)
    per_step = head == "softmax"
    W_rec, W_out = P["W_rec"], P["W_out"]
    T, K, B, _ = U.shape
    n = W_rec.shape[1]
    C = co["C"]
    # forward, with z_t = C x_t = C (W_in u_t + b) + C W_rec sigma(x_{t-1}) and S[t] = sigma'(x_t)
    W_in_t, b = (P["W_in"].transpose(1, 2) * C).contiguous(), P["b"].unsqueeze(1) * C
    W_rec_t = (W_rec.transpose(1, 2) * C).contiguous()
    H = _buffer(ws, "H", (T + 1, K, B, n), U)  # sigma(x_0), ..., sigma(x_T)
    S = _buffer(ws, "S", (T + 1, K, B, n), U)
    Z = _buffer(ws, "Z", (T, K, B, n), U)
    H[0] = co["A"] * 0.5 + co["D"]  # sigma(0): 0 for tanh, 1/2 for sigmoid
    _dsigma_(H[0], S[0], co)
    for t in range(T):
        torch.baddbmm(b, U[t], W_in_t, out=Z[t]).baddbmm_(H[t], W_rec_t)
        _sigma_(Z[t], H[t + 1], co)
        _dsigma_(H[t + 1], S[t + 1], co)
    if per_step:  # y_t = W_out sigma(x_t) + b_out at every step, (T, K, B, n_out)
        y = torch.matmul(H[1:], W_out.transpose(1, 2)).add_(P["b_out"].unsqueeze(1))
    else:  # y = W_out sigma(x_T) + b_out, (K, B, n_out)
        y = torch.baddbmm(P["b_out"].unsqueeze(1), H[T], W_out.transpose(1, 2))
    loss, dZ = heads.loss_and_dy(head, y, Y)  # (K,) and dE/dy
    # BPTT: D[t] = delta_{t+1} = dE/dx_{t+1}; den[t] = ||delta_{t+1}||^2. A per-step head adds
    # the immediate error (dE/dy_t W_out) sigma'(x_t) at every step; V[t] = v_t keeps the
    # back-propagated part delta_{t+1} dx_{t+1}/dx_t, the vector Omega compares with delta_{t+1}
    D = Z  # reuse the buffer
    den = U.new_empty(T, K, B)
    torch.mul(torch.bmm(dZ[T - 1] if per_step else dZ, W_out), S[T], out=D[T - 1])
    V = _buffer(ws, "V", (T, K, B, n), U) if per_step else None
    for t in range(T - 1, 0, -1):
        torch.linalg.vecdot(D[t], D[t], out=den[t])
        if per_step:
            torch.bmm(D[t], W_rec, out=V[t]).mul_(S[t])
            torch.bmm(dZ[t - 1], W_out, out=D[t - 1]).mul_(S[t]).add_(V[t])
        else:
            torch.bmm(D[t], W_rec, out=D[t - 1]).mul_(S[t])
    torch.linalg.vecdot(D[0], D[0], out=den[0])
    v0 = (torch.bmm(D[0], W_rec, out=V[0]) if per_step else torch.bmm(D[0], W_rec)).mul_(S[0])  # v_0
    # Omega (eq. 10, mean over valid pairs) from ||v_k||^2, where v_k = delta_k for k >= 1 unless
    # the head is per-step
    a = torch.linalg.vecdot(V, V) if per_step else torch.cat([torch.linalg.vecdot(v0, v0).unsqueeze(0),
                                                             den[:-1]])
    omega, coef = omega_terms(a, den, co["alpha"], bound)
    # gradients: dE/dW_rec + alpha dOmega/dW_rec = sum_k delta_{k+1}^T (h_k + alpha c_k v_k sigma'(x_k))
    g = {"W_in": U.new_zeros(K, n, U.shape[-1]), "W_rec": U.new_zeros(K, n, n), "b": D.sum((0, 2)),
         "W_out": torch.einsum("tkbo,tkbn->kon", dZ, H[1:]) if per_step
         else torch.bmm(dZ.transpose(1, 2), H[T]), "b_out": dZ.sum((0, 2)) if per_step else dZ.sum(1)}
    M = torch.empty_like(v0)
    for t in range(T):
        torch.mul(V[t] if per_step else v0 if t == 0 else D[t - 1], S[t], out=M)
        M.mul_(coef[t]).add_(H[t])
        Dt = D[t].transpose(1, 2)  # (K, n, B)
        g["W_rec"].baddbmm_(Dt, M)
        g["W_in"].baddbmm_(Dt, U[t])
    return _apply(P, co, g, loss, omega, alive)


def _apply(P: dict[str, Tensor], co: dict, g: dict[str, Tensor], loss: Tensor, omega: Tensor,
           alive: Tensor) -> dict[str, Tensor]:
    """The per-run norm, Algorithm 1 with the released code's fallback, and the guarded SGD step
    (shared by `common.fastcpu`)."""
    dtype = loss.dtype
    # (K,) float64: squares of finite float32 gradients cannot overflow it
    norm = sum(v.flatten(1).double().square().sum(1) for v in g.values()).sqrt()
    fell_back = co["clipped"] & (~torch.isfinite(norm) | (norm > co["fb_thr"]))
    clipped = co["clipped"] & ~fell_back & (norm >= co["clip"])  # Algorithm 1's >=
    scale = torch.where(clipped, co["clip"] / norm, torch.ones_like(norm)).to(dtype)
    step = co["lr"] * scale
    ok = co["clipped"] | (torch.isfinite(norm) & torch.isfinite(loss))
    new = {}
    for name in NAMES:
        shape = (-1, *[1] * (g[name].dim() - 1))
        fb = co["lr"].view(shape) * (co["shrink"].view(shape) * P[name]) if name == "W_rec" \
            else torch.zeros_like(P[name])
        new[name] = P[name] - torch.where(fell_back.view(shape), fb, step.view(shape) * g[name])
        ok &= torch.isfinite(new[name]).flatten(1).all(1)
    commit = ok & alive
    for name in NAMES:
        P[name].copy_(torch.where(commit.view(-1, *[1] * (P[name].dim() - 1)), new[name], P[name]))
    return {"loss": loss, "omega": omega, "norm": norm, "fell_back": fell_back, "clipped": clipped,
            "ok": ok}


def _data(task: str, size: int, length: int, gens: list[torch.Generator], dtype: torch.dtype,
          device: torch.device, steps: int | None = None) -> tuple[Tensor, Tensor]:
    return heads.stack_batches(task, [make_batch(task, size, length, g, dtype, steps) for g in gens], device)


def _errors(P: dict, cfgs: list[TrainConfig], gens: list, step: int, device: torch.device) -> list:
    """(error, n_eval) per run, as train.evaluate: the screen, then the full test if it passes."""
    c0, dtype = cfgs[0], DTYPES[cfgs[0].dtype]
    screen, full = eval_plan(c0, step)
    out: list = [None] * len(cfgs)
    todo = list(range(len(cfgs)))
    for plan, last in ((screen, False), (full, True)):
        if not plan or not todo:
            continue
        sub = {k: v[todo] for k, v in P.items()}
        co_sub = coefficients([cfgs[i] for i in todo], device, dtype)
        wrong = torch.zeros(len(todo), dtype=torch.long, device=device)
        for size, length, steps in plan:
            wrong += count_errors(sub, co_sub, *_data(c0.task, size, length, [gens[i] for i in todo],
                                                        dtype, device, steps))
        total = sum(s for s, *_ in plan)
        for i, w in zip(todo, wrong.tolist(), strict=True):
            out[i] = (w / total, total)
        todo = [i for i in todo if not last and out[i][0] < c0.success_error]
    return out


def run_batched(configs: list[TrainConfig], device: torch.device | str = "cpu", *,
                checkpoint: Path | None = None, checkpoint_every: int = 1000, progress: bool = False,
                on_finish: Callable[[int, TrainResult], None] | None = None,
                callback: Callable[[int], None] | None = None) -> list[TrainResult]:
    r"""Train the runs together; run $k$ ends as `train.run(configs[k])` would.

    Args:
        configs: the runs (see `check_batchable`).
        device: where to train (`"cpu"`, `"cuda"`, ...).
        checkpoint: file to resume from and save to (atomically); `None`: none.
        checkpoint_every: updates between checkpoints.
        progress: show a tqdm bar.
        on_finish: called as `on_finish(k, result)` when run `k` finishes.
        callback: called with the update count after every update (raise to interrupt).

    Returns:
        One `TrainResult` per config, in order.

    Raises:
        ValueError: if the runs cannot be batched or the checkpoint is for other runs.
    """
    check_batchable(configs)
    c0, K, device = configs[0], len(configs), torch.device(device)
    dtype, keys = DTYPES[c0.dtype], [c.key() for c in configs]
    gens = {"data": [generator(c.seed, "data") for c in configs],
            "eval": [generator(c.seed, "eval") for c in configs],
            "length": [generator(c0.length_seed, "length")]}
    models = [make_model(c) for c in configs]
    P = {n: torch.stack([getattr(m, n).detach() for m in models]).to(device) for n in NAMES}
    st = {"step": 0, "work": list(range(K)), "hist": [[] for _ in configs], "err": [None] * K,
          "tot": [[0.0, 0, 0] for _ in configs], "results": [None] * K, "wall": 0.0}
    alive = torch.ones(K, dtype=torch.bool, device=device)
    div_at = torch.zeros(K, dtype=torch.long, device=device)
    acc = {k: torch.zeros(K, dtype=torch.float64, device=device) for k in ACC}
    if checkpoint is not None and Path(checkpoint).exists():
        saved = torch.load(checkpoint, weights_only=True)
        if saved["keys"] != keys:
            raise ValueError(f"checkpoint {checkpoint} belongs to other runs")
        P = {k: v.to(device) for k, v in saved["P"].items()}
        alive, div_at = saved["alive"].to(device), saved["div_at"].to(device)
        acc = {k: v.to(device) for k, v in saved["acc"].items()}
        st = saved["st"]
        # checkpoints written before n_clipped was counted resume with a count of 0
        acc.setdefault("n_clipped", torch.zeros(len(st["work"]), dtype=torch.float64, device=device))
        st["tot"] = [[*t, 0][:3] for t in st["tot"]]
        st["results"] = [r if r is None else TrainResult(c, **r)
                         for c, r in zip(configs, st["results"], strict=True)]
        for kind, states in saved["rng"].items():
            for g, s in zip(gens[kind], states, strict=True):
                g.set_state(s)
    co, ws = coefficients([configs[i] for i in st["work"]], device, dtype), {}
    start = time.perf_counter() - st["wall"]
    bar = tqdm(total=max(c.max_updates for c in configs), initial=st["step"], disable=not progress,
               unit="upd", mininterval=0.5, dynamic_ncols=True)
    while st["work"]:
        work, step = st["work"], st["step"]
        T = sample_length(c0.min_length, c0.max_length, gens["length"][0])
        steps = arith_steps(c0.task, T, gens["length"][0])
        U, Y = _data(c0.task, c0.batch_size, T, [gens["data"][i] for i in work], dtype, device, steps)
        s = train_step(P, co, U, Y, alive, workspace=ws)
        div_at = torch.where(alive & ~s["ok"], step, div_at)
        alive = alive & s["ok"]
        st["step"] = step = step + 1
        m = alive.to(torch.float64)
        for k in ("loss", "omega"):
            acc[k] += torch.where(alive, s[k].double(), 0.0)
        acc["n"] += m
        acc["n_fallback"] += m * s["fell_back"]
        acc["n_clipped"] += m * s["clipped"]
        fin = alive & torch.isfinite(s["norm"])
        acc["grad_norm"] = torch.where(fin, torch.maximum(acc["grad_norm"], s["norm"].double()),
                                       acc["grad_norm"])
        bar.update(1)
        ends = [configs[i].max_updates == step for i in work]
        if step % c0.eval_every == 0 or any(ends):
            keep = _check(configs, P, alive, div_at, acc, st, gens, step, ends, device, start, on_finish)
            if len(keep) < len(work):
                idx = torch.tensor(keep, dtype=torch.long, device=device)
                P = {k: v[idx].contiguous() for k, v in P.items()}
                acc = {k: v[idx] for k, v in acc.items()}
                alive, div_at = alive[idx], div_at[idx]
                st["work"] = [work[p] for p in keep]
                co = coefficients([configs[i] for i in st["work"]], device, dtype)
            done = [r for r in st["results"] if r is not None]
            bar.set_postfix(active=len(st["work"]), success=sum(r.success for r in done), refresh=False)
        if checkpoint is not None and (step % checkpoint_every == 0 or not st["work"]):
            res = [None if r is None else {f.name: getattr(r, f.name) for f in dataclasses.fields(r)
                                           if f.name != "config"} for r in st["results"]]
            atomic_save({"keys": keys, "P": {k: v.cpu() for k, v in P.items()}, "alive": alive.cpu(),
                         "div_at": div_at.cpu(), "acc": {k: v.cpu() for k, v in acc.items()},
                         "st": {**st, "results": res, "wall": time.perf_counter() - start},
                         "rng": {k: [g.get_state() for g in v] for k, v in gens.items()}}, Path(checkpoint))
        if callback is not None:
            callback(step)
    bar.close()
    return st["results"]


def _check(configs: list, P: dict, alive: Tensor, div_at: Tensor, acc: dict, st: dict, gens: dict,
           step: int, ends: list, device: torch.device, start: float, on_finish: Callable | None) -> list:
    """Evaluate due runs, close history rows, finish runs; return the positions that go on."""
    work, c0 = st["work"], configs[0]
    alive_h, div_h = alive.tolist(), div_at.tolist()
    rows = {k: v.tolist() for k, v in acc.items()}
    due = [p for p in range(len(work)) if alive_h[p] and (step % c0.eval_every == 0 or ends[p])]
    errs = _errors({k: v[due] for k, v in P.items()}, [configs[work[p]] for p in due],
                   [gens["eval"][work[p]] for p in due], step, device) if due else []
    evaluated = dict(zip(due, errs, strict=True))
    keep = []
    for p, i in enumerate(work):
        row = {k: rows[k][p] for k in ACC}
        row["n"], row["n_fallback"], row["n_clipped"] = (int(row["n"]), int(row["n_fallback"]),
                                                         int(row["n_clipped"]))
        tot = st["tot"][i]
        if p in evaluated:  # close the history row, as train.run does after an evaluation
            st["err"][i], n_eval = evaluated[p]
            st["hist"][i].append(_row(step, st["err"][i], n_eval, row))
            tot[0], tot[1] = max(tot[0], row["grad_norm"]), tot[1] + row["n_fallback"]
            tot[2] += row["n_clipped"]
            row = {k: 0 for k in ACC}
            for k in ACC:
                acc[k][p] = 0.0
        outcome = ("diverged" if not alive_h[p] else "success" if p in evaluated
                   and st["err"][i] < c0.success_error else "fail" if ends[p] else None)
        if outcome is None:
            keep.append(p)
            continue
        tot[0], tot[1] = max(tot[0], row["grad_norm"]), tot[1] + row["n_fallback"]
        tot[2] += row["n_clipped"]
        params = {n: P[n][p].detach().cpu().clone() for n in NAMES}
        updates = div_h[p] if outcome == "diverged" else step
        st["results"][i] = TrainResult(configs[i], outcome, updates, st["err"][i], st["hist"][i],
                                       time.perf_counter() - start, tot[0], int(tot[1]), params,
                                       int(tot[2]))
        if on_finish is not None:
            on_finish(i, st["results"][i])
    return keep


__all__ = ["NAMES", "SHARED", "check_batchable", "coefficients", "count_errors", "omega_terms", "run_batched",
           "train_step"]
