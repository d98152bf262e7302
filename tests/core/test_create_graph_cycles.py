"""backward(create_graph=True) stores in a leaf's .grad a graph that usually leads back to
the leaf (d(x^3)/dx = 3x^2 refers to x): a reference cycle. As PyTorch does, it warns and
says how to break the cycle; the graph is then freed by the collector, or at once when the
cycle is broken. gradients(..., create_graph=True) stores nothing and makes no cycle."""

from __future__ import annotations

import gc
import math
import warnings
import weakref

import pytest
from collector import collector_off

from autodiff import Value, gradients, zero_grad

CYCLE = r"backward\(create_graph=True\) made a reference cycle"


def test_backward_create_graph_warns_naming_the_leaf_and_the_way_out():
    x = Value(2.0, label="x")
    with pytest.warns(UserWarning, match=CYCLE) as caught:
        (x * x * x).backward(create_graph=True)
    message = str(caught[0].message)
    assert "x.grad leads back to x" in message
    assert "x.grad = 0.0" in message and "zero_grad" in message and "gradients(" in message
    assert caught[0].filename == __file__  # points at the caller's line, not the engine's
    assert x.grad.data == 12.0  # the gradient is still stored: 3 x^2


def test_the_warning_names_both_leaves_of_a_cycle_through_two_gradients():
    a, b = Value(1.5, label="a"), Value(2.0, label="b")
    with pytest.warns(UserWarning, match=CYCLE) as caught:
        (a * b).backward(create_graph=True)
    # a.grad = b refers to b, b.grad = a refers to a: neither refers to itself
    assert "a.grad leads back to a, through the .grad of b" in str(caught[0].message)


def test_no_warning_when_no_gradient_graph_leads_back_to_a_leaf():
    x = Value(2.0, label="x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x + 1.0).backward(create_graph=True)
        gradients(x * x * x, [x], create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 1.0


def test_the_cycle_keeps_the_graph_until_the_collector_runs():
    with collector_off():
        x = Value(2.0)
        y = x * x
        with pytest.warns(UserWarning, match=CYCLE):
            y.backward(create_graph=True)
        leaf, product, gradient = weakref.ref(x), weakref.ref(y), weakref.ref(x.grad)
        del x, y
        assert leaf() is not None and gradient() is not None  # held only by the cycle
        assert product() is None  # the forward output itself is not on the cycle
        gc.collect()
        assert leaf() is None and gradient() is None


def test_clearing_the_leafs_grad_breaks_the_cycle_so_the_graph_is_freed_at_once():
    with collector_off():
        x, w = Value(2.0), Value(-0.5)
        loss = (w * x + 1.0).tanh() * 3.0
        with pytest.warns(UserWarning, match=CYCLE):
            loss.backward(create_graph=True)
        refs = [weakref.ref(v) for v in (x, w, loss, x.grad, w.grad)]
        zero_grad([x, w])
        del x, w, loss
        assert all(r() is None for r in refs)


def test_gradients_with_create_graph_leaves_no_cycle():
    with collector_off():
        x = Value(2.0)
        (dx,) = gradients(x * x * x, [x], create_graph=True)
        assert dx.data == 12.0
        refs = [weakref.ref(x), weakref.ref(dx)]
        del x, dx
        assert all(r() is None for r in refs)


def test_a_second_backward_through_a_stored_gradient_names_the_leaf_not_the_seed():
    # first = cos(x) * seed: the seed (1.0) is a constant, so only x holds a graph
    x = Value(0.7, label="x")
    with pytest.warns(UserWarning, match=CYCLE):
        x.sin().backward(create_graph=True)
    first, x.grad = x.grad, 0.0
    with pytest.warns(UserWarning, match=CYCLE) as caught:
        first.backward(create_graph=True)
    message = str(caught[0].message)
    assert "x.grad leads back to x," in message and "through" not in message
    assert x.grad.data == pytest.approx(-math.sin(0.7), rel=1e-15)
