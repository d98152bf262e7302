"""The house: what ``autodiff`` exports, where the rest lives, and names that say one thing."""

import ast
import subprocess
import sys
from pathlib import Path

import autodiff

ROOT = Path(__file__).resolve().parents[2]

LEARNER_API = {
    "Value", "Rule", "rules", "floats", "backward", "zero_grad", "gradients", "grad",
    "hessian", "hvp", "jvp", "no_grad", "enable_grad", "detect_anomaly", "topological_order",
    "draw_dot", "render", "render_backward_steps", "explain", "gradcheck", "GradcheckError",
    "trace", "compile", "TraceError",
}  # fmt: skip


def test_autodiff_exports_what_a_learner_calls_and_nothing_else():
    assert set(autodiff.__all__) == LEARNER_API
    for name in LEARNER_API:
        assert getattr(autodiff, name) is not None
    for moved in ("parse_expression", "GraphvizError", "GraphTooLarge", "Tape", "apply"):
        assert not hasattr(autodiff, moved), moved


def test_the_rest_lives_in_its_subpackage():
    from autodiff import compiler, frontend, readers

    assert {"Tape", "trace", "compile", "jvp", "TraceError"} <= set(compiler.__all__)
    assert {"parse_expression", "evaluate_expression", "ExpressionError"} <= set(frontend.__all__)
    assert {
        "GraphTooLarge", "GraphvizError", "GraphvizNotFound", "GraphvizTimeout", "renderer",
        "numeric_gradient", "Explanation", "ChainPath", "Edge", "Factor",
    } <= set(readers.__all__)  # fmt: skip
    for package in (compiler, frontend, readers):
        for name in package.__all__:
            assert getattr(package, name) is not None


def test_trace_command_does_not_import_the_cli():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, autodiff.frontend.trace_command; "
            "print('autodiff.frontend.cli' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"
    source = (ROOT / "autodiff/frontend/trace_command.py").read_text()
    assert "frontend.cli" not in source


def _top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_names_that_collided_are_defined_once():
    modules = [*ROOT.glob("autodiff/**/*.py"), *ROOT.glob("nn/*.py")]
    for name in ("Drawing", "_tracing", "_record", "_as_inputs"):
        where = [str(p.relative_to(ROOT)) for p in modules if name in _top_level_names(p)]
        assert len(where) <= 1, (name, where)


def test_nn_reads_no_private_attribute_of_a_value():
    private = {"_prev", "_x", "_y", "_rule", "_op"}
    for path in ROOT.glob("nn/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                assert node.attr not in private, f"{path.name}:{node.lineno} reads .{node.attr}"


def test_inputs_is_the_public_name_of_prev():
    x, y = autodiff.Value(2.0), autodiff.Value(3.0)
    z = x * y
    assert z.inputs == (x, y) == z._prev
    assert (-x).inputs == (x,) and x.inputs == ()


def test_only_the_derivatives_grad_returns_are_drawn_amber():
    amber = "#fef3c7"
    x = autodiff.Value(2.0, label="x")
    d = autodiff.grad(lambda v: v * v * v)(x)  # a derivative grad returned: amber
    assert amber in autodiff.draw_dot(d).source
    y = autodiff.Value(2.0, label="y")
    (g,) = autodiff.gradients(y * y * y, [y], create_graph=True)  # a gradient graph: plain
    assert amber not in autodiff.draw_dot(g).source
