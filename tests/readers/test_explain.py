"""explain(): the chain rule as a sum over paths, read from the graph."""

import math
from decimal import Decimal

import pytest

from autodiff import Value, explain, topological_order


def test_reused_node_gives_one_path_per_use():
    a = Value(3.0, label="a")
    b = a * a + a
    b.backward()
    e = explain(b, a)
    assert len(e.paths) == 3
    assert sorted(p.product for p in e.paths) == [1.0, 3.0, 3.0]
    assert e.total == a.grad == 7.0


def test_edges_carry_op_and_local_derivative_from_the_rule_table():
    x = Value(0.5, label="x")
    y = x.tanh()
    y.label = "y"
    (path,) = explain(y, x).paths
    (edge,) = path.edges
    assert edge.op == "tanh"
    assert edge.local == pytest.approx(1 - math.tanh(0.5) ** 2, abs=1e-15)


def test_unrelated_input_has_no_paths():
    x = Value(1.0, label="x")
    z = Value(2.0, label="z")
    y = x * 3.0
    e = explain(y, z)
    assert e.paths == () and e.total == 0.0
    assert "does not depend" in str(e)


def test_too_many_paths_is_a_clear_error_not_a_hang():
    x = Value(1.0, label="x")
    y = x
    for _ in range(40):  # 2**40 paths
        y = y + y
    with pytest.raises(ValueError, match="max_paths"):
        explain(y, x, max_paths=64)


def test_text_form_groups_edges_between_labelled_values():
    w = Value(0.7, label="w")
    h = Value(0.4, label="h")
    i = w * h + 0.15
    i.label = "i"
    o = i.sigmoid()
    o.label = "o"
    c = (o - 1.0) ** 2
    c.label = "C"
    text = str(explain(c, w))
    assert text.startswith("dC/dw = di/dw · do/di · dC/do = 0.4000 · ")


def _doublings(n):
    x = Value(1.0, label="x")
    y = x
    for _ in range(n):  # each step doubles the number of paths: 2**n in all
        y = y + y
    y.label = "y"
    return x, y


def _sci(d):
    """Decimal -> '2.8e4515', the message's notation, from decimal arithmetic."""
    mantissa, exponent = f"{d:.1E}".split("E")
    return f"{mantissa}e{int(exponent)}"


def test_path_count_in_the_error_is_exact_up_to_two_to_the_64():
    x, y = _doublings(40)
    with pytest.raises(ValueError, match=r"dy/dx has 1099511627776 chain-rule paths"):
        explain(y, x)


def test_huge_path_count_is_its_own_message_not_an_int_to_text_error():
    # 2**15000 has 4516 digits, over Python's 4300-digit int-to-str limit
    x, y = _doublings(15000)
    expected = _sci(Decimal(2) ** 15000)
    assert expected == "2.8e4515"
    with pytest.raises(ValueError, match=rf"dy/dx has about {expected} chain-rule paths, more"):
        explain(y, x)


def test_approximate_count_adds_paths_of_different_lengths():
    # y_(k+1) = y_k * y_k + x: c_(k+1) = 2 c_k + 1, so c_100 = 2**101 - 1
    x = Value(0.5, label="x")
    y = x
    for _ in range(100):
        y = y * y + x
    y.label = "y"
    expected = _sci(Decimal(2) ** 101 - 1)
    assert expected == "2.5e30"
    with pytest.raises(ValueError, match=rf"has about {expected} chain-rule paths"):
        explain(y, x)


def test_no_line_names_a_factor_after_itself():
    w = Value(2.0, label="w")
    o = w * 1.0
    o.label = "o"
    assert str(explain(o, w)) == "do/dw = 1.0000"


def test_paths_through_unlabelled_values_are_told_apart_by_name():
    a = Value(3.0, label="a")
    y = a * a + a
    y.label = "y"
    text = str(explain(y, a))
    # a*a is unlabelled: it is named v1 (its place in the graph) and defined
    assert "path 1: dv1/da · dy/dv1 = 3.0000 · 1.0000 = 3.0000" in text
    # the direct edge a -> y is named by its op, not by the total's own name dy/da
    assert "path 3: a into y through '+' = 1.0000" in text
    assert text.count("dy/da") == 1
    assert "where v1 = a * a (one path through each input)" in text
    assert "total = 7.0000" in text


def test_unlabelled_intermediates_on_distinct_paths_get_distinct_names():
    x = Value(0.5, label="x")
    u = x.tanh()
    v = x.exp()
    z = u * v
    z.label = "z"
    lines = str(explain(z, x)).splitlines()
    # named by their places in topological_order(z): x, exp(x), tanh(x), z
    assert [v.label or v._op for v in topological_order(z)] == ["x", "exp", "tanh", "z"]
    assert lines[1].startswith("  path 1: dv1/dx · dz/dv1")
    assert lines[2].startswith("  path 2: dv2/dx · dz/dv2")
    assert lines[-1] == "  where v1 = exp(x), v2 = tanh(x)"
    assert len(set(lines[1:3])) == 2


def test_a_hand_written_op_is_said_to_be_hand_written():
    import math

    x = Value(0.5, label="x")
    s = Value(math.sin(0.5), (x,), "mysin")

    def _backward():
        x.grad += math.cos(x.data) * s.grad

    s._backward = _backward
    s.label = "s"
    e = explain(s, x)
    (path,) = e.paths
    assert path.edges[0].hand_written and path.edges[0].local == math.cos(0.5)
    assert "'mysin' was written by hand" in str(e)
