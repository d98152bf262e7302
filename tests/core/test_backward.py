"""The backward pass: accumulation, repeated calls, seeds, topological order,
custom ops, and random composite expressions against central differences."""

from __future__ import annotations

import math
import sys

import pytest
from finite_differences import central_difference, close
from hypothesis import assume, given
from hypothesis import strategies as st

import autodiff
from autodiff import Rule, Value, gradients, topological_order, zero_grad
from autodiff.core.value import apply

# accumulation where a node is reused


def test_reused_node_accumulates_gradient():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    assert b.grad == 2.0


def test_node_used_twice_in_one_op_gets_both_contributions():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0  # d/da a^2 = 2a


def test_diamond_graph_sums_both_paths():
    x = Value(0.5)
    left = x.sin()
    right = x.exp()
    (left * right).backward()
    # d/dx sin(x) e^x = cos(x) e^x + sin(x) e^x
    assert x.grad == pytest.approx(math.cos(0.5) * math.exp(0.5) + math.sin(0.5) * math.exp(0.5))


# repeated backward calls


def test_repeated_backward_accumulates_leaves_and_recomputes_intermediates():
    a = Value(3.0)
    square = a * a
    b = square + a
    b.backward()
    assert a.grad == 7.0  # 2a + 1
    assert square.grad == 1.0
    b.backward()
    assert a.grad == 14.0
    assert square.grad == 1.0  # fresh each call, not 2.0


def test_intermediate_of_an_earlier_graph_gets_a_fresh_gradient_in_a_new_graph():
    a = Value(2.0)
    b = a * 3.0
    (b + 1.0).backward()
    assert b.grad == 1.0
    (b * 5.0).backward()
    assert b.grad == 5.0
    assert a.grad == 3.0 + 15.0


def test_backward_seed_scales_every_gradient():
    a = Value(3.0)
    b = a * a + a
    b.backward(2.0)
    assert a.grad == 14.0
    assert b.grad == 2.0


def test_backward_on_a_leaf_accumulates_the_seed():
    a = Value(1.0)
    a.backward()
    a.backward(0.5)
    assert a.grad == 1.5


def test_module_level_backward_equals_the_method():
    a = Value(3.0)
    autodiff.backward(a * a + a)
    assert a.grad == 7.0


def test_zero_grad_resets_every_value_of_an_iterable():
    params = [Value(1.0), Value(2.0)]
    (params[0] * params[1]).backward()
    assert [p.grad for p in params] == [2.0, 1.0]
    zero_grad(p for p in params)  # any iterable, even a generator
    assert [p.grad for p in params] == [0.0, 0.0]


# gradients(): like torch.autograd.grad


def test_gradients_returns_derivatives_without_touching_grad():
    x, y, unused = Value(2.0), Value(5.0), Value(1.0)
    out = x * y + x
    assert gradients(out, [x, y, unused]) == [6.0, 2.0, 0.0]
    assert (x.grad, y.grad, unused.grad, out.grad) == (0.0, 0.0, 0.0, 0.0)


def test_backward_with_create_graph_gives_differentiable_gradients():
    x = Value(2.0)
    y = x**3
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert x.grad.data == 12.0  # 3x^2
    (d2,) = gradients(x.grad, [x])
    assert d2 == 12.0  # 6x


# topological order


def test_topological_order_lists_each_node_once_inputs_first_root_last():
    x, w = Value(1.0), Value(2.0)
    h = x * w
    out = h.tanh() + h
    order = topological_order(out)
    assert order[-1] is out
    assert len(order) == len({id(v) for v in order})
    position = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for child in v._prev:
            assert position[id(child)] < position[id(v)]
    assert {id(v) for v in order} == {id(v) for v in (x, w, h, out, *out._prev)}


def test_backward_uses_no_recursion():
    x = Value(0.0)
    for _ in range(3000):
        x = x + 1.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100)  # a recursive walk of 3000 nodes could not finish
    try:
        order = topological_order(x)
        x.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert len(order) == 1 + 2 * 3000
    assert x.data == 3000.0


# custom ops through the public Rule API


def test_custom_rule_from_the_docstring_computes_value_and_gradient():
    cube = Rule("cube", lambda x: x**3, lambda x, out: (3 * x * x,))
    x = Value(2.0)
    y = cube(x)
    y.backward()
    assert (y.data, x.grad) == (8.0, 12.0)
    assert y._op == "cube"
    assert list(y._prev) == [x]


def test_custom_rule_accepts_numbers_and_infers_its_arity():
    hypot = Rule(
        "hypot",
        lambda a, b: math.hypot(a, b),
        lambda a, b, out: (autodiff.core.rules.div(a, out), autodiff.core.rules.div(b, out)),
    )
    assert hypot.arity == 2
    a = Value(3.0)
    y = apply(hypot, a, 4)
    y.backward()
    assert y.data == 5.0
    assert a.grad == pytest.approx(3.0 / 5.0)


def test_custom_rule_with_three_inputs_is_refused_with_a_clear_error():
    # a node stores one or two inputs; larger ops are compositions of these
    with pytest.raises(ValueError, match="'fma': an op takes 1 or 2 inputs, not 3"):
        Rule("fma", lambda a, b, c: a * b + c, lambda a, b, c, out: (b, a, 1.0))


def test_custom_rule_works_for_second_derivatives_when_written_in_the_vocabulary():
    r = autodiff.core.rules
    softplus = Rule("softplus", lambda x: math.log1p(math.exp(x)), lambda x, out: (r.sigmoid(x),))
    x = Value(0.3)
    (dy,) = gradients(softplus(x), [x], create_graph=True)
    (d2y,) = gradients(dy, [x])
    s = 1 / (1 + math.exp(-0.3))
    assert dy.data == pytest.approx(s)
    assert d2y == pytest.approx(s * (1 - s))


# random composite expressions against central differences

_UNARY = ["neg", "abs", "exp", "log1sq", "sqrt1sq", "sin", "cos", "tanh", "sigmoid", "relu"]
_UNARY += ["square", "cube", "inverse1sq", "powhalf1sq"]
_BINARY = ["+", "-", "*", "div1sq", "pow1sq"]

_leaf = st.sampled_from(["x0", "x1", "x2"]) | st.floats(-2, 2).map(lambda c: round(c, 3))
expressions = st.recursive(
    _leaf,
    lambda sub: (
        st.tuples(st.sampled_from(_UNARY), sub) | st.tuples(st.sampled_from(_BINARY), sub, sub)
    ),
    max_leaves=8,
)


class _Domain(Exception):
    """The point is too close to a kink or the values too large for central differences."""


def _unary_on_value(name, u):
    if not isinstance(u, Value):  # a constant subtree stays a float
        return _unary_on_float(name, u)
    return {
        "neg": lambda: -u,
        "abs": lambda: abs(u),
        "exp": u.exp,
        "log1sq": lambda: (u * u + 1).log(),
        "sqrt1sq": lambda: (u * u + 1).sqrt(),
        "sin": u.sin,
        "cos": u.cos,
        "tanh": u.tanh,
        "sigmoid": u.sigmoid,
        "relu": u.relu,
        "square": lambda: u**2,
        "cube": lambda: u**3,
        "inverse1sq": lambda: (u * u + 1) ** -1,
        "powhalf1sq": lambda: (u * u + 1) ** 0.5,
    }[name]()


def _unary_on_float(name, u):
    if name in ("abs", "relu") and abs(u) < 1e-3:
        raise _Domain
    return {
        "neg": lambda: -u,
        "abs": lambda: abs(u),
        "exp": lambda: math.exp(u),
        "log1sq": lambda: math.log(u * u + 1),
        "sqrt1sq": lambda: math.sqrt(u * u + 1),
        "sin": lambda: math.sin(u),
        "cos": lambda: math.cos(u),
        "tanh": lambda: math.tanh(u),
        "sigmoid": lambda: 1 / (1 + math.exp(-u)),
        "relu": lambda: max(u, 0.0),
        "square": lambda: u * u,
        "cube": lambda: u * u * u,
        "inverse1sq": lambda: 1 / (u * u + 1),
        "powhalf1sq": lambda: math.sqrt(u * u + 1),
    }[name]()


def _binary(name, a, b):
    # works for floats and Values alike: Python picks the reflected method when needed
    if name == "+":
        return a + b
    if name == "-":
        return a - b
    if name == "*":
        return a * b
    if name == "div1sq":
        return a / (b * b + 1)
    return (a * a + 1) ** b  # pow1sq: a positive base, exponent an expression


def _evaluate(expr, env, on_values):
    if isinstance(expr, str):
        return env[expr]
    if isinstance(expr, float):
        return expr
    args = [_evaluate(e, env, on_values) for e in expr[1:]]
    if on_values:
        out = _unary_on_value(*expr[:1], *args) if len(args) == 1 else _binary(expr[0], *args)
    else:
        out = _unary_on_float(expr[0], *args) if len(args) == 1 else _binary(expr[0], *args)
        if not abs(out) < 30.0:  # keeps third derivatives, hence the numeric error, small
            raise _Domain
    return out


def _closed_form(expr):
    def f(x0, x1, x2):
        return _evaluate(expr, {"x0": x0, "x1": x1, "x2": x2}, on_values=False)

    return f


@given(expressions, st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_expression_gradient_matches_central_difference(expr, point):
    f = _closed_form(expr)
    try:
        expected = f(*point)
        numeric = [central_difference(f, point, i) for i in range(3)]
        for i in range(3):  # every shifted point must be in the smooth region too
            for sign in (-1, 1):
                shifted = list(point)
                shifted[i] += sign * 1e-4
                f(*shifted)
    except (_Domain, OverflowError):
        assume(False)
    xs = [Value(x) for x in point]
    out = _evaluate(expr, dict(zip(["x0", "x1", "x2"], xs, strict=True)), on_values=True)
    assume(isinstance(out, Value))
    assert out.data == pytest.approx(expected, rel=1e-9, abs=1e-12)
    out.backward()
    for x, n in zip(xs, numeric, strict=True):
        assert close(x.grad, n, rel=1e-4, abs_=1e-5), (expr, point, [v.grad for v in xs], numeric)


def test_a_failing_custom_derivative_leaves_every_gradient_a_number_and_backward_usable():
    # backward marks the ops it has reached in their grad slot; an error must not leave
    # a mark behind, and the next backward through the same nodes must be right
    broken = Rule("broken", lambda x: 2.0 * x, lambda x, out: (1.0 / 0.0,))
    a = Value(3.0)
    h = a * a  # an op below the failing one
    y = broken(h) + h
    with pytest.raises(ZeroDivisionError):
        y.backward()
    assert all(type(v.grad) is float for v in topological_order(y))
    z = h * 2.0
    z.backward()
    assert h.grad == 2.0
    assert a.grad == 12.0  # 2 * 2a at a = 3, plus nothing from the failed pass
