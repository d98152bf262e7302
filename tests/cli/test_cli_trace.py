"""autodiff trace: the forward and adjoint listings of an expression, or its Python."""

import math

import pytest

from autodiff.frontend.cli import main


def test_trace_prints_the_wengert_list_and_its_adjoint(capsys):
    assert main(["trace", "tanh(w*x + b)", "w=0.5", "x=2", "b=-1"]) == 0
    out = capsys.readouterr().out
    assert "v3 = v0 * v1" in out and "v5 = tanh(v4)" in out
    assert "g4 += (1.0 - v5 * v5) * g5" in out  # d tanh = 1 - tanh^2, from the rule table
    assert "g0 += v1 * g3" in out and "g1 += v0 * g3" in out


def test_trace_python_prints_code_that_computes_the_gradient(capsys):
    assert main(["trace", "x*y + sin(x)", "x=2", "y=3", "--python"]) == 0
    source = capsys.readouterr().out
    namespace: dict = {}
    from autodiff.compiler import python_backend
    from autodiff.compiler.tape import tape_of
    from autodiff.frontend.expr import evaluate_expression

    out, leaves = evaluate_expression("x*y + sin(x)", {"x": 2.0, "y": 3.0})
    _, namespace = python_backend.generate(tape_of(out, [leaves["x"], leaves["y"]]), False)
    exec(source, namespace)

    class P:
        def __init__(self, data):
            self.data, self.grad = data, 0.0

    params = [P(2.0), P(3.0)]
    assert namespace["replay"]([], params, 1.0) == 6.0 + math.sin(2.0)
    assert params[0].grad == 3.0 + math.cos(2.0) and params[1].grad == 2.0


def test_trace_bad_input_is_one_line_and_exit_code_2(capsys):
    assert main(["trace", "x*y", "x=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "y=VALUE" in err
    assert main(["trace", "__import__('os')", "x=1"]) == 2
    assert main(["trace", "x+1", "x=abc"]) == 2


@pytest.mark.parametrize(
    "expr, bindings",
    [
        ("relu(x)/y + x**y", ["x=2", "y=3"]),
        ("tanh(w*x + b) * w", ["w=0.5", "x=2", "b=-1"]),
        ("relu(x - 3) + sqrt(x) * log(y) - x/y", ["x=2", "y=0.5"]),
    ],
)
def test_values_writes_each_slots_value_and_gradient_beside_the_listing(capsys, expr, bindings):
    import math
    import re

    from autodiff import Value, gradients
    from autodiff.frontend.expr import evaluate_expression, parse_bindings

    assert main(["trace", expr, *bindings, "--values"]) == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^  v(\d+) = .*\| v\1 = (\S+), g\1 = (\S+)$", out, re.M)
    # every slot of the forward list has its row, and the adjoint list is still printed
    forward = out.split("adjoint")[0]
    assert len(rows) == len(re.findall(r"^  v\d+ = ", forward, re.M))
    assert "adjoint (reverse mode)" in out
    # the variables' gradients are the engine's, bit for bit; values are the slots' data
    values = parse_bindings(bindings)
    root, leaves = evaluate_expression(expr, values)
    names = list(values)
    expected = gradients(root, [leaves[n] for n in names])
    for (_, value, grad), name, g in zip(rows, names, expected, strict=False):
        assert float(value) == values[name]
        assert float(grad) == g, (name, grad, g)
    k, value, grad = rows[-1]
    assert float(value) == root.data and float(grad) == 1.0  # the output: its seed
    assert all(isinstance(v, Value) for v in leaves.values()) and not math.isnan(root.data)


def test_help_explains_the_slot_numbering_and_every_word_of_the_listing(capsys):
    assert main(["trace", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "first the variables, in the order NAME=VALUE gives them" in text
    assert "one slot per op in topological order" in text
    assert "g_k is the adjoint of v_k, d(output)/d(v_k)" in text
    words = ["div(a, b)", "power(a, b)", "div(g, x)", "masked_unless_positive(x, g)"]
    words += ["masked_where_zero(k, y)"]
    words += ["exponent_slope(a, b, out)", "sign(x)", "--values"]
    for word in words:
        assert word in text, word
