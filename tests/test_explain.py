"""explain(): the chain rule as a sum over paths, read from the graph."""

import math

import pytest

from autodiff import Value, explain


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
