"""What every reader of a graph shares: its Values in order, a name for each Value,
each op's local derivatives, and one printed form per number.

The drawing, the frames and ``explain`` read a graph the same way, from here:

- ``graph_values(root)`` lists the Values, inputs first (topological order);
- ``value_names(order)`` names each one: its label, or ``v3`` (its place in that order)
  for a Value nobody labelled, so no two Values of a drawing or an explanation share
  a name (nn models label their parameters with their saved-file keys);
- ``local_derivatives(v)`` gives d(v)/d(input) for each input of v, read from its
  op's rule; for an op written by hand (a micrograd ``_backward`` closure, see
  ``autodiff.core.hand_written``) ``is_hand_written(v)`` is true and the numbers come
  from running the closure;
- ``number(x, precision)`` prints a number, always the same way.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.core.engine import topological_order
from autodiff.core.hand_written import is_hand_written
from autodiff.core.value import Value

__all__ = [
    "RANKDIRS",
    "GraphTooLarge",
    "check_options",
    "graph_values",
    "is_hand_written",
    "local_derivatives",
    "node_ids",
    "number",
    "plain",
    "value_names",
]

RANKDIRS = ("LR", "RL", "TB", "BT")
"""Graphviz layout directions: inputs left (LR), right (RL), top (TB) or bottom (BT)."""


class GraphTooLarge(ValueError):
    """A graph with more Values than ``max_nodes``."""


def graph_values(root: Value, max_nodes: int | None) -> list[Value]:
    """Every Value of the graph, inputs first; GraphTooLarge beyond ``max_nodes``."""
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value to draw, got {type(root).__name__}")
    if max_nodes is not None:
        if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
            raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
        if _count_up_to(root, max_nodes) > max_nodes:
            raise GraphTooLarge(
                f"the graph has more than {max_nodes} values, too many to lay out quickly; "
                f"pass max_nodes= a larger number (or None) to draw it anyway, "
                f"or draw a smaller expression"
            )
    return topological_order(root)


def _count_up_to(root: Value, limit: int) -> int:
    """The number of Values in the graph, counting no further than limit + 1."""
    seen = {root}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if child not in seen:
                seen.add(child)
                if len(seen) > limit:
                    return len(seen)
                stack.append(child)
    return len(seen)


def check_options(rankdir: str, precision: int) -> None:
    """ValueError unless rankdir is one of RANKDIRS and precision an int from 0 to 17."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 17:
        raise ValueError(f"precision must be an int from 0 to 17, got {precision!r}")


def node_ids(order: list[Value]) -> dict[Value, str]:
    """Each Value's DOT node name ("v3"; its op is "v3op"), from its place in ``order``."""
    return {v: f"v{i}" for i, v in enumerate(order)}


def value_names(order: list[Value]) -> dict[Value, str]:
    """Each Value's name for a reader: its label, else ``v<i>``, i its place in ``order``
    (the same number as its DOT node name)."""
    return {v: v.label or f"v{i}" for i, v in enumerate(order)}


def local_derivatives(v: Value) -> tuple[float, ...]:
    """d(v)/d(input) for each input of v, from v's rule evaluated on floats.

    For a hand-written op the rule runs the node's closure (see ``is_hand_written``).
    """
    if v._rule is None:
        raise ValueError("a leaf has no local derivatives: no op produced it")
    return tuple(v._rule.derivatives(*[p.data for p in v._prev], v.data))


def plain(x: Any) -> float:
    """A gradient as a float (a Value gradient from create_graph=True gives its data)."""
    return float(x.data if isinstance(x, Value) else x)


def number(x: Any, precision: int) -> str:
    """x with ``precision`` decimals; scientific notation where that would hide it."""
    x = plain(x)
    if not math.isfinite(x):
        return str(x)
    if x != 0.0 and (abs(x) >= 1e6 or abs(x) < 0.5 * 10.0**-precision):
        return f"{x:.{precision}e}"
    return f"{x:.{precision}f}"
