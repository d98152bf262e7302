"""compile(backend="numpy"): the per-example tape over a batch, against eager and Python."""

import math
import random

import pytest
from test_compile import _compiled, _eager, _every_rule, _moons, _same

import autodiff
from autodiff import Rule, TraceError, Value

pytest.importorskip("numpy")


def _close(got, expected, rel=1e-12):
    """Within rel of the largest gradient's magnitude (numpy reorders sums)."""
    scale = max([abs(g) for g in expected if math.isfinite(g)] + [1e-300])
    return all(_same(a, b) or abs(a - b) <= rel * scale for a, b in zip(got, expected, strict=True))


@pytest.mark.parametrize("mode", ["mean", "sum"])
def test_numpy_backend_matches_the_python_backend_on_the_moons_batch(mode):
    model, _, X, y = _moons()
    params = model.parameters()

    def per_example(x, t):
        return (1 - t * model(x)).relu() + 1e-4 * sum((p * p for p in params), Value(0.0))

    expected = _compiled(autodiff.compile(per_example, batch=mode), params, X, y)
    step = autodiff.compile(per_example, batch=mode, backend="numpy")
    got = _compiled(step, params, X, y)
    assert got[0] == pytest.approx(expected[0], rel=1e-12)
    assert _close(got[1], expected[1])
    # per layer: X W^T forward, G^T X back; G W for the two layers whose inputs need it
    assert step.source.count(" @ ") == 3 + 3 + 2


@pytest.mark.parametrize("rule", _every_rule(), ids=lambda r: r.name)
def test_every_rule_runs_in_the_numpy_backend_like_eager(rule):
    rng = random.Random(rule.name)
    xs = [rng.uniform(-3, 3) for _ in range(20)] + [0.0, -0.0, 1.0, -1.0, 2.0]
    ys = [rng.uniform(-3, 3) for _ in xs]
    w = Value(1.0)

    def f(a, b):
        return rule(a * w, b * w) if rule.arity == 2 else rule(a * w)

    for x, y in zip(xs, ys, strict=True):
        expected = _eager(f, [w], x, y)
        got = _compiled(autodiff.compile(f, backend="numpy"), [w], x, y)
        assert _same(got[0], expected[0]) or abs(got[0] - expected[0]) <= 1e-12 * abs(expected[0])
        assert _close(got[1], expected[1]), (x, y)


def test_numpy_backend_refuses_a_rule_it_cannot_run_by_name():
    clip = Rule("clip", lambda x: min(max(x, -1.0), 1.0), lambda x, out: (float(-1 < x < 1),))
    w = Value(1.0)
    with pytest.raises(TraceError, match="'clip'.*backend=\"python\""):
        autodiff.compile(lambda x: clip(w * x), backend="numpy")(0.5)


def test_numpy_backend_rejects_examples_of_another_shape():
    w = Value(1.0)
    step = autodiff.compile(lambda x: w * x[0] * x[1], batch="mean", backend="numpy")
    step([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TraceError, match="different structure"):
        step([[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear"])
def test_numpy_layers_with_other_activations_match_the_python_backend(activation):
    from nn import MLP

    model = MLP(3, [5, 4, 2], activation=activation, rng=random.Random(3))
    params = model.parameters()
    rng = random.Random(4)
    X = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(9)]
    T = [[rng.uniform(-1, 1) for _ in range(2)] for _ in range(9)]

    def f(x, t):
        return sum(((o - ti) ** 2 for o, ti in zip(model(x), t, strict=True)), Value(0.0))

    expected = _compiled(autodiff.compile(f, batch="sum"), params, X, T)
    step = autodiff.compile(f, batch="sum", backend="numpy")
    got = _compiled(step, params, X, T)
    assert got[0] == pytest.approx(expected[0], rel=1e-12)
    assert _close(got[1], expected[1])
    assert " @ " in step.source
