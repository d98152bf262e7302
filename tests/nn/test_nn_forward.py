"""Compiled forward passes for accuracy and predictions (nn.forward, nn.metrics)."""

import gc
import random
import weakref

import pytest

import nn.forward
from autodiff import Value
from nn import MLP, accuracy, predict
from nn.forward import compiled_forward, is_cached, outputs_or_none
from nn.metrics import outputs

np = pytest.importorskip("numpy", reason="the default compiled forward runs on numpy")


def _data(n, seed=0):
    rng = random.Random(seed)
    X = [[rng.uniform(-1, 1) for _ in range(5)] for _ in range(n)]
    return X, [rng.randrange(3) for _ in range(n)]


def _eager(model, X):
    return outputs(model, X, compiled=False)


def test_many_samples_run_compiled_and_agree_with_eager():
    model = MLP(5, [8, 3], rng=random.Random(1))
    X, y = _data(100)
    assert not is_cached(model)
    compiled = outputs(model, X)
    assert is_cached(model)  # 100 >= COMPILE_FROM samples: traced once, kept
    eager = _eager(model, X)
    for c, e in zip(compiled, eager, strict=True):
        assert c == pytest.approx(e, rel=1e-12, abs=1e-12)
    assert predict(model, X) == [max(range(3), key=e.__getitem__) for e in eager]


def test_the_python_backend_forward_is_bit_identical_to_eager(monkeypatch):
    monkeypatch.setattr(nn.forward, "numpy_available", lambda: False)
    model = MLP(5, [8, 3], rng=random.Random(2))
    X, _ = _data(70)
    assert outputs(model, X) == _eager(model, X)


def test_few_samples_run_eagerly_unless_the_model_was_compiled():
    model = MLP(5, [4, 3], rng=random.Random(3))
    X, y = _data(10)
    accuracy(model, X, y)
    assert not is_cached(model)  # tracing would cost more than 10 eager passes
    outputs(model, _data(80)[0])
    assert is_cached(model)
    for c, e in zip(outputs(model, X), _eager(model, X), strict=True):
        assert c == pytest.approx(e, rel=1e-12, abs=1e-12)


def test_the_compiled_forward_follows_the_parameters_as_they_change():
    model = MLP(5, [4, 1], rng=random.Random(4))
    X, _ = _data(64)
    before = outputs(model, X)
    for p in model.parameters():
        p.data *= 2.0
    after = outputs(model, X)
    assert after != before
    assert after == pytest.approx(_eager(model, X), rel=1e-12, abs=1e-12)


def test_a_model_with_new_parameters_is_traced_again():
    model = MLP(5, [4, 1], rng=random.Random(5))
    X, _ = _data(64)
    first = compiled_forward(model)
    assert compiled_forward(model) is first
    model.layers[0] = MLP(5, [4], rng=random.Random(6)).layers[0]  # other Values
    assert compiled_forward(model) is not first
    assert outputs(model, X) == pytest.approx(_eager(model, X), rel=1e-12, abs=1e-12)


class Branching:
    """A model whose forward pass decides in Python on a traced value: not traceable."""

    def __init__(self):
        self.w = Value(0.5)

    def parameters(self):
        return [self.w]

    def __call__(self, x):
        h = self.w * x[0]
        return h if h.data > 0 else -h


def test_a_model_that_branches_on_values_runs_eagerly_and_is_not_traced_again():
    model = Branching()
    X = [[float(k - 40)] for k in range(80)]
    assert outputs(model, X) == [abs(0.5 * x[0]) if 0.5 * x[0] > 0 else -0.5 * x[0] for x in X]
    assert outputs_or_none(model, X) is None  # remembered: no second trace
    assert accuracy(model, X, [1] * 80) == 79 / 80  # only x = 0 scores 0


def test_the_cache_does_not_keep_a_model_alive():
    model = MLP(5, [3, 1], rng=random.Random(7))
    outputs(model, _data(64)[0])
    assert is_cached(model)
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None
