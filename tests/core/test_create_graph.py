"""Value.backward(create_graph=True): gradients as Values, differentiable again (PyTorch semantics).

Expected numbers are closed forms written in each test.
"""

import math

import pytest

from autodiff import Value, gradients, topological_order


def test_create_graph_stores_value_gradients_equal_to_first_order_ones():
    # y = x^2 sin(x):  dy/dx = 2x sin x + x^2 cos x
    x = Value(1.3)
    (x**2 * x.sin()).backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert x.grad.data == pytest.approx(2 * 1.3 * math.sin(1.3) + 1.3**2 * math.cos(1.3))


def test_without_create_graph_gradients_are_floats():
    x = Value(1.3)
    (x**2 * x.sin()).backward()
    assert type(x.grad) is float


def test_gradient_graph_leads_back_to_the_input():
    x = Value(2.0)
    (x**3).backward(create_graph=True)
    assert x in topological_order(x.grad)


def test_backward_through_the_gradient_gives_the_second_derivative():
    # y = x^3:  dy/dx = 3x^2 = 12,  d2y/dx2 = 6x = 12 at x = 2
    x = Value(2.0)
    (x**3).backward(create_graph=True)
    first = x.grad
    x.grad = 0.0
    first.backward()
    assert first.data == 12.0
    assert x.grad == 12.0


def test_backward_through_the_gradient_accumulates_into_grad_like_pytorch():
    # without clearing, x.grad becomes dy/dx + d2y/dx2 = e^x + e^x
    x = Value(0.5)
    x.exp().backward(create_graph=True)
    x.grad.backward()
    assert x.grad.data == pytest.approx(2 * math.exp(0.5))


def test_third_derivative_by_repeated_create_graph():
    # y = sin x:  y''' = -cos x
    x = Value(0.7)
    x.sin().backward(create_graph=True)
    first = x.grad
    x.grad = 0.0
    first.backward(create_graph=True)
    second = x.grad
    x.grad = 0.0
    second.backward()
    assert second.data == pytest.approx(-math.sin(0.7))
    assert x.grad == pytest.approx(-math.cos(0.7))


def test_leaves_accumulate_value_gradients_across_create_graph_calls():
    x = Value(3.0)
    y = x * x
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert x.grad.data == 12.0  # 2 * 2x
    assert gradients(x.grad, [x]) == [4.0]  # 2 * 2


def test_mixed_partial_through_stored_gradient():
    # f = x^2 y:  df/dx = 2xy,  d2f/dxdy = 2x
    x, y = Value(1.5), Value(-4.0)
    (x**2 * y).backward(create_graph=True)
    assert gradients(x.grad, [x, y]) == pytest.approx([2 * -4.0, 2 * 1.5])


def test_gradients_with_create_graph_leaves_grad_untouched():
    x = Value(2.0)
    (g,) = gradients(x**3, [x], create_graph=True)
    assert isinstance(g, Value) and g.data == 12.0
    assert x.grad == 0.0
