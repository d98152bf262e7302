"""Forward mode over the tape: dual numbers, for contrast with reverse mode.

Carry with every slot v its tangent dv (its derivative along a direction ``v`` of
the inputs). An op ``out = rule(x, y)`` passes on
``d out = d out/dx * dx + d out/dy * dy``. A scalar op's derivative is its own
adjoint, so each term is the rule's own share function (from the rule table) applied
to that input's tangent in place of the gradient g (masked or divided as backward
does), summed over the inputs that have a tangent: one sweep, first op to
last, gives the directional derivative of f along ``v``. A full gradient of f with
n inputs takes n sweeps (one per basis direction); reverse mode, one sweep back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autodiff.compiler.guard import TraceError
from autodiff.compiler.structure import flatten
from autodiff.compiler.tape import Tape, trace
from autodiff.core.value import Value


def tangent(tape: Tape, direction: Sequence[float]) -> float:
    """d f along ``direction`` (one float per input slot) by one forward sweep of ``tape``."""
    dot = [0.0] * tape.n_slots  # parameters and constants are held fixed
    dot[: tape.n_inputs] = direction
    data = tape.data
    # Only slots that depend on an input carry a tangent. The others (parameters,
    # constants and ops on them alone) have none, not a tangent 0: their local
    # derivative is never multiplied in (sqrt's infinite slope at a parameter w = 0
    # would give inf * 0 = nan where PyTorch's forward mode is finite).
    live = tape.varying()
    for op in tape.ops:
        if not live[op.out]:
            continue
        ins = op.inputs
        args = [data[i] for i in ins]
        total = 0.0
        for k, i in enumerate(ins):
            if live[i]:  # the share of a gradient dot[i]: a scalar op is its own adjoint
                total += op.rule.vjp(dot[i], *args, data[op.out])[k]
        dot[op.out] = total
    return dot[tape.output]


def jvp(f: Callable[..., Value], xs: Sequence[Any], v: Sequence[Any]) -> tuple[float, float]:
    """``(f(*xs), directional derivative of f at xs along v)`` as floats, like JAX's jvp.

    ``xs`` and ``v`` are lists of arguments of the same structure (numbers or lists
    of numbers). Computed by forward mode (dual numbers) over the traced tape.
    """
    if not isinstance(xs, (list, tuple)) or not isinstance(v, (list, tuple)):
        raise TypeError("jvp() expected xs and v as lists of arguments")
    tape = trace(f, *xs)
    structure, direction = flatten(list(v), "jvp() direction v")
    if structure != tape.structure:
        raise TraceError("jvp() direction v must have the structure of xs")
    return tape.data[tape.output], tangent(tape, direction)
