"""Optimiser updates against hand computation."""

import math
import random

import pytest

from autodiff import Value
from nn import SGD, Adam


def _params(*pairs):
    """Values with given (data, grad)."""
    out = []
    for data, grad in pairs:
        v = Value(data)
        v.grad = grad
        out.append(v)
    return out


def test_sgd_without_momentum_is_p_minus_lr_grad():
    params = _params((1.0, 0.5), (-2.0, -3.0))
    SGD(params, lr=0.1).step()
    assert [p.data for p in params] == [1.0 - 0.1 * 0.5, -2.0 - 0.1 * -3.0]


def test_sgd_momentum_accumulates_velocity():
    (p,) = _params((1.0, 2.0))
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()  # v = 2
    assert p.data == 1.0 - 0.1 * 2.0
    p.grad = 1.0
    opt.step()  # v = 0.9 * 2 + 1 = 2.8
    assert p.data == pytest.approx(1.0 - 0.2 - 0.1 * 2.8, abs=1e-15)


def test_sgd_weight_decay_adds_decay_times_parameter():
    (p,) = _params((2.0, 0.5))
    SGD([p], lr=0.1, weight_decay=0.01).step()
    assert p.data == pytest.approx(2.0 - 0.1 * (0.5 + 0.01 * 2.0), abs=1e-15)


def test_adam_two_steps_by_hand():
    (p,) = _params((1.0, 0.5))
    opt = Adam([p], lr=0.01, betas=(0.9, 0.99), eps=1e-8)
    opt.step()
    # step 1: m = 0.05, v = 0.0025, m_hat = 0.5, v_hat = 0.25 -> move 0.5 / (0.5 + eps)
    p1 = 1.0 - 0.01 * 0.5 / (0.5 + 1e-8)
    assert p.data == pytest.approx(p1, abs=1e-15)
    p.grad = -1.0
    opt.step()
    m = 0.9 * 0.05 + 0.1 * -1.0
    v = 0.99 * 0.0025 + 0.01 * 1.0
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.99**2)
    assert p.data == pytest.approx(p1 - 0.01 * m_hat / (math.sqrt(v_hat) + 1e-8), abs=1e-15)


def test_adam_with_zero_eps_and_zero_gradient_does_not_move():
    (p,) = _params((1.0, 0.0))
    Adam([p], lr=0.1, eps=0.0).step()
    assert p.data == 1.0


def test_step_records_no_graph_and_reads_graph_gradients():
    x = Value(3.0)
    y = x * x * x
    y.backward(create_graph=True)  # x.grad is a Value: 3 x^2 = 27
    assert isinstance(x.grad, Value)
    SGD([x], lr=0.01).step()
    assert type(x.data) is float and x.is_leaf and x._prev == ()
    assert x.data == pytest.approx(3.0 - 0.27, abs=1e-15)


def test_zero_grad_clears_every_parameter():
    params = _params((1.0, 5.0), (2.0, -1.0))
    Adam(params).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


def test_nonfinite_gradient_does_not_raise():
    params = _params((1.0, math.inf), (1.0, math.nan))
    SGD(params, lr=0.1, momentum=0.5).step()
    Adam(params).step()
    assert math.isinf(params[0].data) or math.isnan(params[0].data)
    assert math.isnan(params[1].data)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD([], lr=0.1), "empty parameter list"),
        (lambda: SGD([Value(1.0), 2.0], lr=0.1), "parameter #1 expected a Value, got float"),
        (lambda: SGD(Value(1.0), lr=0.1), "single Value"),
        (lambda: SGD([Value(1.0)], lr=-1.0), "lr expected a finite number >= 0, got -1.0"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=-0.5), "momentum"),
        (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), "betas expected values in \\[0, 1\\)"),
        (lambda: Adam([Value(1.0)], eps=math.nan), "eps"),
    ],
)
def test_bad_optimizer_arguments_are_clear_errors(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()


def test_the_same_parameter_twice_is_rejected():
    p = Value(1.0)
    with pytest.raises(ValueError, match="#1 appears more than once"):
        SGD([p, p], lr=0.1)


@pytest.mark.parametrize("eps", [1e-8, 0.0])
def test_adam_on_arrays_moves_every_parameter_exactly_as_its_loop(monkeypatch, eps):
    pytest.importorskip("numpy", reason="the array path needs numpy")
    import nn.optim

    def run(arrays_from):
        monkeypatch.setattr(nn.optim, "ARRAYS_FROM", arrays_from)
        rng = random.Random(3)
        params = [Value(rng.uniform(-1, 1)) for _ in range(300)]
        adam = Adam(params, lr=0.01, betas=(0.8, 0.99), eps=eps)
        for _ in range(5):
            for i, p in enumerate(params):  # some gradients 0 throughout, some huge
                p.grad = 0.0 if i % 7 == 0 else rng.choice([1e-300, 1.0, -3e5]) * rng.random()
            adam.step()
        return [p.data for p in params]

    assert run(10**9) == run(1)  # the loop, then the arrays: the same floats


@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.9, 1e-3)])
def test_sgd_on_arrays_moves_every_parameter_exactly_as_its_loop(
    monkeypatch, momentum, weight_decay
):
    pytest.importorskip("numpy", reason="the array path needs numpy")
    import nn.optim

    def run(arrays_from):
        monkeypatch.setattr(nn.optim, "ARRAYS_FROM", arrays_from)
        rng = random.Random(5)
        params = [Value(rng.uniform(-1, 1)) for _ in range(300)]
        sgd = SGD(params, lr=0.05, momentum=momentum, weight_decay=weight_decay)
        for _ in range(4):
            for i, p in enumerate(params):
                p.grad = 0.0 if i % 5 == 0 else rng.choice([1e-300, 1.0, -3e5]) * rng.random()
            sgd.step()
        return [p.data for p in params]

    loop, arrays = run(10**9), run(1)
    assert arrays == loop  # the same floats
    assert all(type(x) is float for x in arrays)  # Python floats, not numpy scalars
