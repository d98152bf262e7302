"""Differential test: one random program, run every way the public API offers, must agree.

Programs (``tests/programs.py``) are random DAGs over every row of the rule table (and
``x ** k``), on IEEE edge values (±0, subnormals, ±inf, nan, 1e±300) and ordinary
numbers, plus random layered networks with skip connections for the numpy backend's
layer fusion (on ordinary inputs, or on the edge values). Each is compared:

- eager ``backward()`` vs the Python backend, ``batch=None``: bit-identical, loss and
  every gradient, nan positions and signs of zero included (``same``), on the traced
  call and on a replay at other inputs.
- eager vs the Python backend with ``batch="mean"``/``"sum"`` (1, 3, 7, 16 examples),
  and vs the numpy backend (``batch=None`` too): within the tolerance below, on the
  traced call or on a replay after a call at other examples (of another batch size).
  Eager here is the sum over examples of ``f(x_i).backward(gradient=seed)``, seed 1/n
  for the mean.
- ``jvp`` along a random direction: its value bit-identical to eager's, its slope within
  the tolerance of the reverse-mode gradient's dot product with the direction, where
  every term of that dot product is finite (else inf - inf may come out either way).
- PyTorch float64 running the same program (skipped when torch is not importable);
  where it differs, each op of the run is compared with PyTorch's at its own arguments,
  and every op-level difference must be one named in ``TORCH_DIFFERENCES``.

Why a tolerance, and which: batched and numpy replays sum in another order (over the
batch, in a layer's matrix product; the part of f that depends on no input is
backpropagated once, after summing over the batch), numpy's ``exp``/``log``/``tanh``
/``power`` and PyTorch's kernels may differ from ``math``'s by an ulp, and forward mode
associates the chain rule's products the other way. Each such rounding is a few ulps of
an intermediate, but a program may amplify it without bound (``sin(1e300 * x)``; ``1 -
tanh(x)^2`` near ``|tanh x| = 1``). So the tolerance is measured on the program itself:
eager is run again with every op's (finite, non-zero) result moved by one ulp, in two
patterns, and a result is accepted within ``REL`` of eager's plus ``SPREAD`` times the
largest change those runs showed (or equal to one of them, as at an overflow's edge).
Where the terms of a gradient cancel (exactly, in eager's order: ``w / -w`` over three
examples), another order leaves a residue of an ulp of the terms, so ``REL`` is taken of
the larger of the result and the sum of its terms' magnitudes (each example's gradient,
and each ``|local derivative * output gradient|`` flowing into a parameter).
On a well-conditioned program that is ``REL`` = 1e-9 relative, plus ``ABS`` = 1e-320 for
the subnormal range, where an ulp is 5e-324 and every example's gradient rounds on its own
(eager seeds each example with 1/n: 2w/3 at w = 5e-324 rounds to 5e-324 three times). The
signs of zeros are compared only where bit-identity is claimed.

Known bugs (issue 16) are ``KNOWN_BROKEN``: each has a pinned reproducer marked strict
xfail, and the random tests let only that category's mismatches through, counted by
name with ``hypothesis.event``. Delete an entry when its fix lands: its reproducer and
the random search must then pass. Legitimate differences are named in
``NUMPY_DIFFERENCES``, ``JVP_DIFFERENCES`` and ``TORCH_DIFFERENCES``, each recognised by
what the eager run did (an op at the arguments where the difference lies), and counted
with ``hypothesis.event``; nothing is skipped silently
(``--hypothesis-show-statistics`` lists the counts).

Run ``HYPOTHESIS_PROFILE=thorough python -m pytest tests/compiler/test_differential.py``
for a deeper search.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from programs import TABLE, Network, Program, networks, numbers, ordinary, programs

import autodiff
from autodiff import Rule, Value

# Today's failures (issue 16), one narrow category each. The lead deletes an entry when
# its fix is merged; the strict xfail below then fails until the case passes.
KNOWN_BROKEN: dict[str, str] = {}

# Where the numpy backend legitimately differs from eager (see the README's compile).
NUMPY_DIFFERENCES: dict[str, str] = {
    "numpy-pow-half-is-sqrt": (
        "x ** 0.5 is numpy's square root: nan at -inf and -0.0 at -0.0, where math.pow "
        "gives inf and 0.0 (and x ** -0.5 its reciprocal)"
    ),
}

# Where a batched step (either backend) legitimately differs from eager.
BATCH_DIFFERENCES: dict[str, str] = {
    "mean-seed-underflow": (
        "with batch='mean', eager multiplies each example's gradient by 1/n before it flows "
        "back; the batched replays sum the examples' seeds first. Where 1/n times a gradient "
        "underflows (5e-324 / 3 = 0), eager's result is 0 and the batched one the exact "
        "value: the same as eager's sum over the examples divided by n"
    ),
}

# Where forward mode legitimately differs from reverse mode's dot product.
JVP_DIFFERENCES: dict[str, str] = {
    "jvp-tangent-meets-a-pole": (
        "forward mode multiplies a tangent by each op's local derivative as it goes, so a "
        "zero tangent (masked by relu at 0, or a zero direction) meeting an infinite local "
        "derivative (log, 1/x, sqrt at 0) gives 0 * inf = nan; reverse mode applies the "
        "mask after the inf and gets 0. PyTorch's forward AD gives the same nan (checked "
        "where torch is installed)"
    ),
}

# Where PyTorch's documented kernels differ from ours, op by op.
TORCH_DIFFERENCES: dict[str, str] = {
    "torch-sigmoid-underflow": (
        "sigmoid(x) below x = -708: ours is e^x / (1 + e^x), which keeps the subnormal tail; "
        "PyTorch's 1 / (1 + e^-x) rounds it to 0"
    ),
    "torch-subnormal-power": (
        "x ** k whose value or derivative is subnormal: PyTorch gives 0, C's pow the subnormal"
    ),
    "torch-pow-half-is-sqrt": (
        "x ** ±0.5 at -0.0 and -inf: ours is C's pow (+0.0, +inf; +inf, 0.0), PyTorch's "
        "sqrt / rsqrt (-0.0, nan; -inf, nan)"
    ),
    "torch-tanh-slope-rounding": (
        "d tanh = 1 - tanh(x)^2 cancels where |tanh x| is near 1: PyTorch rounds it otherwise"
    ),
}

# CI: five times the profile's example count, derandomized (the same programs on every
# run, about 200 per test in the default profile); HYPOTHESIS_PROFILE=thorough searches
# afresh with 5000 per test.
DIFFERENTIAL = settings(
    max_examples=5 * settings.default.max_examples,
    derandomize=os.environ.get("HYPOTHESIS_PROFILE", "autodiff") != "thorough",
    suppress_health_check=[HealthCheck.too_slow],
)

REL = 1e-9
SPREAD = 8.0
ABS = 1e-320  # a few thousand ulps of the subnormal range, where an ulp is 5e-324
BATCH_SIZES = (1, 3, 7, 16)


def broken(category: str) -> Any:
    """Strict xfail while ``category`` is in KNOWN_BROKEN; a plain test once it is not."""
    if category in KNOWN_BROKEN:
        return pytest.mark.xfail(strict=True, reason=KNOWN_BROKEN[category])
    return lambda test: test


def mismatch(category: str | None, message: str) -> None:
    """Fail, unless the mismatch belongs to a known-broken category (then count it)."""
    if category in KNOWN_BROKEN:
        event(f"known broken: {category}")
        return
    raise AssertionError(message)


# Comparing floats


def same(a: float, b: float) -> bool:
    """Bit-identical up to nan's payload: nan == nan, and 0.0 != -0.0."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def close(got: float, expected: float, nudged: Sequence[float], size: float = 0.0) -> bool:
    """``got`` within REL of ``expected`` (or of ``size``, the sum of its terms' magnitudes
    over the examples) plus SPREAD times the nudged runs' spread (see the module
    docstring), or equal to one of those runs; the sign of zero is not compared."""
    if got == expected or same(got, expected) or any(same(got, n) for n in nudged):
        return True
    if not (math.isfinite(got) and math.isfinite(expected)):
        return False
    spread = max((abs(n - expected) for n in nudged if math.isfinite(n)), default=0.0)
    scale = max(abs(expected), size if math.isfinite(size) else 0.0)
    return abs(got - expected) <= REL * scale + SPREAD * spread + ABS


# Running a program eagerly (the reference), with and without nudges


def _nudger(pattern: int) -> Callable[[Value], None]:
    """Move each op's finite non-zero result by one ulp, up or down by a fixed pattern."""
    count = [0]

    def nudge(v: Value) -> None:
        count[0] += 1
        if math.isfinite(v.data) and v.data != 0.0:
            up = (count[0] + pattern) % 2 == 0
            v.data = math.nextafter(v.data, math.inf if up else -math.inf)

    return nudge


class Result:
    """Loss, parameter gradients and input gradients (per example) of one run; ``sizes``:
    the sum over the examples of the magnitude of each one's loss and gradients."""

    def __init__(
        self,
        loss: float,
        grads: list[float],
        input_grads: list[list[float]],
        sizes: list[float] | None = None,
    ):
        self.loss = loss
        self.grads = grads
        self.input_grads = input_grads
        self.sizes = sizes or [0.0] * (1 + len(grads))


def eager(
    f: Callable[..., Value],
    params: Sequence[float],
    examples: Sequence[Sequence[float]],
    mode: str | None = None,
    nudge: Callable | None = None,
) -> Result:
    """sum_i f(x_i).backward(gradient=seed), seed 1/n for the mean (1 otherwise)."""
    ps = [Value(p) for p in params]
    seed = 1.0 / len(examples) if mode == "mean" else 1.0
    losses, input_grads = [], []
    sizes = [0.0] * (1 + len(ps))
    for xs in examples:
        inputs = [Value(x) for x in xs]
        calls: list = []
        out = f(inputs, ps, nudge, calls)
        before = [p.grad for p in ps]
        out.backward(gradient=seed)
        losses.append(out.data)
        input_grads.append([x.grad for x in inputs])
        terms = [out.data * seed] + [p.grad - b for p, b in zip(ps, before, strict=True)]
        sizes = [a + abs(t) for a, t in zip(sizes, terms, strict=True)]
        if not calls:  # a Network records none: read each op off the graph it built
            calls = [
                (v._rule, [u.data for u in v.inputs], None, list(v.inputs), v)
                for v in autodiff.topological_order(out)
                if v.inputs
            ]
        for k, size in _terms_into_parameters(calls, ps).items():
            sizes[1 + k] += size
    total = losses[0]  # not 0.0 + ...: that would turn a loss of -0.0 into 0.0
    for loss in losses[1:]:
        total += loss
    loss = total / len(examples) if mode == "mean" else total
    return Result(loss, [p.grad for p in ps], input_grads, sizes)


def _terms_into_parameters(calls: list, ps: list[Value]) -> dict[int, float]:
    """Per parameter, the sum of |local derivative * output gradient| over the ops that
    read it: the size of the terms its gradient adds up, which may cancel exactly in one
    example and leave a rounding residue when summed in another order."""
    index = {id(p): k for k, p in enumerate(ps)}
    sizes: dict[int, float] = {}
    for rule, floats, _, args, out in calls:
        if not any(id(a) in index for a in args):
            continue
        fresh = [Value(x) for x in floats]
        rule(*fresh).backward()
        for a, local in zip(args, fresh, strict=True):
            k = index.get(id(a))
            term = abs(local.grad * out.grad)
            if k is not None and math.isfinite(term):
                sizes[k] = sizes.get(k, 0.0) + term
    return sizes


def reference(f, params, examples, mode=None) -> tuple[Result, list[Result]]:
    """Eager, and eager with its ops nudged by an ulp (two patterns)."""
    runs = [eager(f, params, examples, mode, _nudger(k)) for k in (0, 1)]
    return eager(f, params, examples, mode), runs


def compiled(
    f: Callable[..., Value],
    params: Sequence[float],
    examples: Sequence[Sequence[float]],
    mode: str | None,
    backend: str,
    made: list | None = None,
    traced_on: Sequence[Sequence[float]] | None = None,
) -> tuple[float, list[float]]:
    """The compiled step's loss and gradients on ``examples``: traced on them, or first
    called on ``traced_on`` (then the gradients are zeroed and ``examples`` replayed).
    The step is appended to ``made``."""
    ps = [Value(p) for p in params]
    step = autodiff.compile(lambda *xs: f(xs, ps, None), params=ps, batch=mode, backend=backend)
    if made is not None:
        made.append(step)

    def call(examples: Sequence[Sequence[float]]) -> float:
        if mode is None:
            (xs,) = examples
            return step(*xs)
        return step(*[list(column) for column in zip(*examples, strict=True)])

    if traced_on is not None:
        call(traced_on)
        for p in ps:
            p.grad = 0.0
    loss = call(examples)
    return loss, [p.grad for p in ps]


def _traced_on(data: st.DataObject, n_inputs: int, batched: bool) -> list[list[float]] | None:
    """None (trace on the examples compared), or other examples to trace on first."""
    if not data.draw(st.booleans(), label="replay"):
        return None
    n = data.draw(st.sampled_from(BATCH_SIZES), label="traced batch size") if batched else 1
    return _examples(data, n_inputs, n)


def _run(program: Program | Network) -> Callable[..., Value]:
    if isinstance(program, Network):
        return lambda xs, ps, nudge, calls=None: program(xs, ps, nudge)
    return lambda xs, ps, nudge, calls=None: program(xs, ps, nudge, calls)


def _examples(data: st.DataObject, n_inputs: int, n: int, values=numbers) -> list[list[float]]:
    row = st.lists(values, min_size=n_inputs, max_size=n_inputs)
    return data.draw(st.lists(row, min_size=n, max_size=n), label="examples")


# eager vs the Python backend: bit for bit


@DIFFERENTIAL
@given(programs(), st.data())
def test_python_backend_is_bit_identical_to_eager(program, data):
    first = _examples(data, program.n_inputs, 1)
    later = _examples(data, program.n_inputs, 1)
    ps = [Value(p) for p in program.params]
    step = autodiff.compile(lambda *xs: program(xs, ps), params=ps)
    for xs in (first, later):  # the traced call, then a replay at other inputs
        expected = eager(_run(program), program.params, xs)
        for p in ps:
            p.grad = 0.0
        loss = step(*xs[0])
        note(f"inputs {xs[0]}: eager {expected.loss} {expected.grads}")
        assert same(loss, expected.loss), (loss, expected.loss)
        for got, want in zip([p.grad for p in ps], expected.grads, strict=True):
            assert same(got, want), (got, want)


# a step on a parameter array (value_and_grad) vs the same step on Values: bit for bit


@DIFFERENTIAL
@given(
    st.one_of(programs(), networks()),
    st.sampled_from([None, "mean", "sum"]),
    st.sampled_from(["python", "numpy"]),
    st.sampled_from(BATCH_SIZES),
    st.data(),
)
def test_value_and_grad_on_an_array_is_the_call_on_values(program, mode, backend, n, data):
    """value_and_grad(theta) runs the program at parameters theta and returns what the
    Values call returns after zero_grad, and reads and writes no Value."""
    np = pytest.importorskip("numpy")
    examples = _examples(data, program.n_inputs, 1 if mode is None else n)
    theta = data.draw(st.lists(numbers, min_size=len(program.params),
                               max_size=len(program.params)), label="theta")  # fmt: skip
    ps = [Value(p) for p in program.params]
    run = _run(program)
    step = autodiff.compile(lambda *xs: run(xs, ps, None), params=ps, batch=mode, backend=backend)
    if mode is None:
        args: list[Any] = list(examples[0])
    else:
        args = [np.array(column) for column in zip(*examples, strict=True)]
    step(*[a.tolist() if hasattr(a, "tolist") else a for a in args])  # trace
    before = [(p.data, p.grad) for p in ps]
    loss, grads = step.value_and_grad(*args, theta=np.array(theta))
    assert all(p.data is d and p.grad is g for p, (d, g) in zip(ps, before, strict=True))
    for p, t in zip(ps, theta, strict=True):
        p.data, p.grad = t, 0.0
    expected = step(*[a.tolist() if hasattr(a, "tolist") else a for a in args])
    assert same(loss, expected), (loss, expected)
    assert grads.shape == (len(ps),)
    for got, want in zip(grads.tolist(), [p.grad for p in ps], strict=True):
        assert same(got, want), (got, want)


# eager vs the batched backends and numpy: within the tolerance


def _check_close(got, expected: Result, nudged: list[Result], categorise) -> None:
    loss, grads = got
    pairs = [("loss", loss, expected.loss, [r.loss for r in nudged])]
    for k, (g, e) in enumerate(zip(grads, expected.grads, strict=True)):
        pairs.append((f"grad {k}", g, e, [r.grads[k] for r in nudged]))
    for (what, g, e, n), size in zip(pairs, expected.sizes, strict=True):
        if not close(g, e, n, size):
            mismatch(categorise(g, e), f"{what}: got {g!r}, eager {e!r} (nudged {n})")
            return


def _batch_categorise(program: Program, backend: str):
    def categorise(got: float, expected: float) -> str | None:
        if math.isfinite(expected) and not math.isfinite(got):
            return "batch-hoisting-nonfinite"
        if math.isnan(expected) and not math.isnan(got):
            return "batch-hoisting-from-nonfinite"
        if backend == "numpy" and math.isinf(expected) and math.isnan(got):
            return "numpy-batch-sum-overflow"
        if backend == "numpy" and any(s.rule.name == "**0" for s in program.steps):
            return "numpy-constant-forward"
        return None

    return categorise


@DIFFERENTIAL
@given(programs(), st.sampled_from(["mean", "sum"]), st.sampled_from(BATCH_SIZES), st.data())
def test_python_backend_batched_matches_eager(program, mode, n, data):
    examples = _examples(data, program.n_inputs, n)
    expected, nudged = reference(_run(program), program.params, examples, mode)
    first = _traced_on(data, program.n_inputs, True)
    got = compiled(_run(program), program.params, examples, mode, "python", traced_on=first)
    try:
        _check_close(got, expected, nudged, _batch_categorise(program, "python"))
    except AssertionError:
        if not _mean_seed_underflow(program, examples, mode, got):
            raise
        event("documented difference: mean-seed-underflow")  # named in BATCH_DIFFERENCES


def _mean_seed_underflow(program: Program, examples: list[list[float]], mode, got) -> bool:
    """Whether ``got`` is eager's sum over the examples divided by n, where eager's mean
    differs (its 1/n seed underflowed somewhere): BATCH_DIFFERENCES' mean-seed-underflow."""
    if mode != "mean":
        return False
    n = len(examples)
    summed, nudged = reference(_run(program), program.params, examples, "sum")

    def scaled(r: Result) -> Result:
        return Result(r.loss / n, [g / n for g in r.grads], r.input_grads, [z / n for z in r.sizes])

    try:
        _check_close(got, scaled(summed), [scaled(r) for r in nudged], lambda g, e: None)
    except AssertionError:
        return False
    return True


def _numpy_difference(program: Program, examples: list[list[float]]) -> str | None:
    """The NUMPY_DIFFERENCES name if some op of the eager run hits one, else None."""
    for xs in examples:
        calls: list = []
        program([Value(x) for x in xs], [Value(p) for p in program.params], None, calls)
        for rule, args, *_ in calls:
            if rule.name in ("**0.5", "**-0.5") and (args[0] == -math.inf or same(args[0], -0.0)):
                return "numpy-pow-half-is-sqrt"
    return None


@DIFFERENTIAL
@given(programs(), st.sampled_from([None, "mean", "sum"]), st.sampled_from(BATCH_SIZES), st.data())
def test_numpy_backend_matches_eager(program, mode, n, data):
    pytest.importorskip("numpy")
    examples = _examples(data, program.n_inputs, 1 if mode is None else n)
    expected, nudged = reference(_run(program), program.params, examples, mode)
    first = _traced_on(data, program.n_inputs, mode is not None)
    got = compiled(_run(program), program.params, examples, mode, "numpy", traced_on=first)
    categorise = _batch_categorise(program, "numpy")

    def numpy_categorise(g: float, e: float) -> str | None:
        return categorise(g, e) if mode is not None else None

    try:
        _check_close(got, expected, nudged, numpy_categorise)
    except AssertionError:
        if _mean_seed_underflow(program, examples, mode, got):
            event("documented difference: mean-seed-underflow")  # BATCH_DIFFERENCES
            return
        difference = _numpy_difference(program, examples)
        if difference is None:
            raise
        event(f"documented difference: {difference}")  # named in NUMPY_DIFFERENCES


@DIFFERENTIAL
@given(networks(), st.sampled_from(["mean", "sum"]), st.sampled_from(BATCH_SIZES), st.data())
def test_numpy_layer_fusion_matches_eager_on_random_networks(network, mode, n, data):
    pytest.importorskip("numpy")
    special = data.draw(st.booleans(), label="IEEE edge values")  # else ordinary inputs
    examples = _examples(data, network.n_inputs, n, numbers if special else st.floats(-2, 2))
    expected, nudged = reference(_run(network), network.params, examples, mode)
    python = compiled(_run(network), network.params, examples, mode, "python")
    _check_close(python, expected, nudged, lambda g, e: None)
    made: list = []
    try:
        got = compiled(_run(network), network.params, examples, mode, "numpy", made)
    except (ValueError, TypeError, IndexError) as exc:
        mismatch("numpy-fusion-error", f"numpy backend raised {exc!r} on a valid network")
        return
    event("fused into matrix products" if " @ " in made[0].source else "not fused")
    _check_close(got, expected, nudged, lambda g, e: None)


# jvp vs the reverse-mode gradient


@DIFFERENTIAL
@given(programs(), st.data())
def test_jvp_equals_the_gradient_dotted_with_the_direction(program, data):
    (xs,) = _examples(data, program.n_inputs, 1)
    v = data.draw(st.lists(ordinary, min_size=len(xs), max_size=len(xs)), label="direction")
    ps = [Value(p) for p in program.params]
    value, slope = autodiff.jvp(lambda *a: program(a, ps), xs, v)
    expected, nudged = reference(_run(program), program.params, [xs])
    assert same(value, expected.loss), (value, expected.loss)

    def dot(r: Result) -> float:
        return math.fsum(vi * gi for vi, gi in zip(v, r.input_grads[0], strict=True))

    terms = [vi * gi for vi, gi in zip(v, expected.input_grads[0], strict=True)]
    if not all(math.isfinite(t) for t in terms):
        event("jvp: reverse-mode dot product not finite, not compared")
        return  # inf - inf in either order: forward mode may legitimately differ
    want = dot(expected)
    nudged_dots = [dot(r) for r in nudged]
    if close(slope, want, nudged_dots):
        return
    # the known bug: an op with an infinite local derivative in an argument that depends
    # on no input (a parameter, a constant) passes it on as inf * 0 = nan
    message = f"jvp {slope!r}, reverse mode {want!r}"
    fixed_pole, varying_pole = _poles(program, xs)
    if math.isnan(slope) and fixed_pole:
        mismatch("jvp-fixed-slot-tangent", message)
        return
    assert math.isnan(slope) and varying_pole, message
    torch_slope = _torch_jvp(program, xs, v)
    assert torch_slope is None or math.isnan(torch_slope), f"{message}, PyTorch {torch_slope!r}"
    event("documented difference: jvp-tangent-meets-a-pole")


def _poles(program: Program, xs: list[float]) -> tuple[bool, bool]:
    """Has an op of the eager run an infinite (or nan) local derivative in an argument
    that depends on no input; in one that does?"""
    calls: list = []
    program([Value(x) for x in xs], [Value(p) for p in program.params], None, calls)
    fixed = varying = False
    for rule, args, flags, *_ in calls:
        ins = [Value(a) for a in args]
        rule(*ins).backward()
        for v, depends in zip(ins, flags, strict=True):
            if not math.isfinite(v.grad):
                varying, fixed = varying or depends, fixed or not depends
    return fixed, varying


def _torch_jvp(program: Program, xs: list[float], v: list[float]) -> float | None:
    """PyTorch's forward-mode directional derivative, or None without torch."""
    try:
        import torch
    except ImportError:
        return None

    def f(*inputs: Any) -> Any:
        params = [torch.tensor(p, dtype=torch.float64) for p in program.params]
        nodes = [*inputs, *params, *(torch.tensor(c, dtype=torch.float64) for c in program.consts)]
        for step in program.steps:
            args = [nodes[-1 - a % len(nodes)] if isinstance(a, int) else a for a in step.args]
            nodes.append(_torch_apply(torch, step.rule, args))
        return nodes[-1]

    def tensors(values: list[float]) -> tuple[Any, ...]:
        return tuple(torch.tensor(x, dtype=torch.float64) for x in values)

    return torch.func.jvp(f, tensors(xs), tensors(v))[1].item()


# PyTorch float64


def _torch_ops(torch: Any) -> dict[str, Callable[..., Any]]:
    return {
        "+": torch.add,
        "-": torch.sub,
        "*": torch.mul,
        "/": torch.div,
        "**": torch.pow,
        "neg": torch.neg,
        "abs": torch.abs,
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "sin": torch.sin,
        "cos": torch.cos,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "logaddexp": torch.logaddexp,
    }


def test_every_rule_of_the_table_has_a_pytorch_counterpart():
    torch = pytest.importorskip("torch")
    missing = [r.name for r in TABLE if r.name not in _torch_ops(torch)]
    assert not missing, f"add the PyTorch op for {missing} to _torch_ops"


def _torch_apply(torch: Any, rule: Rule, args: list[Any]) -> Any:
    if rule.arity == 1 and rule.name.startswith("**"):
        return torch.pow(args[0], float(rule.name[2:]))
    tensors = [a if torch.is_tensor(a) else torch.tensor(a, dtype=torch.float64) for a in args]
    return _torch_ops(torch)[rule.name](*tensors)


def _torch_run(torch: Any, program: Program, xs: list[float]) -> tuple[Result, list[tuple]]:
    """PyTorch's loss and gradients, and every op's (rule, argument floats) on the way."""

    def leaf(x: float, grad: bool) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=grad)

    inputs = [leaf(x, True) for x in xs]
    params = [leaf(p, True) for p in program.params]
    nodes = [*inputs, *params, *(leaf(c, False) for c in program.consts)]
    calls = []
    for step in program.steps:
        args = [nodes[-1 - a % len(nodes)] if isinstance(a, int) else a for a in step.args]
        calls.append((step.rule, [a.item() if torch.is_tensor(a) else a for a in args]))
        nodes.append(_torch_apply(torch, step.rule, args))
    out = nodes[-1]
    leaves = [t for t in (*inputs, *params) if t.requires_grad]
    if out.requires_grad:
        grads = torch.autograd.grad(out, leaves, allow_unused=True)
    else:
        grads = [None] * len(leaves)
    values = [0.0 if g is None else g.item() for g in grads]
    return Result(out.item(), values[len(inputs) :], [values[: len(inputs)]]), calls


def _torch_op_difference(torch: Any, rule: Rule, args: list[float]) -> str | None:
    """The TORCH_DIFFERENCES name for one op at these floats, or None if they agree."""
    ours_in = [Value(a) for a in args]
    out = rule(*ours_in)
    out.backward()
    theirs_in = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    t = _torch_apply(torch, rule, theirs_in)
    t.backward()
    pairs = [(out.data, t.item())] + [
        (v.grad, 0.0 if w.grad is None else w.grad.item())
        for v, w in zip(ours_in, theirs_in, strict=True)
    ]
    # a leaf's .grad starts at 0.0 and adds (0.0 + -0.0 = 0.0), PyTorch stores the first
    # gradient as it is: zeros of gradients are compared without their sign
    forward_agrees = same(*pairs[0]) or _within_an_ulp_or_so(*pairs[0])
    if forward_agrees and all(a == b or _agree(a, b) for a, b in pairs[1:]):
        return None
    name = rule.name
    if name == "sigmoid" and args[0] < -708.0:
        return "torch-sigmoid-underflow"
    if name in ("**0.5", "**-0.5") and (args[0] == -math.inf or same(args[0], -0.0)):
        return "torch-pow-half-is-sqrt"
    if name.startswith("**") and any(
        0.0 < abs(a) < 2.2250738585072014e-308 and b == 0.0 for a, b in pairs
    ):
        return "torch-subnormal-power"
    if name == "tanh" and abs(out.data) > 0.9:
        return "torch-tanh-slope-rounding"
    return f"undocumented: {name}{tuple(args)} ours {pairs}"


def _agree(a: float, b: float) -> bool:
    return same(a, b) or _within_an_ulp_or_so(a, b)


def _within_an_ulp_or_so(a: float, b: float) -> bool:
    finite = math.isfinite(a) and math.isfinite(b) and a != 0.0 and b != 0.0
    return finite and abs(a - b) <= 4e-16 * abs(b)


@DIFFERENTIAL
@given(programs(), st.data())
def test_pytorch_float64_agrees_or_differs_only_where_documented(program, data):
    torch = pytest.importorskip("torch")
    (xs,) = _examples(data, program.n_inputs, 1)
    expected, nudged = reference(_run(program), program.params, [xs])
    theirs, calls = _torch_run(torch, program, xs)
    pairs = [("loss", theirs.loss, expected.loss, [r.loss for r in nudged])]
    for k, (g, e) in enumerate(zip(theirs.grads, expected.grads, strict=True)):
        pairs.append((f"param grad {k}", g, e, [r.grads[k] for r in nudged]))
    for k, (g, e) in enumerate(zip(theirs.input_grads[0], expected.input_grads[0], strict=True)):
        pairs.append((f"input grad {k}", g, e, [r.input_grads[0][k] for r in nudged]))
    bad = [(what, g, e) for what, g, e, n in pairs if not close(g, e, n)]
    if not bad:
        return
    names = {_torch_op_difference(torch, rule, args) for rule, args in calls} - {None}
    undocumented = [n for n in names if n not in TORCH_DIFFERENCES]
    assert names and not undocumented, f"PyTorch differs: {bad}; op by op: {names or 'none'}"
    for name in names:
        event(f"documented difference: {name}")


# The known failures, pinned: each must pass once its KNOWN_BROKEN entry is deleted.


@broken("numpy-constant-forward")
def test_numpy_batch_with_a_constant_forward_op_returns_the_mean():
    pytest.importorskip("numpy")
    w = Value(2.0)
    step = autodiff.compile(lambda x: w * x**0.0, batch="mean", backend="numpy")
    assert step([1.0, 2.0, 3.0]) == 2.0  # w * 1 for each example
    assert w.grad == 1.0


@broken("numpy-fusion-error")
def test_numpy_fusion_of_a_layer_reading_an_input_then_an_activation():
    pytest.importorskip("numpy")
    w = [Value(0.1 * (k + 1)) for k in range(5)]

    def f(a, b):  # the second layer reads (a, h): the input listed first, then layer 1
        return w[2] * a + w[4] * (w[0] * a + w[1] * b).tanh()

    examples = [(0.5, -1.0), (2.0, 0.3)]
    expected_loss = 0.0
    for a, b in examples:  # eager: each example's backward accumulates into w's grads
        out = f(Value(a), Value(b))
        out.backward()
        expected_loss += out.data
    expected = [p.grad for p in w]
    for p in w:
        p.grad = 0.0
    step = autodiff.compile(f, params=w, batch="sum", backend="numpy")
    loss = step([a for a, _ in examples], [b for _, b in examples])
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert [p.grad for p in w] == pytest.approx(expected, rel=1e-12)


@broken("jvp-fixed-slot-tangent")
def test_jvp_with_a_parameter_of_infinite_slope_is_finite():
    w = Value(0.0)
    assert autodiff.jvp(lambda x: x + w.sqrt(), [1.0], [1.0]) == (1.0, 1.0)


@broken("duplicate-params")
def test_a_parameter_listed_twice_counts_once():
    w = Value(3.0)
    step = autodiff.compile(lambda x: w * x * x, params=[w, w])
    assert step(3.0) == 27.0
    assert w.grad == 9.0


@broken("batch-hoisting-nonfinite")
@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_batch_hoisting_keeps_a_finite_eager_gradient_finite(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    w = Value(1.0)
    step = autodiff.compile(lambda x: x * (w * 1e-10), batch="sum", backend=backend)
    step([1e308, 1e308])
    # eager: each example's local derivative 1e-10 times its upstream 1e308, summed
    assert w.grad == 1e-10 * 1e308 + 1e-10 * 1e308


@broken("batch-hoisting-from-nonfinite")
@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_batch_hoisting_keeps_eagers_nan(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    w = Value(0.0)
    step = autodiff.compile(lambda x: x * -w.log(), batch="sum", backend=backend)
    step([0.0, 1e-310])
    assert math.isnan(w.grad)  # eager: -0.0 / 0.0 in the first example


@broken("numpy-batch-sum-overflow")
def test_numpy_batch_sums_do_not_overflow_where_eager_does_not():
    pytest.importorskip("numpy")
    w = [Value(0.0), Value(0.5), Value(0.0)]

    def f(x):  # a layer over (w0 x, w0 x + x) with bias w0
        z = w[0] + w[1] * (w[0] * x + x) + w[2] * (w[0] * x)
        return z * z

    step = autodiff.compile(f, params=w, batch="sum", backend="numpy")
    step([0.0, -1e300, -1.7976931348623157e308])
    # eager: w0's -1e300 (bias) and +inf (through w1) in the second example: inf
    assert w[0].grad == math.inf


@broken("numpy-input-validation")
@pytest.mark.parametrize("bad", ["3", b"3", True, None], ids=repr)
def test_numpy_backend_refuses_what_the_python_backend_refuses(bad):
    pytest.importorskip("numpy")
    w = Value(1.0)
    step = autodiff.compile(lambda x: w * x, backend="numpy")
    step(1.0)
    with pytest.raises(autodiff.TraceError, match="expected a number"):
        step(bad)


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_a_mean_seed_that_underflows_in_eager_is_exact_in_a_batch(backend):
    # BATCH_DIFFERENCES' mean-seed-underflow: eager's seed 1/3 times 5e-324 underflows to
    # 0 in every example; a batch sums the seeds (1.0) before it flows back
    if backend == "numpy":
        pytest.importorskip("numpy")
    w = Value(0.0)
    step = autodiff.compile(lambda x: (w * 1e300) * 5e-324 + x, batch="mean", backend=backend)
    step([0.0, 0.0, 0.0])
    expected = eager(lambda xs, ps, nudge, calls=None: (ps[0] * 1e300) * 5e-324 + xs[0],
                     [0.0], [[0.0]] * 3, "mean")  # fmt: skip
    assert expected.grads == [0.0]
    assert w.grad == 1e300 * 5e-324  # 4.9e-24, the sum over the examples divided by 3
