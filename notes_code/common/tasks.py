r"""# The pathological tasks of Hochreiter & Schmidhuber (1997), as Pascanu, Mikolov & Bengio (2013) use them

Section 4.1 of the paper trains RNNs on six long-range tasks. The encodings come from the
authors' released generators (`pascanur/trainingRNNs`: `tempOrder.py`, `tempOrder3bit.py`,
`addition.py`, `multiplication.py`, `permutation.py`, `memorization.py`). This module
rewrites them in PyTorch. Each generator is seeded by a `torch.Generator` and vectorized over
the batch. Inputs are time-major, $u \in \mathbb{R}^{T \times B \times n_{in}}$. **All
sequences in a batch share one length**; positions and values are drawn per sequence.
Below, $l$ is the requested length and $\mathrm{randint}(n)$ is uniform over $\{0,\dots,n-1\}$.

* **Temporal order** (`torder`). One-hot over 6 symbols: $A=0$, $B=1$, and distractors
  uniform over $\{2,3,4,5\}$. The relevant symbols $v_0, v_1 \in \{A, B\}$ sit at
  $p_0 = \lfloor .1l \rfloor + \mathrm{randint}(\lfloor .1l \rfloor)$ and
  $p_1 = \lfloor .5l \rfloor + \mathrm{randint}(\lfloor .1l \rfloor)$. The last step predicts
  the class $v_0 + 2v_1$ (4 classes).
* **3-bit temporal order** (`torder3`). As above, with three symbols at
  $\lfloor .1l \rfloor$, $\lfloor .3l \rfloor$ and $\lfloor .6l \rfloor$, each
  $+\,\mathrm{randint}(\lfloor .1l \rfloor)$. The class is $v_0 + 2v_1 + 4v_2$ (8 classes).
* **Addition** (`add`) and **multiplication** (`mul`). There are two channels: channel 0 is a
  marker (1 at $p_0$ and $p_1$, else 0) and channel 1 holds values $x_t \sim U[0,1)$. The
  actual length $l' = l + \mathrm{randint}(\lfloor .1l \rfloor)$ is drawn once per batch.
  Then $p_0 \in [0, \lfloor .1l' \rfloor)$ and
  $p_1 \in [\lfloor .1l' \rfloor, \lfloor .1l' \rfloor + \lfloor .4l' \rfloor)$. The target
  is $(x_{p_0} + x_{p_1})/2$ or $x_{p_0} x_{p_1}$, read by a linear output at the last
  step. A sequence is wrong if its squared error exceeds $0.04$.
* **Random permutation** (`perm`). One-hot over 100 symbols. The first symbol is in
  $\{0,1\}$ and the others are uniform over $\{2,\dots,99\}$. The last step predicts the
  first symbol.
* **Noiseless memorization** (`mem`). A pattern of $n_{pos}$ symbols over $n_{values}$
  values (defaults 10 and 5, i.e. $\log_2 5^{10} \approx 23$ bits) occupies steps
  $0..n_{pos}-1$. Then the "blank" channel ($n_{values}$) is on, except at the "go" step
  $l + n_{pos}$, where channel $n_{values}+1$ is on instead. The total length is
  $l + 2n_{pos}$. The target at every step is the blank class $n_{values}$, except for the
  last $n_{pos}$ steps, starting at the go step itself, which must replay the pattern. A
  sequence is wrong if any step is wrong. `mem5` is the 5-bit variant of §4.1.2: a pattern of
  5 binary symbols ($n_{values} = 2$, $n_{pos} = 5$).

Training draws one length per batch, uniformly in $[l_{min}, l_{max}-1]$ (`sample_length`);
for `add` and `mul` the trainers then draw $l'$ from the same stream (`arith_steps`), so that
runs trained together share it (the released code draws it with the data).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F

Head = Literal["last_softmax", "softmax", "last_linear"]

#: Squared-error threshold above which an `add`/`mul` sequence counts as wrong (§4.1.2).
SQUARED_ERROR_THRESHOLD: float = 0.04


@dataclass(frozen=True)
class Task:
    r"""Static description of one synthetic task.

    Attributes:
        name: Registry key, e.g. `"torder"`.
        n_in: Number of input channels.
        n_out: Number of outputs of the model head.
        head: `"last_softmax"` (class at the last step), `"softmax"` (class at every step)
            or `"last_linear"` (real value at the last step).
        min_length: Smallest accepted `length` argument.
    """

    name: str
    n_in: int
    n_out: int
    head: Head
    min_length: int


class Batch(NamedTuple):
    r"""One batch of sequences.

    Attributes:
        u: Inputs, shape `(T, B, n_in)`, floating point.
        target: `(B,)` long class indices for `last_softmax`; `(T, B)` long class indices
            for `softmax`; `(B, 1)` float values for `last_linear`.
    """

    u: torch.Tensor
    target: torch.Tensor


TASKS: dict[str, Task] = {
    "torder": Task("torder", 6, 4, "last_softmax", 10),
    "torder3": Task("torder3", 6, 8, "last_softmax", 10),
    "add": Task("add", 2, 1, "last_linear", 10),
    "mul": Task("mul", 2, 1, "last_linear", 10),
    "perm": Task("perm", 100, 100, "last_softmax", 2),
    "mem": Task("mem", 7, 6, "softmax", 1),
    "mem5": Task("mem5", 4, 3, "softmax", 1),
}


def _task(task_name: str) -> Task:
    if task_name not in TASKS:
        raise ValueError(f"unknown task {task_name!r}; expected one of {sorted(TASKS)}")
    return TASKS[task_name]


def _check(task_name: str, batch_size: int, length: int) -> None:
    task = _task(task_name)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if length < task.min_length:
        why = " so that floor(0.1 * length) >= 1" if task.min_length == 10 else ""
        raise ValueError(
            f"task {task_name!r} needs length >= {task.min_length}{why}, got {length}"
        )


def _randint(n: int, size: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    return torch.randint(0, n, size, generator=generator)


def sample_length(min_length: int, max_length: int, generator: torch.Generator) -> int:
    r"""Draw one training length, as `min_length + randint(max_length - min_length)`.

    Args:
        min_length: Lower bound, inclusive.
        max_length: Upper bound, exclusive; if equal to `min_length` the length is fixed.
        generator: Source of randomness.

    Returns:
        An integer uniform over `[min_length, max_length - 1]`, or `min_length`.
    """
    if max_length < min_length:
        raise ValueError(f"max_length ({max_length}) < min_length ({min_length})")
    if max_length == min_length:
        return min_length
    return min_length + int(_randint(max_length - min_length, (1,), generator))


def _order(
    name: str, fracs: tuple[float, ...], batch_size: int, length: int,
    generator: torch.Generator, dtype: torch.dtype,
) -> Batch:
    _check(name, batch_size, length)
    width = int(0.1 * length)
    cols = torch.arange(batch_size)
    sym = 2 + _randint(4, (length, batch_size), generator)
    target = torch.zeros(batch_size, dtype=torch.long)
    for k, frac in enumerate(fracs):
        pos = int(frac * length) + _randint(width, (batch_size,), generator)
        val = _randint(2, (batch_size,), generator)
        sym[pos, cols] = val
        target += val << k
    return Batch(F.one_hot(sym, 6).to(dtype), target)


def temporal_order(
    batch_size: int, length: int, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> Batch:
    r"""Temporal order with 2 relevant symbols, 4 classes (§4.1.1, `tempOrder.py`).

    Args:
        batch_size: Number of sequences B.
        length: Sequence length T (>= 10).
        generator: Source of randomness.
        dtype: Floating dtype of `u`.

    Returns:
        `u` of shape `(T, B, 6)`, `target` of shape `(B,)` with values in `{0..3}`.
    """
    return _order("torder", (0.1, 0.5), batch_size, length, generator, dtype)


def temporal_order_3bit(
    batch_size: int, length: int, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> Batch:
    r"""Temporal order with 3 relevant symbols, 8 classes (§4.1.2, `tempOrder3bit.py`).

    Args:
        batch_size: Number of sequences B.
        length: Sequence length T (>= 10).
        generator: Source of randomness.
        dtype: Floating dtype of `u`.

    Returns:
        `u` of shape `(T, B, 6)`, `target` of shape `(B,)` with values in `{0..7}`.
    """
    return _order("torder3", (0.1, 0.3, 0.6), batch_size, length, generator, dtype)


def arith_steps(task_name: str, length: int, generator: torch.Generator) -> int | None:
    r"""The steps of one `add`/`mul` batch, $l' = l + \mathrm{randint}(\lfloor .1l \rfloor)$.

    `addition.py` draws $l'$ once per batch. The trainers draw it here, from the stream that
    drew $l$ (shared by batched runs), and pass it to `make_batch` as `steps`, so that runs
    trained together see batches of one length. Other tasks draw nothing.

    Args:
        task_name: A key of `TASKS`.
        length: Nominal length l.
        generator: Source of randomness.

    Returns:
        $l'$ for `add` and `mul`, else `None`.

    Raises:
        ValueError: if `length` is below the task's minimum (10 for `add` and `mul`).
    """
    if _task(task_name).head != "last_linear":
        return None
    _check(task_name, 1, length)  # floor(.1 l) >= 1, else randint(0) fails with torch's own message
    return length + int(_randint(int(0.1 * length), (1,), generator))


def _arith(
    name: str, batch_size: int, length: int, generator: torch.Generator, dtype: torch.dtype,
    steps: int | None = None,
) -> Batch:
    _check(name, batch_size, length)
    total = arith_steps(name, length, generator) if steps is None else steps
    if not length <= total < length + max(1, int(0.1 * length)):
        raise ValueError(f"{name}: steps={total} is not in [l, l + floor(.1 l)) for l={length}")
    first, second = int(0.1 * total), int(0.4 * total)
    cols = torch.arange(batch_size)
    p0 = _randint(first, (batch_size,), generator)
    p1 = first + _randint(second, (batch_size,), generator)
    x = torch.rand(total, batch_size, generator=generator, dtype=dtype)
    marker = torch.zeros(total, batch_size, dtype=dtype)
    marker[p0, cols] = 1.0
    marker[p1, cols] = 1.0
    a, b = x[p0, cols], x[p1, cols]
    target = (a + b) / 2 if name == "add" else a * b
    return Batch(torch.stack([marker, x], dim=-1), target.unsqueeze(-1))


def addition(
    batch_size: int, length: int, generator: torch.Generator, dtype: torch.dtype = torch.float32,
    steps: int | None = None,
) -> Batch:
    r"""Addition task (§4.1.2, `addition.py`): target $(x_{p_0} + x_{p_1})/2$.

    Args:
        batch_size: Number of sequences B.
        length: Nominal length l (>= 10); the batch has
            $T = l + \mathrm{randint}(\lfloor .1l \rfloor)$ steps.
        generator: Source of randomness.
        dtype: Floating dtype of `u` and `target`.
        steps: $T$ drawn beforehand (`arith_steps`); `None` draws it from `generator`.

    Returns:
        `u` of shape `(T, B, 2)` (marker, value), `target` of shape `(B, 1)`.
    """
    return _arith("add", batch_size, length, generator, dtype, steps)


def multiplication(
    batch_size: int, length: int, generator: torch.Generator, dtype: torch.dtype = torch.float32,
    steps: int | None = None,
) -> Batch:
    r"""Multiplication task (§4.1.2, `multiplication.py`): target $x_{p_0} x_{p_1}$.

    Args:
        batch_size: Number of sequences B.
        length: Nominal length l (>= 10); the batch has
            $T = l + \mathrm{randint}(\lfloor .1l \rfloor)$ steps.
        generator: Source of randomness.
        dtype: Floating dtype of `u` and `target`.
        steps: $T$ drawn beforehand (`arith_steps`); `None` draws it from `generator`.

    Returns:
        `u` of shape `(T, B, 2)` (marker, value), `target` of shape `(B, 1)`.
    """
    return _arith("mul", batch_size, length, generator, dtype, steps)


def random_permutation(
    batch_size: int, length: int, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> Batch:
    r"""Random permutation (§4.1.2, `permutation.py`): recall the first symbol at the end.

    Args:
        batch_size: Number of sequences B.
        length: Sequence length T (>= 2).
        generator: Source of randomness.
        dtype: Floating dtype of `u`.

    Returns:
        `u` of shape `(T, B, 100)`, `target` of shape `(B,)` with values in `{0, 1}`.
    """
    _check("perm", batch_size, length)
    sym = 2 + _randint(98, (length, batch_size), generator)
    sym[0] = _randint(2, (batch_size,), generator)
    return Batch(F.one_hot(sym, 100).to(dtype), sym[0].clone())


def memorization(
    batch_size: int, length: int, generator: torch.Generator, dtype: torch.dtype = torch.float32,
    n_values: int = 5, n_pos: int = 10,
) -> Batch:
    r"""Noiseless memorization (§4.1.2, `memorization.py`).

    Args:
        batch_size: Number of sequences B.
        length: Delay l (>= 1) between the pattern and the go step; $T = l + 2 n_{pos}$.
        generator: Source of randomness.
        dtype: Floating dtype of `u`.
        n_values: Alphabet size of the pattern.
        n_pos: Pattern length.

    Returns:
        `u` of shape `(T, B, n_values + 2)`, per-step `target` of shape `(T, B)` with values
        in `{0..n_values}` (`n_values` is the blank class).
    """
    _check("mem", batch_size, length)
    if n_values < 1 or n_pos < 1:
        raise ValueError(f"n_values and n_pos must be >= 1, got {n_values}, {n_pos}")
    total, go = length + 2 * n_pos, length + n_pos
    pattern = _randint(n_values, (n_pos, batch_size), generator)
    sym = torch.full((total, batch_size), n_values, dtype=torch.long)
    sym[:n_pos] = pattern
    sym[go] = n_values + 1
    target = torch.full((total, batch_size), n_values, dtype=torch.long)
    target[go:] = pattern
    return Batch(F.one_hot(sym, n_values + 2).to(dtype), target)


_GENERATORS: dict[str, Callable[[int, int, torch.Generator, torch.dtype], Batch]] = {
    "torder": temporal_order,
    "torder3": temporal_order_3bit,
    "add": addition,
    "mul": multiplication,
    "perm": random_permutation,
    "mem": memorization,
    "mem5": functools.partial(memorization, n_values=2, n_pos=5),
}


def make_batch(
    task_name: str, batch_size: int, length: int, generator: torch.Generator,
    dtype: torch.dtype = torch.float32, steps: int | None = None,
) -> Batch:
    r"""Generate one batch of the task registered as `task_name` (default settings).

    Args:
        task_name: A key of `TASKS`.
        batch_size: Number of sequences B.
        length: Length argument of the generator.
        generator: Source of randomness.
        dtype: Floating dtype of the inputs.
        steps: `add`/`mul` only: the batch's steps, drawn beforehand (`arith_steps`).

    Returns:
        The `Batch`; shapes as documented for each generator.

    Raises:
        ValueError: for an unknown task, bad sizes, or `steps` given to another task.
    """
    if steps is None:
        _task(task_name)
        return _GENERATORS[task_name](batch_size, length, generator, dtype)
    if _task(task_name).head != "last_linear":
        raise ValueError(f"steps is drawn for add and mul only, not {task_name!r}")
    return _GENERATORS[task_name](batch_size, length, generator, dtype, steps=steps)


def _check_shapes(task: Task, y: torch.Tensor, target: torch.Tensor) -> None:
    want = {"last_softmax": (2, 1), "softmax": (3, 2), "last_linear": (2, 2)}[task.head]
    if (y.dim(), target.dim()) != want or y.shape[: want[1]] != target.shape[: want[1]]:
        raise ValueError(
            f"task {task.name!r} ({task.head}) got y {tuple(y.shape)} and target "
            f"{tuple(target.shape)}; expected ranks {want} with matching leading dimensions"
        )


def errors(task_name: str, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Per-sequence error flags, as in the released validation code.

    Args:
        task_name: A key of `TASKS`.
        y: Head output: logits `(B, n_out)` for `last_softmax`, `(T, B, n_out)` for
            `softmax`, values `(B, 1)` for `last_linear`.
        target: The batch target, shaped as in `Batch`.

    Returns:
        Bool tensor `(B,)`: argmax mismatch at the last step, any step's argmax wrong, or
        $\sum_o (t - y)^2 > 0.04$.
    """
    task = _task(task_name)
    _check_shapes(task, y, target)
    if task.head == "last_softmax":
        return y.argmax(-1) != target
    if task.head == "softmax":
        return (y.argmax(-1) != target).any(0)
    return ((target - y) ** 2).sum(-1) > SQUARED_ERROR_THRESHOLD


def loss(task_name: str, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Training cost, as in the released code.

    Args:
        task_name: A key of `TASKS`.
        y: Head output, shaped as in `errors`.
        target: The batch target, shaped as in `Batch`.

    Returns:
        Scalar: cross-entropy averaged over the batch (`last_softmax`) or over all $T B$ rows
        (`softmax`), or `((t - y)**2).mean(0).sum()` (`last_linear`).
    """
    task = _task(task_name)
    _check_shapes(task, y, target)
    if task.head == "last_softmax":
        return F.cross_entropy(y, target)
    if task.head == "softmax":
        return F.cross_entropy(y.reshape(-1, y.shape[-1]), target.reshape(-1))
    return ((target - y) ** 2).mean(0).sum()
