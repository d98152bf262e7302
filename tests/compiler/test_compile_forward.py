"""compile(grad=False): compiled forward passes, one result or one per example."""

import math
import random

import pytest

import autodiff
from autodiff import TraceError, Value

BACKENDS = ["python", "numpy"]


def _backend(name):
    if name == "numpy":
        pytest.importorskip("numpy")
    return name


def _mlp(sizes, seed=0):
    rng = random.Random(seed)
    layers = [
        [[Value(rng.uniform(-1, 1)) for _ in range(nin + 1)] for _ in range(nout)]
        for nin, nout in zip(sizes, sizes[1:], strict=False)
    ]

    def model(x):
        h = x
        for k, layer in enumerate(layers):
            z = [sum((w * hi for w, hi in zip(row[:-1], h, strict=True)), row[-1]) for row in layer]
            h = z if k == len(layers) - 1 else [zi.relu() for zi in z]
        return h

    return model, [p for layer in layers for row in layer for p in row]


def _close(got, expected, rel=1e-12):
    """Within rel of the largest magnitude (the README's stated numpy tolerance)."""
    scale = max([abs(e) for e in expected if math.isfinite(e)] + [1e-300])
    return all(a == b or abs(a - b) <= rel * scale for a, b in zip(got, expected, strict=True))


def test_python_backend_forward_is_bit_identical_to_eager_and_touches_no_grad():
    model, params = _mlp([6, 5, 4, 3])
    for p in params:
        p.grad = 0.25
    rng = random.Random(1)
    X = [[rng.uniform(-2, 2) for _ in range(6)] for _ in range(40)]
    step = autodiff.compile(model, params=params, grad=False)
    each = autodiff.compile(model, params=params, grad=False, batch="each")
    batch_results = each(X)
    assert len(batch_results) == 40
    for x, got in zip(X, batch_results, strict=True):
        expected = [v.data for v in model(x)]
        assert step(x) == expected  # bit-identical, same structure (a list of 3 floats)
        assert got == expected
    assert all(p.grad == 0.25 for p in params)


@pytest.mark.parametrize("backend", BACKENDS)
def test_forward_follows_parameter_updates(backend):
    model, params = _mlp([3, 4, 2])
    step = autodiff.compile(
        model, params=params, grad=False, batch="each", backend=_backend(backend)
    )
    X = [[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]]
    step(X)
    for p in params:
        p.data *= -0.5
    expected = [[v.data for v in model(x)] for x in X]
    for got, want in zip(step(X), expected, strict=True):
        assert _close(got, want)


def test_numpy_backend_forward_of_an_mlp_matches_eager_within_tolerance_and_is_fused():
    pytest.importorskip("numpy")
    model, params = _mlp([64, 32, 10])
    rng = random.Random(2)
    X = [[rng.random() for _ in range(64)] for _ in range(300)]
    step = autodiff.compile(model, params=params, grad=False, batch="each", backend="numpy")
    got = step(X)
    assert len(got) == 300 and all(len(r) == 10 for r in got)
    for x, row in zip(X, got, strict=True):
        assert _close(row, [v.data for v in model(x)])
    assert step.source.count(" @ ") == 2  # one matrix product per layer, forward only
    single = autodiff.compile(model, params=params, grad=False, backend="numpy")
    assert _close(single(X[7]), [v.data for v in model(X[7])])


@pytest.mark.parametrize("backend", BACKENDS)
def test_nested_results_keep_their_structure(backend):
    w = Value(2.0)

    def f(x, y):
        return [x * w, [y + w, (x * y).exp()], x]

    step = autodiff.compile(f, params=[w], grad=False, backend=_backend(backend))
    got = step(1.5, -0.5)
    assert got[0] == 3.0 and got[1][0] == 1.5 and got[2] == 1.5
    assert got[1][1] == pytest.approx(math.exp(-0.75), rel=1e-15)
    each = autodiff.compile(f, params=[w], grad=False, batch="each", backend=_backend(backend))
    rows = each([1.5, 2.0], [-0.5, 0.0])
    assert rows[1] == [4.0, [2.0, 1.0], 2.0]
    assert rows[0][1][0] == 1.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_value_results_and_results_that_depend_on_no_input(backend):
    w = Value(3.0)
    step = autodiff.compile(
        lambda x: [w * w, x * w], params=[w], grad=False, batch="each", backend=_backend(backend)
    )
    assert step([1.0, 2.0, 3.0]) == [[9.0, 3.0], [9.0, 6.0], [9.0, 9.0]]
    scalar = autodiff.compile(
        lambda x: x * w + 1, params=[w], grad=False, batch="each", backend=_backend(backend)
    )
    assert scalar([1.0, 2.0]) == [4.0, 7.0]
    assert w.grad == 0.0


def test_batch_each_needs_grad_false_and_grad_false_refuses_mean():
    with pytest.raises(ValueError, match="batch='each'.*grad=False"):
        autodiff.compile(lambda x: x, batch="each")
    with pytest.raises(ValueError, match="grad=False.*None or 'each'"):
        autodiff.compile(lambda x: x, batch="mean", grad=False)
    with pytest.raises(TypeError, match="grad expected True or False"):
        autodiff.compile(lambda x: x, grad="no")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_result_that_is_not_a_value_is_refused_by_position(backend):
    step = autodiff.compile(lambda x: [x * 2, 3.0], grad=False, backend=_backend(backend))
    with pytest.raises(TraceError, match=r"result\[1\] is float"):
        step(1.0)


def test_a_grad_step_still_needs_a_single_value():
    with pytest.raises(TraceError, match="must return a Value"):
        autodiff.compile(lambda x: [x * 2])(1.0)


@pytest.mark.parametrize("grad", [True, False])
def test_numpy_backend_runs_a_function_of_no_arguments(grad):
    pytest.importorskip("numpy")
    w = Value(2.0)
    step = autodiff.compile(lambda: [w * w] if not grad else w * w, grad=grad, backend="numpy")
    assert step() == ([4.0] if not grad else 4.0)
    assert w.grad == (4.0 if grad else 0.0)
