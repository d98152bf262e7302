"""autodiff trace: the forward and adjoint listings of an expression, or its Python."""

import math

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
