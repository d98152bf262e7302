"""`autodiff trace EXPR NAME=VALUE ...`: the tape of an expression, as a textbook page.

Prints the forward list (``v3 = v0 * v1``) and the adjoint list reverse mode derives
from it (``g0 += v1 * g3``), or with ``--python`` the straight-line Python that
``autodiff.compile`` generates for it. Same safe parser and exit codes as
`autodiff grad`. ``--values`` writes each slot's value and gradient beside the forward
list, the gradients computed by running the adjoint list on the traced numbers.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from autodiff.compiler import python_backend
from autodiff.compiler.tape import Tape, tape_of
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
        epilog=_READING
        + " "
        + expression_help()
        + ' Example: autodiff trace "tanh(w*x + b)" w=0.5 x=2 b=-1 --values',
        formatter_class=_Paragraphs,
    )
    add_expression_arguments(p)
    p.add_argument("--python", action="store_true", help="print the generated Python instead")
    p.add_argument(
        "--values",
        action="store_true",
        help="write each slot's value and gradient (d output / d slot) beside the forward list",
    )
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
    elif args.values:
        print(with_values(tape))
    else:
        print(tape)
    return 0


_READING = (
    "How to read it. Slots are numbered in the order the tape stores them: first the "
    "variables, in the order NAME=VALUE gives them (v0, v1, ...), then the constants of "
    "EXPR, then one slot per op in topological order (every op after the slots it reads), "
    "so the last slot is the output. g_k is the adjoint of v_k, d(output)/d(v_k): the "
    "output's starts at 1, every other at 0, and each line g_i += d * g_k adds one use's "
    "share (the chain rule), last op first.\n\n"
    "Words in the listing: div(a, b) is a / b and power(a, b) is a ** b (on floats, "
    "inf/nan as PyTorch); div(g, x) is g / x, divided once (not g times 1/x); "
    "masked_unless_positive(x, g) is relu's share: g where x > 0 (or nan), else 0 even when "
    "g is inf or nan (a masked gradient, as PyTorch); masked_where_zero(k, y) is y, "
    "except exactly 0 (masking) where k == 0; exponent_slope(a, b, out) is d(a ** b)/db = "
    "out * log(a), 0 where a == 0 and b >= 0; sign(x) is -1, 0 or 1."
)


class _Paragraphs(argparse.RawDescriptionHelpFormatter):
    """argparse's help with the epilog's paragraphs (split on blank lines) kept, each
    wrapped to the terminal's width."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n\n".join(
            argparse.HelpFormatter._fill_text(self, part, width, indent)
            for part in text.split("\n\n")
        )


def slot_gradients(tape: Tape) -> list[float]:
    """d(output)/d(slot) for every slot: the adjoint list run on the traced numbers.

    Each op's shares of g come from its rule (``vjp``), on floats, as the engine takes them
    (``d * g``, masked or divided).
    """
    data = tape.data
    grads = [0.0] * tape.n_slots
    grads[tape.output] = 1.0
    for op in reversed(tape.ops):
        g = grads[op.out]
        shares = op.rule.vjp(g, *[data[i] for i in op.inputs], data[op.out])
        for i, share in zip(op.inputs, shares, strict=True):
            grads[i] += share
    return grads


_FORWARD_LINE = re.compile(r"\A  v(\d+) = ")


def with_values(tape: Tape) -> str:
    """The tape's listings, each forward line followed by its slot's value and gradient."""
    grads = slot_gradients(tape)
    lines = str(tape).splitlines()
    width = max((len(line) for line in lines if _FORWARD_LINE.match(line)), default=0)
    shown = []
    for line in lines:
        slot = _FORWARD_LINE.match(line)
        if slot:
            k = int(slot.group(1))
            line = f"{line:<{width}}  | v{k} = {tape.data[k]!r}, g{k} = {grads[k]!r}"
        shown.append(line)
    return "\n".join(shown)
