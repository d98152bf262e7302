"""What the CLI's expression commands share (grad, graph, trace): their arguments, the
help that lists the ops, and the one-line error. Its own module so that ``cli`` and
``trace_command`` both import it and neither imports the other."""

from __future__ import annotations

import argparse

from autodiff.frontend.expr import FUNCTIONS
from autodiff.frontend.terminal import say


def expression_help() -> str:
    """The epilog of an expression command; its functions are the rule table's
    (``autodiff.frontend.expr.FUNCTIONS``), so a new op is listed without an edit here."""
    return (
        "EXPR uses numbers, variables, + - * / **, unary minus, parentheses and "
        f"{' '.join(FUNCTIONS)}; nothing else is accepted, and nothing in it is run by "
        'Python. If EXPR starts with a minus, put -- before it: -- "-x**2" x=3.'
    )


def add_expression_arguments(p: argparse.ArgumentParser) -> None:
    """EXPR and its NAME=VALUE bindings."""
    p.add_argument("expression", metavar="EXPR", help='e.g. "tanh(w*x + b)"')
    p.add_argument("bindings", metavar="NAME=VALUE", nargs="*", help="a value for each variable")


def fail(command: str, error: Exception | str) -> int:
    """Say ``autodiff COMMAND: error: ...`` on one line; the usage-error status, 2."""
    message = " ".join(str(error).splitlines())  # always one line
    say(f"autodiff {command}: error: {message}")
    return 2
