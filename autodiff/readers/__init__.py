"""Readers of a recorded graph: they take the graph and the rule table as they are
and explain (chain_rule), check (gradcheck) or draw (drawing, frames) it."""

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
    "Explanation",
    "Factor",
    "GradcheckError",
    "GraphTooLarge",
    "GraphvizError",
    "GraphvizNotFound",
    "GraphvizTimeout",
    "draw_dot",
    "explain",
    "gradcheck",
    "numeric_gradient",
    "render",
    "render_backward_steps",
    "renderer",
]
