"""`autodiff trace EXPR NAME=VALUE ...`: the tape of an expression, as a textbook page.

Prints the forward list (``v3 = v0 * v1``) and the adjoint list reverse mode derives
from it (``g0 += v1 * g3``), or with ``--python`` the straight-line Python that
``autodiff.compile`` generates for it. Same safe parser and exit codes as
`autodiff grad`.
"""

from __future__ import annotations

import argparse
from typing import Any

from autodiff.compiler import python_backend
from autodiff.compiler.tape import tape_of
from autodiff.frontend.expr import ExpressionError, evaluate_expression, parse_bindings
from autodiff.frontend.expression_arguments import (
    add_expression_arguments,
    expression_help,
    fail,
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "trace",
        help="the tape of an expression: forward and adjoint listings (or generated Python)",
        description=(
            "Print EXPR as a Wengert list, v_k = op(v_i, v_j), and the adjoint list that "
            "reverse mode derives from it, g_i += (local derivative) * g_k."
        ),
        epilog=expression_help() + ' Example: autodiff trace "tanh(w*x + b)" w=0.5 x=2 b=-1',
    )
    add_expression_arguments(p)
    p.add_argument("--python", action="store_true", help="print the generated Python instead")
    p.set_defaults(run=run, parser=p)


def run(args: argparse.Namespace) -> int:
    try:
        values = parse_bindings(args.bindings)
        out, leaves = evaluate_expression(args.expression, values)
    except ExpressionError as error:
        return fail("trace", error)
    tape = tape_of(out, params=[leaves[name] for name in values if name in leaves])
    if args.python:
        source, _ = python_backend.generate(tape, batch=False)
        print(source, end="")
    else:
        print(tape)
    return 0
