"""autodiff: a scalar reverse-mode automatic differentiation engine.

from autodiff import Value
x = Value(2.0, label="x")
y = (x * x + x.sin()).tanh()
y.backward()
x.grad  # dy/dx

What a learner calls lives here. The rest is in the subpackages, each listing its own:
``autodiff.core`` (the engine; ``autodiff.core.value.apply``), ``autodiff.compiler``
(``Tape``, ``tape_of``), ``autodiff.readers`` (the Graphviz errors, ``renderer``,
``numeric_gradient``, the ``Explanation`` types) and ``autodiff.frontend`` (the
expression parser and the CLI).
"""

from autodiff.compiler.compiled import compile
from autodiff.compiler.forward_mode import jvp
from autodiff.compiler.guard import TraceError
from autodiff.compiler.tape import trace
from autodiff.core import floats, rules
from autodiff.core.engine import backward, gradients, topological_order, zero_grad
from autodiff.core.higher import grad, hessian, hvp
from autodiff.core.modes import detect_anomaly, enable_grad, no_grad
from autodiff.core.rules import Rule
from autodiff.core.value import Value
from autodiff.readers.chain_rule import explain
from autodiff.readers.drawing import draw_dot, render
from autodiff.readers.frames import render_backward_steps
from autodiff.readers.gradcheck import GradcheckError, gradcheck

__all__ = [
    "GradcheckError",
    "Rule",
    "TraceError",
    "Value",
    "backward",
    "compile",
    "detect_anomaly",
    "draw_dot",
    "enable_grad",
    "explain",
    "floats",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "hvp",
    "jvp",
    "no_grad",
    "render",
    "render_backward_steps",
    "rules",
    "topological_order",
    "trace",
    "zero_grad",
]

__version__ = "0.1.0"
