"""The patterns of micrograd's lecture ("The spelled-out intro to neural networks and
backpropagation"): nodes built as ``Value(data, (a, b), '+')``, labels, and backpropagation
by hand with ``o.grad = 1.0; o._backward(); n._backward(); ...``.

Where micrograd 0.1.0 can run the same code it does, and the numbers are compared. It has
no tanh, so its tanh node gets the lecture's own ``_backward`` closure; autodiff's reads the
derivative from the rule table. The expected numbers come from the closed forms.
"""

from __future__ import annotations

import math

import pytest
from micrograd_engines import ENGINES, micrograd_engine, needs_micrograd

import autodiff
from autodiff import Rule, Value, detect_anomaly, no_grad

B = 6.8813735870195432  # the lecture's bias: n = 0.8813..., so tanh(n) = 1/sqrt(2)


def lecture_neuron(Value):
    """The lecture's neuron o = tanh(x1*w1 + x2*w2 + b), its tanh node built by hand."""
    x1, x2 = Value(2.0), Value(0.0)
    w1, w2 = Value(-3.0), Value(1.0)
    b = Value(B)
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    t = (math.exp(2 * n.data) - 1) / (math.exp(2 * n.data) + 1)  # the lecture's formula
    o = Value(t, (n,), "tanh")
    if Value is not autodiff.Value:  # micrograd has no rule table: the lecture's closure

        def _backward():
            n.grad += (1 - t**2) * o.grad

        o._backward = _backward
    nodes = dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n)
    return o, nodes


def by_hand(o, v):
    """The lecture's manual backward pass, in its order (leaves included: no-ops)."""
    o.grad = 1.0
    o._backward()
    v["n"]._backward()
    v["b"]._backward()
    v["x1w1x2w2"]._backward()
    v["x2w2"]._backward()
    v["x1w1"]._backward()
    for leaf in ("x1", "x2", "w1", "w2"):
        v[leaf]._backward()


def grads(nodes):
    return {name: v.grad for name, v in nodes.items()}


# closed forms: do/dn = 1 - tanh(n)^2 = 1/2, then each product passes on the other factor
EXPECTED = {
    "x1": -3.0 * 0.5,
    "x2": 1.0 * 0.5,
    "w1": 2.0 * 0.5,
    "w2": 0.0 * 0.5,
    "b": 0.5,
    "x1w1": 0.5,
    "x2w2": 0.5,
    "x1w1x2w2": 0.5,
    "n": 0.5,
}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_hand_backward_of_the_lecture_neuron_gives_the_closed_form_grads(engine):
    o, nodes = lecture_neuron(ENGINES[engine])
    by_hand(o, nodes)
    assert o.data == pytest.approx(1 / math.sqrt(2), rel=1e-15)
    assert grads(nodes) == pytest.approx(EXPECTED, rel=1e-12, abs=1e-15)


def test_hand_backward_equals_backward_on_the_same_graph():
    o, nodes = lecture_neuron(Value)
    by_hand(o, nodes)
    hand = grads(nodes)
    o2, nodes2 = lecture_neuron(Value)
    o2.backward()
    assert grads(nodes2) == hand  # the same rule, the same order: bit for bit


def test_tanh_method_and_hand_built_tanh_node_are_the_same_op():
    o, nodes = lecture_neuron(Value)
    by_hand(o, nodes)
    x1, w1 = Value(2.0), Value(-3.0)
    o2 = (x1 * w1 + Value(0.0) * Value(1.0) + B).tanh()
    o2.backward()
    assert o._op == o2._op == "tanh" and o._prev == (nodes["n"],)
    assert (x1.grad, w1.grad) == pytest.approx((nodes["x1"].grad, nodes["w1"].grad), rel=1e-15)


@needs_micrograd
def test_hand_backward_agrees_with_micrograd_running_the_same_code():
    o, nodes = lecture_neuron(autodiff.Value)
    by_hand(o, nodes)
    mo, mnodes = lecture_neuron(micrograd_engine.Value)
    by_hand(mo, mnodes)
    assert o.data == mo.data
    assert grads(nodes) == pytest.approx(grads(mnodes), rel=1e-12, abs=1e-15)


def lecture_topological_backward(root):
    """The lecture's own backward(): build_topo over _prev, then _backward in reverse."""
    topo, visited = [], set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(root)
    root.grad = 1.0
    for node in reversed(topo):
        node._backward()


def hand_built_expression(Value):
    """micrograd's own op names, nodes made through its constructor, as its methods do."""
    a, b = Value(-4.0), Value(2.0)
    c = Value(a.data + b.data, (a, b), "+")
    d = Value(a.data * b.data, (a, b), "*")
    e = Value(d.data**2, (d,), "**2")
    f = Value(0 if c.data < 0 else c.data, (c,), "ReLU")
    g = Value(e.data * c.data, (e, c), "*")
    h = Value(g.data + f.data, (g, f), "+")
    return h, a, b


@needs_micrograd
def test_graph_built_through_the_constructor_with_micrograds_op_names():
    mh, ma, mb = hand_built_expression(micrograd_engine.Value)
    # micrograd's constructor records no derivative: its operators set _backward. Run the
    # same expression through its operators for its gradients.
    a, b = micrograd_engine.Value(-4.0), micrograd_engine.Value(2.0)
    c = a + b
    ((a * b) ** 2 * c + c.relu()).backward()
    h, x, y = hand_built_expression(Value)
    lecture_topological_backward(h)
    # h = (ab)^2 (a+b) + relu(a+b), a+b = -2 < 0:  dh/da = 2ab^2 (a+b) + (ab)^2
    assert h.data == mh.data == 64.0 * -2.0
    assert (
        (x.grad, y.grad)
        == (a.grad, b.grad)
        == (2 * -4.0 * 4.0 * -2.0 + 64.0, 2 * 16.0 * 2.0 * -2.0 + 64.0)
    )


def test_the_lecture_topological_backward_equals_backward():
    x1, w1 = Value(2.0), Value(-3.0)
    o = ((x1 * w1 + B) * 2).exp()
    o = (o - 1) / (o + 1)  # the lecture's tanh through exp
    lecture_topological_backward(o)
    hand = (x1.grad, w1.grad)
    x1.grad = w1.grad = 0.0
    o.backward()
    assert hand == pytest.approx((x1.grad, w1.grad), rel=1e-12)
    assert hand == pytest.approx((-3.0 * 0.5, 2.0 * 0.5), rel=1e-12)


# the constructor


def test_value_takes_micrograds_positional_and_keyword_arguments_and_a_label():
    a, b = Value(2.0), Value(3.0)
    c = Value(5.0, (a, b), "+", "c")
    d = Value(data=6.0, _children=(a, b), _op="*", label="d")
    assert (c._op, c._prev, c.label, c.data) == ("+", (a, b), "c", 5.0)
    assert (d._op, d._prev, d.label) == ("*", (a, b), "d")
    assert Value(1.0, label="x").label == "x" and Value(1.0).is_leaf


def test_a_str_in_second_position_is_still_the_label():
    v = Value(1.0, "x")
    assert v.label == "x" and v.is_leaf and v._prev == ()


def test_hand_built_nodes_backpropagate_with_the_tables_derivatives():
    a, b = Value(3.0), Value(4.0)
    for op, data, expected in [
        ("+", 7.0, (1.0, 1.0)),
        ("-", -1.0, (1.0, -1.0)),
        ("*", 12.0, (4.0, 3.0)),
        ("/", 0.75, (1 / 4.0, -3.0 / 16.0)),
        ("**", 81.0, (4 * 27.0, 81.0 * math.log(3.0))),
        ("**Value(data=4.0, grad=0)", 81.0, (4 * 27.0, 81.0 * math.log(3.0))),
    ]:
        a.grad = b.grad = 0.0
        Value(data, (a, b), op).backward()
        assert (a.grad, b.grad) == pytest.approx(expected, rel=1e-15), op


@pytest.mark.parametrize(
    "op, data, slope",
    [
        ("**2", 9.0, 6.0),
        ("**-1", 1 / 3, -1 / 9),
        ("**0.5", math.sqrt(3.0), 0.5 / math.sqrt(3.0)),
        ("tanh", math.tanh(3.0), 1 - math.tanh(3.0) ** 2),
        ("exp", math.exp(3.0), math.exp(3.0)),
        ("log", math.log(3.0), 1 / 3),
        ("ReLU", 3.0, 1.0),
        ("relu", 3.0, 1.0),
        ("sigmoid", 1 / (1 + math.exp(-3.0)), math.exp(-3.0) / (1 + math.exp(-3.0)) ** 2),
        ("neg", -3.0, -1.0),
    ],
)
def test_hand_built_one_input_nodes_use_micrograds_and_the_tables_names(op, data, slope):
    a = Value(3.0)
    node = Value(data, (a,), op)
    node.backward()
    assert a.grad == pytest.approx(slope, rel=1e-14)


def test_hand_built_node_with_a_custom_rule():
    cube = Rule("cube", lambda x: x**3, lambda x, out: (3 * x * x,))
    a = Value(2.0)
    node = Value(8.0, (a,), cube)
    node._backward()  # grad 0: nothing to pass on yet
    node.grad = 1.0
    node._backward()
    assert node._op == "cube" and a.grad == 12.0


def test_hand_built_nodes_follow_no_grad_and_detect_anomaly():
    a = Value(2.0)
    with no_grad():
        assert Value(4.0, (a, a), "+").is_leaf
    with detect_anomaly(), pytest.raises(FloatingPointError, match="'log'"):
        Value(-math.inf, (Value(0.0),), "log")


@pytest.mark.parametrize(
    "args, message",
    [
        ((1.0, (Value(1.0),) * 3, "cube"), "op 'cube' got 3 _children; a node holds 1 or 2"),
        ((1.0, (Value(1.0), Value(2.0)), ""), "2 _children but no _op"),
        ((1.0, (), "+"), "_op '\\+' but no _children"),
        ((1.0, (Value(1.0),), "+"), "op '\\+' takes 2 input\\(s\\), got 1 _children"),
        ((1.0, (Value(1.0), Value(2.0)), "tanh"), "op 'tanh' takes 1 input\\(s\\), got 2"),
        ((1.0, (Value(1.0),) * 3, "*"), "op '\\*' takes 2 input\\(s\\), got 3"),
        ((1.0, (1.0, 2.0), "+"), r"_children\[0\] expected a Value, got float 1.0"),
        ((1.0, Value(1.0), "tanh"), "_children expected a tuple of Values, got Value"),
        ((1.0, (Value(1.0),), 3), "_op expected an op name \\(str\\) or a Rule, got int 3"),
        ((1.0, "x", "+"), "str 'x' in second position.*label="),
        ((1.0, (), "", 3), "label expected a str, got int 3"),
    ],
)
def test_bad_hand_built_nodes_are_one_line_errors(args, message):
    with pytest.raises((TypeError, ValueError), match=message) as caught:
        Value(*args)
    assert "\n" not in str(caught.value)


def test_backward_of_a_leaf_is_a_no_op_and_a_graph_grad_is_refused():
    x = Value(2.0)
    x.grad = 5.0
    x._backward()
    assert x.grad == 5.0
    y = x * x
    y.grad = Value(1.0)
    with pytest.raises(TypeError, match="first-order.*use backward\\(\\)"):
        y._backward()


def test_backward_step_accumulates_like_micrograds():
    a = Value(3.0)
    y = a * a  # a reached twice: both shares add up
    y.grad = 1.0
    y._backward()
    assert a.grad == 6.0
    y._backward()  # a second call adds again: micrograd's closures do the same
    assert a.grad == 12.0
