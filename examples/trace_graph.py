"""micrograd's two tracing examples, drawn with autodiff: a small expression and a neuron.

    python examples/trace_graph.py [OUT_DIR]      # writes OUT_DIR/expression.svg, neuron.svg

OUT_DIR (default: out) is made if missing; its parent folder must exist.

Needs Graphviz: `dot` on PATH, or graphviz-pure (installed with autodiff where it has a wheel).
"""

from __future__ import annotations

import sys
from pathlib import Path

from autodiff import Value, render
from autodiff.readers import GraphvizNotFound


def expression() -> Value:
    """y = relu(2x + 1) at x = 1: dy/dx = 2 (the ReLU is active)."""
    x = Value(1.0, label="x")
    y = (x * 2 + 1).relu()
    y.label = "y"
    y.backward()
    return y


def neuron() -> Value:
    """A 2-input ReLU neuron, relu(w1*x1 + w2*x2 + b), with fixed weights.

    micrograd draws random weights; fixed ones make the picture reproducible.
    """
    x1, x2 = Value(1.0, label="x1"), Value(-2.0, label="x2")
    w1, w2 = Value(-0.3, label="w1"), Value(-0.6, label="w2")
    b = Value(0.1, label="b")
    n = w1 * x1 + w2 * x2 + b
    n.label = "n"
    y = n.relu()
    y.label = "y"
    y.backward()
    return y


def _make_folder(folder: Path) -> str:
    """Make OUT_DIR itself (not its parents, so a typo is said); "" or what went wrong."""
    try:
        folder.mkdir(exist_ok=True)
    except FileNotFoundError:
        return f"the folder {folder.parent} does not exist"
    except FileExistsError:
        return "it is a file, not a folder"
    except OSError as error:
        return error.strerror or str(error)
    return ""


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else Path("out")
    problem = _make_folder(out_dir)
    if problem:
        print(f"trace_graph: cannot write {out_dir}: {problem}", file=sys.stderr)
        return 1
    try:
        for name, root in (("expression", expression()), ("neuron", neuron())):
            print(f"wrote {render(root, out_dir / f'{name}.svg')}")
    except GraphvizNotFound as error:
        print(f"trace_graph: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
