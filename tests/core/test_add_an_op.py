"""Adding an op is one row and its test: a Rule with a method name is, with nothing else,
a Value method, a function of the expression language and the CLI, differentiable to
second order, compiled on both backends and drawn."""

import math
import os
import subprocess
import sys

import pytest
from finite_differences import central_difference

import autodiff
from autodiff import Rule, Value, grad
from autodiff.core import rules
from autodiff.core.value import _OP_METHODS
from autodiff.frontend.expr import FUNCTIONS, evaluate_expression

ROW = 'Rule("cube", lambda x: x * x * x, lambda x, out: (3.0 * x * x,), method="cube")'


@pytest.fixture
def cube():
    rule = eval(ROW, {"Rule": Rule})  # noqa: S307 - the row the README shows, verbatim
    yield rule
    del rules.METHODS["cube"]  # leave the table as it was for the other tests
    delattr(Value, "cube")
    _OP_METHODS.discard("cube")


def test_the_row_makes_a_value_method_with_its_derivative(cube):
    x = Value(1.5)
    y = x.cube()
    y.backward()
    assert (y.data, y._op) == (3.375, "cube")
    assert x.grad == 3.0 * 1.5**2
    assert x.grad == pytest.approx(central_difference(lambda v: v**3, [1.5], 0), rel=1e-8)


def test_the_row_differentiates_to_second_and_third_order(cube):
    f = lambda x: x.cube()  # noqa: E731
    assert grad(grad(f))(1.5) == pytest.approx(6.0 * 1.5, rel=1e-15)  # d2/dx2 x^3 = 6x
    assert grad(grad(grad(f)))(1.5) == pytest.approx(6.0, rel=1e-15)


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_the_row_compiles_on_both_backends(cube, backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    w = Value(0.5)
    step = autodiff.compile(lambda x: (w * x).cube() + x, backend=backend, batch="sum")
    xs = [1.0, 2.0, -3.0]
    assert step(xs) == pytest.approx(sum((0.5 * x) ** 3 + x for x in xs), rel=1e-15)
    # d/dw sum (w x)^3 = sum 3 w^2 x^3
    assert w.grad == pytest.approx(sum(3 * 0.25 * x**3 for x in xs), rel=1e-15)


def test_the_row_is_a_function_of_expressions_and_drawn(cube):
    assert "cube" in FUNCTIONS
    out, leaves = evaluate_expression("cube(x) + 1", {"x": 2.0})
    out.backward()
    assert (out.data, leaves["x"].grad) == (9.0, 12.0)
    assert "cube" in autodiff.draw_dot(out).source


def test_the_row_is_in_the_cli_help_and_differentiated_by_autodiff_grad():
    program = (
        "import sys\n"
        "from autodiff import Rule\n"
        f"{ROW}\n"
        "from autodiff.frontend.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {**os.environ, "COLUMNS": "200"}
    run = lambda *argv: subprocess.run(  # noqa: E731
        [sys.executable, "-c", program, *argv], capture_output=True, text=True, env=env
    )
    helped = run("grad", "--help")
    assert helped.returncode == 0 and "cube" in helped.stdout
    done = run("grad", "cube(x)", "x=2")
    assert done.returncode == 0, done.stderr
    assert "12" in done.stdout  # d/dx x^3 at 2


def test_a_two_input_row_is_a_method_taking_the_other_operand():
    rule = Rule("hypot", math.hypot, lambda a, b, out: (a / out, b / out), 2, method="hypot")
    try:
        a, b = Value(3.0), Value(4.0)
        y = a.hypot(b)
        y.backward()
        assert (y.data, a.grad, b.grad) == (5.0, 0.6, 0.8)
        assert "hypot" not in FUNCTIONS  # the expression language calls one-input functions
        assert rules.METHODS["hypot"] is rule
    finally:
        del rules.METHODS["hypot"]
        delattr(Value, "hypot")
        _OP_METHODS.discard("hypot")


def test_a_method_name_that_is_not_an_op_is_refused():
    with pytest.raises(ValueError, match="already Value.backward"):
        Rule("b", lambda x: x, lambda x, out: (1.0,), method="backward")
    with pytest.raises(ValueError, match="public Python name"):
        Rule("b", lambda x: x, lambda x, out: (1.0,), method="not a name")
    assert "backward" not in rules.METHODS
