"""autodiff: a scalar reverse-mode automatic differentiation engine.

from autodiff import Value
x = Value(2.0, label="x")
y = (x * x + x.sin()).tanh()
y.backward()
x.grad  # dy/dx
"""

from autodiff.compiler.compiled import compile
from autodiff.compiler.forward_mode import jvp
from autodiff.compiler.guard import TraceError
from autodiff.compiler.tape import Tape, trace
from autodiff.core import floats, rules
from autodiff.core.engine import backward, gradients, topological_order, zero_grad
from autodiff.core.higher import grad, hessian, hvp
from autodiff.core.modes import detect_anomaly, enable_grad, no_grad
from autodiff.core.rules import Rule
from autodiff.core.value import Value, apply
from autodiff.frontend.expr import ExpressionError, evaluate_expression, parse_expression
from autodiff.readers.chain_rule import ChainPath, Edge, Explanation, Factor, explain
from autodiff.readers.drawing import (
    GraphTooLarge,
    GraphvizError,
    GraphvizNotFound,
    GraphvizTimeout,
    draw_dot,
    render,
    renderer,
)
from autodiff.readers.frames import render_backward_steps
from autodiff.readers.gradcheck import GradcheckError, gradcheck, numeric_gradient

__all__ = [
    "ChainPath",
    "Edge",
    "Factor",
    "Explanation",
    "ExpressionError",
    "GradcheckError",
    "GraphTooLarge",
    "GraphvizError",
    "GraphvizNotFound",
    "GraphvizTimeout",
    "Rule",
    "Tape",
    "TraceError",
    "Value",
    "apply",
    "backward",
    "compile",
    "detect_anomaly",
    "draw_dot",
    "enable_grad",
    "floats",
    "explain",
    "evaluate_expression",
    "gradcheck",
    "grad",
    "gradients",
    "hessian",
    "hvp",
    "jvp",
    "no_grad",
    "numeric_gradient",
    "parse_expression",
    "render",
    "render_backward_steps",
    "renderer",
    "rules",
    "topological_order",
    "trace",
    "zero_grad",
]

__version__ = "0.1.0"
