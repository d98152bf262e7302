"""Answers that were wrong without an error (issue 16, item 4), each checked against eager."""

import gc
import linecache
import math
import random

import pytest
from test_compile import _compiled

import autodiff
from autodiff import Rule, TraceError, Value
from autodiff.core import floats, rules

BACKENDS = ["python", "numpy"]


def _backend(name):
    if name == "numpy":
        pytest.importorskip("numpy")
    return name


def _batch_eager(f, params, mode, *columns):
    """Eager mean (sum) over the examples: one graph, one backward."""
    autodiff.zero_grad(params)
    losses = [f(*[Value(a) for a in example]) for example in zip(*columns, strict=True)]
    total = sum(losses[1:], losses[0])
    loss = total / len(losses) if mode == "mean" else total
    loss.backward()
    return loss.data, [p.grad for p in params]


def _close(got, expected, rel=1e-12):
    (loss, grads), (loss_e, grads_e) = got, expected
    scale = max([abs(g) for g in grads_e] + [abs(loss_e), 1e-300])
    pairs = [(loss, loss_e), *zip(grads, grads_e, strict=True)]
    return all(a == b or abs(a - b) <= rel * scale for a, b in pairs)


ONE = Rule("one", lambda x: 1.0, lambda x, out: (0.0,))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["mean", "sum"])
@pytest.mark.parametrize(
    "f_of", [lambda w: lambda x: w * x**0.0, lambda w: lambda x: w * ONE(x)], ids=["pow0", "rule"]
)
def test_a_constant_forward_on_the_output_path_is_one_value_per_example(backend, mode, f_of):
    w = Value(2.0)
    f = f_of(w)
    step = autodiff.compile(f, batch=mode, backend=_backend(backend))
    got = _compiled(step, [w], [1.0, 2.0, 3.0])
    assert got == _batch_eager(f, [w], mode, [1.0, 2.0, 3.0])
    assert got[0] == (2.0 if mode == "mean" else 6.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_constant_forward_as_a_layers_activation_runs_fused(backend):
    W = [Value(0.5), Value(-1.0), Value(0.25)]

    def f(x):
        h = [ONE(W[0] * x + W[1] * (x * x)), ONE(W[1] * x + W[2] * (x * x))]
        return h[0] * W[0] + h[1] ** 0.0 * W[2] + (W[0] * x + W[2] * x).relu() ** 0.0

    step = autodiff.compile(f, batch="sum", backend=_backend(backend))
    expected = _batch_eager(f, W, "sum", [1.0, 2.0, -3.0])
    assert _compiled(step, W, [1.0, 2.0, -3.0]) == expected
    assert expected == (3 * (0.5 + 0.25 + 1.0), [3.0, 0.0, 3.0])


def _net(kind, activated):
    """Small layered networks that numpy's layer fusion must run exactly (or not fuse)."""
    rng = random.Random(kind)
    cache = {}

    def weights(key, n):
        if key not in cache:
            cache[key] = [Value(rng.uniform(-1, 1)) for _ in range(n + 1)]
        return cache[key]

    def neuron(key, xs):
        w = weights(key, len(xs))
        return sum((wi * xi for wi, xi in zip(w[:-1], xs, strict=True)), w[-1])

    def f(a, b, c):
        x = [a, b, c]
        h = [neuron(("h", j), x).relu() for j in range(4)]
        if kind == "skip, inputs first":
            z = [neuron(("z", j), x + h).tanh() for j in range(3)]
        elif kind == "prefix of activations":
            z = [neuron(("z", j), h[:3]) for j in range(3)]
        elif kind == "h[2] + z":
            z = [h[2] + neuron(("z", j), h) for j in range(3)]
        elif kind == "z + h[2]":
            z = [neuron(("z", j), h) + h[2] for j in range(3)]
        elif kind == "reuse":
            z = [neuron(("z", j), [h[0], h[1], h[0], h[3]]).relu() for j in range(3)]
            z += [neuron(("z", 9), h)]
        else:  # reversed activations
            z = [neuron(("z", j), h[::-1]).relu() for j in range(3)]
        if activated:  # the z's are a layer of their own, and h[3] is used
            return sum((zj.tanh() for zj in z), h[3] * 0.5) * 0.5
        return sum(z, Value(0.0)) * 0.5

    return f, cache


KINDS = ["skip, inputs first", "prefix of activations", "h[2] + z", "z + h[2]", "reuse", "rev"]


@pytest.mark.parametrize("activated", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_numpy_layer_fusion_is_exact_on_skips_prefixes_and_reuse(kind, activated):
    pytest.importorskip("numpy")
    f, cache = _net(kind, activated)
    rng = random.Random(1)
    columns = [[rng.uniform(-2, 2) for _ in range(9)] for _ in range(3)]
    f(*[c[0] for c in columns])  # makes the weights
    params = [p for w in cache.values() for p in w]
    expected = _batch_eager(f, params, "sum", *columns)
    got = _compiled(
        autodiff.compile(f, params=params, batch="sum", backend="numpy"), params, *columns
    )
    assert _close(got, expected)
    assert any(g != 0.0 for g in expected[1])


def test_jvp_carries_no_tangent_into_slots_that_depend_on_no_input():
    w = Value(0.0)
    # d/dx (x + sqrt(w)) along 0.5: 0.5; sqrt's slope at w = 0 is inf, never multiplied
    assert autodiff.jvp(lambda x: x + w.sqrt(), [1.0], [0.5]) == (1.0, 0.5)
    assert autodiff.jvp(lambda x: x * w.log().exp(), [3.0], [1.0]) == (0.0, 0.0)
    # a slot that depends on an input keeps IEEE products (PyTorch: inf * 0 = nan)
    value, tangent = autodiff.jvp(lambda x, y: x.sqrt() + y, [0.0, 1.0], [0.0, 1.0])
    assert value == 1.0 and math.isnan(tangent)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["mean", "sum"])
def test_batch_hoisting_never_turns_a_finite_gradient_into_inf(backend, mode):
    w = Value(1.0)

    def f(x):
        return x * (w * 1e-10)

    step = autodiff.compile(f, batch=mode, backend=_backend(backend))
    expected = _batch_eager(f, [w], mode, [1e308, 1e308])
    assert expected[1] == [pytest.approx(2e298 if mode == "sum" else 1e298, rel=1e-15)]
    got = _compiled(step, [w], [1e308, 1e308])
    assert got[1] == pytest.approx(expected[1], rel=1e-15)
    assert math.isfinite(got[1][0])
    # and the next, ordinary call still takes the hoisted path with the same answer
    assert _compiled(step, [w], [1.0, 3.0])[1] == _batch_eager(f, [w], mode, [1.0, 3.0])[1]


def test_a_failed_numpy_build_fails_the_same_way_on_every_call():
    pytest.importorskip("numpy")
    clip = Rule("clip", lambda x: min(max(x, -1.0), 1.0), lambda x, out: (float(-1 < x < 1),))
    w = Value(1.0)
    step = autodiff.compile(lambda x: clip(w * x), backend="numpy")
    for _ in range(3):
        with pytest.raises(TraceError, match="'clip'"):
            step(0.5)
    assert step.tape is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_generated_sources_are_released_with_their_step(backend):
    w = Value(1.0)

    def ours():
        return [k for k in linecache.cache if k.startswith("<autodiff")]

    gc.collect()
    before = len(ours())
    steps = [autodiff.compile(lambda x: x * w + w * w, batch="sum", backend=_backend(backend))]
    steps += [autodiff.compile(lambda x: x * w, grad=False, backend=_backend(backend))]
    steps += [autodiff.compile(lambda x: (x * w).tanh(), backend=_backend(backend))]
    steps[0]([1.0, 2.0])
    steps[1](3.0)
    steps[2](3.0)
    assert len(ours()) == before + 3
    del steps
    gc.collect()
    assert len(ours()) == before


def _random_net(seed):
    """A random layered network: skips (inputs first or last), prefixes, a reused input,
    reversed inputs, an extra term before or after a neuron's sum, mixed activations."""
    rng = random.Random(seed)
    n_in = rng.randint(2, 4)
    specs = [
        (rng.randint(1, 4), *(rng.random() < p for p in (0.4, 0.5, 0.3, 0.2, 0.2)))
        + (rng.choice(["relu", "tanh", None]), rng.choice([None, "pre", "post"]))
        for _ in range(rng.randint(1, 3))
    ]
    cache = {}

    def f(*x):
        h = list(x)
        for k, (width, skip, first, prefix, reuse, flip, act, extra) in enumerate(specs):
            src = (list(x) + h if first else h + list(x)) if skip and k else h
            src = src[:-1] if prefix and len(src) > 2 else src
            src = src + [src[0]] if reuse else src
            src = src[::-1] if flip else src
            out = []
            for j in range(width):
                w = cache.setdefault(
                    (k, j), [Value(rng.uniform(-1, 1)) for _ in range(len(src) + 1)]
                )
                z = sum((wi * s for wi, s in zip(w[:-1], src, strict=True)), w[-1])
                z = src[j % len(src)] + z if extra == "pre" else z + src[-1] if extra else z
                out.append(getattr(z, act)() if act else z)
            h = out
        return sum(h, Value(0.0)) * 0.5

    return f, n_in, cache


def test_numpy_layer_fusion_matches_eager_on_random_layered_networks():
    pytest.importorskip("numpy")
    for seed in range(120):
        f, n_in, cache = _random_net(seed)
        rng = random.Random(seed)
        columns = [[rng.uniform(-2, 2) for _ in range(5)] for _ in range(n_in)]
        f(*[c[0] for c in columns])
        params = [p for w in cache.values() for p in w]
        expected = _batch_eager(f, params, "sum", *columns)
        step = autodiff.compile(f, params=params, batch="sum", backend="numpy")
        assert _close(_compiled(step, params, *columns), expected, rel=1e-11), seed


@pytest.mark.parametrize("missing", ["sigmoid", "log", "power"])
def test_a_function_numpy_has_no_lowering_for_runs_entry_by_entry_exactly(missing, monkeypatch):
    pytest.importorskip("numpy")
    from autodiff.compiler import numpy_backend

    monkeypatch.delitem(numpy_backend.NUMPY, missing)
    w = Value(0.75)

    def f(x):
        return (w * x).sigmoid() + (x * x + w).log() + (w + x * x) ** 1.5

    xs = [-2.0, -0.5, 0.0, 0.25, 3.0]
    for mode in ("mean", "sum"):
        step = autodiff.compile(f, batch=mode, backend="numpy")
        got = _compiled(step, [w], xs)
        assert f"_each(_f_{missing}" in step.source
        assert _close(got, _batch_eager(f, [w], mode, xs))
    forward = autodiff.compile(
        lambda x: (w * x).sigmoid(), grad=False, batch="each", backend="numpy"
    )
    python = autodiff.compile(lambda x: (w * x).sigmoid(), grad=False, batch="each")
    assert forward(xs) == python(xs)  # sigmoid: numpy's or floats.sigmoid entry by entry


def test_numpy_lowers_a_mask_inside_a_custom_rules_share():
    pytest.importorskip("numpy")
    # floats and rules are module globals: the compiler reads the lambdas through them
    ramp = Rule(
        "negramp",
        lambda x: -floats.relu(x),
        vjp=lambda g, x, out: (-rules.masked_unless_positive(x, g),),
    )
    w = Value(1.0)
    step = autodiff.compile(lambda x: ramp(w * x) * math.inf, batch="sum", backend="numpy")
    step([1.0, -1.0, 0.0])
    assert w.grad == -math.inf  # x = 1 passes -inf; x = -1 and x = 0 pass exactly 0, not nan
    w.grad = 0.0
    step([-1.0, 0.0])
    assert w.grad == 0.0


@pytest.mark.parametrize("size", [7, 40, 1000])
def test_a_long_replay_compiled_in_parts_is_bit_identical(size, monkeypatch):
    from autodiff.compiler import python_backend

    monkeypatch.setattr(python_backend, "CHUNK_LINES", size)
    f, cache = _net("reuse", True)
    rng = random.Random(3)
    args = [rng.uniform(-2, 2) for _ in range(3)]
    f(*args)
    params = [p for w in cache.values() for p in w]
    autodiff.zero_grad(params)
    for p in params:
        p.grad = 0.125  # gradients accumulate onto what is there, across the parts
    loss = f(*[Value(a) for a in args])
    loss.backward()
    expected = (loss.data, [p.grad for p in params])
    for p in params:
        p.grad = 0.125
    step = autodiff.compile(f, params=params)
    assert (step(*args), [p.grad for p in params]) == expected
    assert ("def _part1(" in step.source) == (size < 1000)
    forward = autodiff.compile(lambda a, b, c: [f(a, b, c), a * b], params=params, grad=False)
    assert forward(*args) == [loss.data, args[0] * args[1]]


def test_the_printed_adjoint_program_is_the_one_that_runs():
    """Run the listing of print(tape) line by line: it gives eager's gradients, masks and
    divisions included (relu left of 0 under an infinite upstream gradient)."""
    from autodiff.compiler import symbolic
    from autodiff.compiler.tape import tape_of

    a, b, c, d, e = (Value(t) for t in (-1.0, 1.0, 0.5, 1e-300, 3.0))
    params = [a, b, c, d, e]

    def f():
        return a.relu() * (b * 1000.0).exp() + (c * 2.0).sqrt() + d / e + e.log()

    loss = f()
    autodiff.zero_grad(params)
    loss.backward()
    expected = [p.grad for p in params]
    assert expected[0] == 0.0 and math.isnan(expected[1])  # masked; 0 * inf
    assert all(math.isfinite(g) and g != 0.0 for g in expected[2:])
    tape = tape_of(f(), params=params)
    scope = {**symbolic.VOCABULARY, "inf": math.inf, "nan": math.nan}
    scope.update({f"v{i}": v for i, v in enumerate(tape.data)})
    scope.update({f"g{i}": 0.0 for i in range(tape.n_slots)})
    for line in tape.adjoint_listing():
        exec(line.split("  #")[0].strip(), scope)
    got = [scope[f"g{tape.first_param + k}"] for k in range(len(params))]
    assert str(got) == str(expected)  # bit-identical, nan included
    assert "masked_unless_positive" in str(tape) and "div(" in str(tape)
