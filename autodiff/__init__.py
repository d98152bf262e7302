"""autodiff: a scalar reverse-mode automatic differentiation engine.

from autodiff import Value
x = Value(2.0, label="x")
y = (x * x + x.sin()).tanh()
y.backward()
x.grad  # dy/dx
"""

from autodiff.chain_rule import ChainPath, Edge, Explanation, Factor, explain
from autodiff.drawing import GraphTooLarge, GraphvizError, GraphvizNotFound, draw_dot, render
from autodiff.engine import backward, gradients, topological_order, zero_grad
from autodiff.expr import ExpressionError, evaluate_expression, parse_expression
from autodiff.frames import render_backward_steps
from autodiff.gradcheck import GradcheckError, gradcheck, numeric_gradient
from autodiff.higher import grad, hessian, hvp
from autodiff.modes import detect_anomaly, enable_grad, no_grad
from autodiff.rules import Rule
from autodiff.value import Value, apply

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
    "Rule",
    "Value",
    "apply",
    "backward",
    "detect_anomaly",
    "draw_dot",
    "enable_grad",
    "explain",
    "evaluate_expression",
    "gradcheck",
    "grad",
    "gradients",
    "hessian",
    "hvp",
    "no_grad",
    "numeric_gradient",
    "parse_expression",
    "render",
    "render_backward_steps",
    "topological_order",
    "zero_grad",
]

__version__ = "0.1.0"
