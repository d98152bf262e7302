"""grad() with functions written for Values: arguments not differentiated that are numbers
enter f as constant Values, so ``x.exp() * y`` works whatever argnums is. Expected numbers
are closed forms."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff import Value, grad, gradients, hessian, hvp


def f(x, y):
    return x.exp() * y.sin() + x * y * y


# closed forms of f(x, y) = e^x sin y + x y^2
def fx(x, y):
    return math.exp(x) * math.sin(y) + y * y


def fy(x, y):
    return math.exp(x) * math.cos(y) + 2 * x * y


def hess(x, y):
    mixed = math.exp(x) * math.cos(y) + 2 * y
    return [
        [math.exp(x) * math.sin(y), mixed],
        [mixed, -math.exp(x) * math.sin(y) + 2 * x],
    ]


def test_the_issues_example_works_with_argnums_1():
    g = grad(lambda x, y: x.exp() * y, argnums=1)(0.0, 3.0)
    assert g == 1.0 and type(g) is float  # d/dy e^x y = e^x = 1 at x = 0


def test_each_partial_of_a_function_written_for_values():
    assert grad(f, argnums=0)(0.5, -1.2) == pytest.approx(fx(0.5, -1.2), rel=1e-14)
    assert grad(f, argnums=1)(0.5, -1.2) == pytest.approx(fy(0.5, -1.2), rel=1e-14)


def test_integer_arguments_are_numbers_too():
    assert grad(lambda x, y: x.exp() * y, argnums=1)(0, 3) == 1.0


def test_a_constant_argument_is_a_leaf_value_whose_grad_is_never_touched():
    seen = []

    def g(x, y):
        seen.append(y)
        return x * y * y

    assert grad(g)(2.0, 3.0) == 9.0
    (y,) = seen
    assert isinstance(y, Value) and y.is_leaf and y.data == 3.0 and y.label == "y"
    assert y.grad == 0.0


def test_other_arguments_pass_through_unchanged():
    seen = {}

    def g(x, scale, flag, name, *, n):
        seen.update(scale=scale, flag=flag, name=name, n=n)
        total = x
        for _ in range(n - 1):  # a count: keyword arguments are never turned into Values
            total = total + x
        return scale(total) if flag else total

    assert grad(g)(2.0, lambda v: v * v, True, "label", n=3) == 2 * 9 * 2.0  # d/dx (3x)^2
    assert seen["flag"] is True and seen["name"] == "label" and seen["n"] == 3


def test_a_value_argument_not_differentiated_stays_connected_to_its_graph():
    x = Value(0.5)
    dy = grad(lambda x, y: x.exp() * y, argnums=1)(x, 3.0)  # e^x, as a Value of x
    assert isinstance(dy, Value) and dy.data == pytest.approx(math.exp(0.5), rel=1e-15)
    (d2,) = gradients(dy, [x])
    assert d2 == pytest.approx(math.exp(0.5), rel=1e-15)


@pytest.mark.parametrize("i", [0, 1])
@pytest.mark.parametrize("j", [0, 1])
def test_nested_mixed_partials_equal_the_closed_forms(i, j):
    second = grad(lambda *a: grad(f, argnums=i)(*a), argnums=j)(0.3, 1.1)
    assert type(second) is float
    assert second == pytest.approx(hess(0.3, 1.1)[i][j], rel=1e-13)


@settings(max_examples=40, deadline=None)
@given(st.floats(-2, 2), st.floats(-3, 3))
def test_nested_mixed_partials_on_random_points(x, y):
    # e^x and sin/cos are well conditioned on this box: the references are exact to rounding
    for i in (0, 1):
        for j in (0, 1):
            second = grad(lambda *a, i=i: grad(f, argnums=i)(*a), argnums=j)(x, y)
            assert second == pytest.approx(hess(x, y)[i][j], rel=1e-12, abs=1e-12)


def test_hessian_and_hvp_of_a_function_written_for_values():
    assert hessian(f)(0.3, 1.1) == [pytest.approx(row, rel=1e-13) for row in hess(0.3, 1.1)]
    h = hess(0.3, 1.1)
    expected = [h[0][0] * 2.0 + h[0][1] * -1.0, h[1][0] * 2.0 + h[1][1] * -1.0]
    assert hvp(f, [0.3, 1.1], [2.0, -1.0]) == pytest.approx(expected, rel=1e-13)
