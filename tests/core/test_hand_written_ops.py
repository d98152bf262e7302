"""micrograd's way of adding an op: ``out = Value(f(x.data), (x,), 'sin')`` with a
``_backward`` closure. backward() runs the closure at that node, the rule table elsewhere.

The expected numbers come from micrograd 0.1.0 running the same cell and from the closed
forms (d/db sin(3b) = 3 cos(3b)).
"""

from __future__ import annotations

import math
import sys

import pytest
from micrograd_engines import micrograd_engine, needs_micrograd

import autodiff
from autodiff import Rule, Value, gradients, trace


def exercise_cell(Value):
    """The lecture exercise's pattern, written as a learner would: add sin to Value by
    hand (a method building the node, then its closure), and backprop through it."""

    def sin(self):
        out = Value(math.sin(self.data), (self,), "sin")

        def _backward():
            self.grad += math.cos(self.data) * out.grad

        out._backward = _backward
        return out

    saved = Value.__dict__.get("sin")
    Value.sin = sin
    try:
        a = Value(-4.0)
        b = Value(2.0)
        c = a + b
        d = a * b + b**3
        e = (3 * b).sin()
        f = e * d + c
        f.backward()
        return f.data, a.grad, b.grad
    finally:
        if saved is None:
            del Value.sin
        else:
            Value.sin = saved


def closed_form():
    a, b = -4.0, 2.0
    d = a * b + b**3
    f = math.sin(3 * b) * d + (a + b)
    df_da = math.sin(3 * b) * b + 1.0
    df_db = 3 * math.cos(3 * b) * d + math.sin(3 * b) * (a + 3 * b**2) + 1.0
    return f, df_da, df_db


def test_exercise_pattern_gives_the_closed_form():
    got = exercise_cell(autodiff.Value)
    assert got == pytest.approx(closed_form(), rel=1e-12)


@needs_micrograd
def test_exercise_pattern_gives_micrographs_numbers():
    ours = exercise_cell(autodiff.Value)
    theirs = exercise_cell(micrograd_engine.Value)
    assert ours == theirs  # same float operations in the same order: bit for bit


def test_any_op_name_takes_a_closure_and_backward_runs_it():
    x = Value(0.5, label="x")
    y = Value(math.log1p(math.exp(0.5)), (x,), "softplus")

    def _backward():
        x.grad += (1 / (1 + math.exp(-x.data))) * y.grad

    y._backward = _backward
    z = y * y  # the rest of the graph uses the rule table
    z.backward()
    assert x.grad == pytest.approx(2 * y.data / (1 + math.exp(-0.5)), rel=1e-14)
    assert y._op == "softplus"


def test_two_input_closure_and_a_node_used_twice():
    a, b = Value(3.0), Value(-2.0)
    out = Value(a.data * b.data, (a, b), "times")

    def _backward():
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    out._backward = _backward
    (out + out * a).backward()  # out used twice; a reached through two paths
    # d/da (ab + ab*a) = b + 2ab = -2 - 12; d/db = a + a^2 = 12
    assert (a.grad, b.grad) == (-14.0, 12.0)


def test_same_input_twice_is_not_counted_twice():
    x = Value(3.0)
    sq = Value(9.0, (x, x), "square")

    def _backward():
        x.grad += x.data * sq.grad
        x.grad += x.data * sq.grad

    sq._backward = _backward
    sq.backward()
    assert x.grad == 6.0


def test_backward_by_hand_runs_the_closure_itself():
    x = Value(1.0)
    out = Value(math.sin(1.0), (x,), "sin")
    calls = []

    def _backward():
        calls.append(out.grad)
        x.grad += math.cos(x.data) * out.grad

    out._backward = _backward
    out.grad = 2.0
    out._backward()
    assert calls == [2.0]
    assert x.grad == 2.0 * math.cos(1.0)
    x._backward()  # a leaf: nothing, as in micrograd
    assert x.grad == 2.0 * math.cos(1.0)


def test_probing_the_closure_leaves_every_grad_as_it_was():
    x = Value(0.3)
    out = Value(math.sin(0.3), (x,), "sin")
    out._backward = lambda: setattr(x, "grad", x.grad + math.cos(x.data) * out.grad)
    x.grad, out.grad = 5.0, 7.0
    (g,) = gradients(out, [x])
    assert g == math.cos(0.3)
    assert (x.grad, out.grad) == (5.0, 7.0)


def test_an_unknown_op_without_closure_says_what_it_needs_in_one_line():
    y = Value(1.3, (Value(1.0),), "softplus")
    with pytest.raises(RuntimeError) as caught:
        y.backward()
    text = "".join(__import__("traceback").format_exception_only(caught.value))
    assert "built by hand with op 'softplus'" in str(caught.value)
    assert "_backward" in str(caught.value) and "Rule" in str(caught.value)
    assert text.count("\n") == 1


def test_higher_order_trace_and_compile_refuse_a_hand_written_node():
    x = Value(0.7)
    y = Value(math.sin(0.7), (x,), "sin")
    y._backward = lambda: None
    with pytest.raises(RuntimeError, match=r"op 'sin' was written by hand .*Rule"):
        gradients(y * y, [x], create_graph=True)

    def f(v):
        out = Value(math.sin(v.data), (v,), "mysin")
        out._backward = lambda: None
        return out

    with pytest.raises(Exception, match=r"op 'mysin' was written by hand .*Rule"):
        trace(f, 1.0)
    with pytest.raises(Exception, match=r"op 'mysin' was written by hand .*Rule"):
        autodiff.compile(f)(1.0)


def test_a_closure_leaving_no_number_is_named():
    x = Value(1.0)
    y = Value(1.0, (x,), "odd")

    def _backward():
        x.grad = "oops"

    y._backward = _backward
    with pytest.raises(RuntimeError, match="closure of op 'odd' left 'oops'"):
        y.backward()


def test_a_rule_still_works_next_to_closures():
    softplus = Rule("softplus", lambda x: math.log1p(math.exp(x)), lambda x, out: (1.0,))
    assert softplus(Value(0.0)).data == math.log(2.0)


def test_a_node_stays_as_small():
    before = sys.getsizeof(Value(1.0))
    y = Value(1.0, (Value(1.0),), "sin")
    y._backward = lambda: None
    assert sys.getsizeof(y) == before
