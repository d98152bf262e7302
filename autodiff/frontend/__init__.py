"""The command line: the safe expression parser and the `autodiff` console script,
the one place that uses both autodiff and nn."""

from autodiff.frontend.expr import ExpressionError, evaluate_expression, parse_expression

__all__ = ["ExpressionError", "evaluate_expression", "parse_expression"]
