"""Every op's value, first and second derivative against closed forms written here
with the math module, and its gradient against central differences of its forward."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from finite_differences import central_difference, close
from hypothesis import given
from hypothesis import strategies as st

from autodiff import Value, gradients


@dataclass(frozen=True)
class Unary:
    """y = build(Value(x)); f, df, d2f are the closed forms on floats."""

    name: str
    build: Callable[[Value], Value]
    f: Callable[[float], float]
    df: Callable[[float], float]
    d2f: Callable[[float], float]
    lo: float
    hi: float
    kink: float | None = None  # keep sampled points 1e-3 away from this non-smooth point

    def points(self) -> st.SearchStrategy[float]:
        xs = st.floats(self.lo, self.hi)
        if self.kink is not None:
            xs = xs.filter(lambda x: abs(x - self.kink) > 1e-3)
        return xs


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


UNARY = [
    Unary("neg", lambda v: -v, lambda x: -x, lambda x: -1.0, lambda x: 0.0, -10, 10),
    Unary("abs", abs, abs, lambda x: 1.0 if x > 0 else -1.0, lambda x: 0.0, -10, 10, kink=0.0),
    Unary("exp", Value.exp, math.exp, math.exp, math.exp, -20, 20),
    Unary("log", Value.log, math.log, lambda x: 1 / x, lambda x: -1 / x**2, 0.01, 100),
    Unary(
        "sqrt",
        Value.sqrt,
        math.sqrt,
        lambda x: 0.5 / math.sqrt(x),
        lambda x: -0.25 * x**-1.5,
        0.01,
        100,
    ),
    Unary("sin", Value.sin, math.sin, math.cos, lambda x: -math.sin(x), -10, 10),
    Unary("cos", Value.cos, math.cos, lambda x: -math.sin(x), lambda x: -math.cos(x), -10, 10),
    Unary(
        "tanh",
        Value.tanh,
        math.tanh,
        lambda x: 1 / math.cosh(x) ** 2,
        lambda x: -2 * math.sinh(x) / math.cosh(x) ** 3,
        -10,
        10,
    ),
    Unary(
        "sigmoid",
        Value.sigmoid,
        _sig,
        lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2,
        lambda x: _sig(x) * (1 - _sig(x)) * (1 - 2 * _sig(x)),
        -30,
        30,
    ),
    Unary(
        "relu", Value.relu, lambda x: max(0.0, x), lambda x: float(x > 0), lambda x: 0.0, -10, 10, 0
    ),
    Unary("square", lambda v: v**2, lambda x: x * x, lambda x: 2 * x, lambda x: 2.0, -10, 10),
    Unary("cube", lambda v: v**3, lambda x: x**3, lambda x: 3 * x * x, lambda x: 6 * x, -10, 10),
    Unary(
        "inverse",
        lambda v: v**-1,
        lambda x: 1 / x,
        lambda x: -1 / x**2,
        lambda x: 2 / x**3,
        0.1,
        10,
    ),
    Unary(
        "power 0.5",
        lambda v: v**0.5,
        math.sqrt,
        lambda x: 0.5 / math.sqrt(x),
        lambda x: -0.25 * x**-1.5,
        0.01,
        100,
    ),
    Unary(
        "power 2.5",
        lambda v: v**2.5,
        lambda x: x**2.5,
        lambda x: 2.5 * x**1.5,
        lambda x: 3.75 * x**0.5,
        0.01,
        10,
    ),
    Unary("power 0", lambda v: v**0, lambda x: 1.0, lambda x: 0.0, lambda x: 0.0, -10, 10),
    Unary("v + 2", lambda v: v + 2, lambda x: x + 2, lambda x: 1.0, lambda x: 0.0, -10, 10),
    Unary("2 + v", lambda v: 2 + v, lambda x: 2 + x, lambda x: 1.0, lambda x: 0.0, -10, 10),
    Unary("v - 2", lambda v: v - 2, lambda x: x - 2, lambda x: 1.0, lambda x: 0.0, -10, 10),
    Unary("2 - v", lambda v: 2 - v, lambda x: 2 - x, lambda x: -1.0, lambda x: 0.0, -10, 10),
    Unary("v * 2", lambda v: v * 2, lambda x: 2 * x, lambda x: 2.0, lambda x: 0.0, -10, 10),
    Unary("2 * v", lambda v: 2 * v, lambda x: 2 * x, lambda x: 2.0, lambda x: 0.0, -10, 10),
    Unary("v / 2", lambda v: v / 2, lambda x: x / 2, lambda x: 0.5, lambda x: 0.0, -10, 10),
    Unary(
        "2 / v", lambda v: 2 / v, lambda x: 2 / x, lambda x: -2 / x**2, lambda x: 4 / x**3, 0.1, 10
    ),
    Unary(
        "2 ** v",
        lambda v: 2**v,
        lambda x: 2.0**x,
        lambda x: 2.0**x * math.log(2),
        lambda x: 2.0**x * math.log(2) ** 2,
        -10,
        10,
    ),
]


@dataclass(frozen=True)
class Binary:
    """y = build(Value(a), Value(b)); f and its partial derivatives as closed forms."""

    name: str
    build: Callable[[Value, Value], Value]
    f: Callable[[float, float], float]
    dfda: Callable[[float, float], float]
    dfdb: Callable[[float, float], float]
    a: st.SearchStrategy[float]
    b: st.SearchStrategy[float]


_ANY = st.floats(-10, 10)
_AWAY_FROM_ZERO = st.floats(0.1, 10) | st.floats(-10, -0.1)

BINARY = [
    Binary("+", lambda a, b: a + b, lambda a, b: a + b, lambda a, b: 1, lambda a, b: 1, _ANY, _ANY),
    Binary(
        "-", lambda a, b: a - b, lambda a, b: a - b, lambda a, b: 1, lambda a, b: -1, _ANY, _ANY
    ),
    Binary("*", lambda a, b: a * b, lambda a, b: a * b, lambda a, b: b, lambda a, b: a, _ANY, _ANY),
    Binary(
        "/",
        lambda a, b: a / b,
        lambda a, b: a / b,
        lambda a, b: 1 / b,
        lambda a, b: -a / b**2,
        _ANY,
        _AWAY_FROM_ZERO,
    ),
    Binary(
        "**",
        lambda a, b: a**b,
        lambda a, b: a**b,
        lambda a, b: b * a ** (b - 1),
        lambda a, b: a**b * math.log(a),
        st.floats(0.1, 10),
        st.floats(-3, 3),
    ),
]


def _ids(ops):
    return [op.name for op in ops]


@pytest.mark.parametrize("op", UNARY, ids=_ids(UNARY))
def test_unary_op_value_and_gradient_match_closed_form(op):
    @given(op.points())
    def check(x0):
        x = Value(x0)
        y = op.build(x)
        assert y.data == pytest.approx(op.f(x0), rel=1e-12, abs=1e-300)
        y.backward()
        assert x.grad == pytest.approx(op.df(x0), rel=1e-9, abs=1e-12)
        # the general backward pass (gradients()) agrees with the fast one
        fresh = Value(x0)
        (g,) = gradients(op.build(fresh), [fresh])
        assert g == pytest.approx(op.df(x0), rel=1e-9, abs=1e-12)

    check()


@pytest.mark.parametrize("op", UNARY, ids=_ids(UNARY))
def test_unary_op_gradient_matches_central_difference(op):
    @given(op.points())
    def check(x0):
        x = Value(x0)
        op.build(x).backward()
        numeric = central_difference(lambda t: op.build(Value(t)).data, [x0], 0)
        assert close(x.grad, numeric, rel=1e-5, abs_=1e-6)

    check()


@pytest.mark.parametrize("op", UNARY, ids=_ids(UNARY))
def test_unary_op_second_derivative_matches_closed_form(op):
    @given(op.points())
    def check(x0):
        x = Value(x0)
        (dy,) = gradients(op.build(x), [x], create_graph=True)
        if not isinstance(dy, Value):  # a constant first derivative has no graph
            assert op.d2f(x0) == 0.0
            return
        (d2y,) = gradients(dy, [x])
        assert dy.data == pytest.approx(op.df(x0), rel=1e-9, abs=1e-12)
        assert d2y == pytest.approx(op.d2f(x0), rel=1e-8, abs=1e-10)

    check()


@pytest.mark.parametrize("op", BINARY, ids=_ids(BINARY))
def test_binary_op_value_and_gradients_match_closed_form(op):
    @given(op.a, op.b)
    def check(a0, b0):
        a, b = Value(a0), Value(b0)
        y = op.build(a, b)
        assert y.data == pytest.approx(op.f(a0, b0), rel=1e-12, abs=1e-300)
        y.backward()
        assert a.grad == pytest.approx(op.dfda(a0, b0), rel=1e-9, abs=1e-12)
        assert b.grad == pytest.approx(op.dfdb(a0, b0), rel=1e-9, abs=1e-12)

    check()


@pytest.mark.parametrize("op", BINARY, ids=_ids(BINARY))
def test_binary_op_gradients_match_central_differences(op):
    @given(op.a, op.b)
    def check(a0, b0):
        a, b = Value(a0), Value(b0)
        op.build(a, b).backward()

        def forward(s, t):
            return op.build(Value(s), Value(t)).data

        assert close(a.grad, central_difference(forward, [a0, b0], 0), rel=1e-5, abs_=1e-6)
        assert close(b.grad, central_difference(forward, [a0, b0], 1), rel=1e-5, abs_=1e-6)

    check()


def test_power_with_value_exponent_has_the_mixed_second_derivative():
    # d/db d/da a^b = a^(b-1) (1 + b ln a)
    a0, b0 = 1.7, 2.3
    a, b = Value(a0), Value(b0)
    da, _ = gradients(a**b, [a, b], create_graph=True)
    (d2,) = gradients(da, [b])
    assert d2 == pytest.approx(a0 ** (b0 - 1) * (1 + b0 * math.log(a0)), rel=1e-12)


def test_each_op_records_its_inputs_and_name():
    a, b = Value(2.0), Value(3.0)
    for out, inputs in [(a + b, (a, b)), (a * b, (a, b)), (a / b, (a, b)), (a**b, (a, b))]:
        assert tuple(out._prev) == inputs
        assert out._op and isinstance(out._op, str)
        assert not out.is_leaf
    for out in [-a, abs(a), a.exp(), a.log(), a.sqrt(), a.tanh(), a.sigmoid(), a.relu()]:
        assert tuple(out._prev) == (a,)
    assert list((a + 1.5)._prev)[1].data == 1.5  # a number operand becomes a leaf input
    assert tuple(a._prev) == () and a._op == "" and a.is_leaf
