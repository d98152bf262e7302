"""Arguments as flat lists of floats, and their nested-list structure.

A compiled call takes numbers or (nested) lists of numbers. The tape sees a flat
list of input slots; ``flatten`` turns the arguments into that list and a
``structure`` (None for a number, a tuple of structures for a list) that must be
the same on every call.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

from autodiff.compiler.guard import TraceError

Structure = Any  # None for a number, tuple[Structure, ...] for a list


def flatten(args: Any, where: str = "argument") -> tuple[Structure, list[float]]:
    """(structure, numbers) of ``args``; TraceError naming anything that is not a number."""
    flat: list[float] = []
    return _flatten(args, flat, where), flat


def _flatten(x: Any, flat: list[float], where: str) -> Structure:
    if isinstance(x, (list, tuple)):
        return tuple(_flatten(item, flat, f"{where}[{i}]") for i, item in enumerate(x))
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TraceError(f"{where} expected a number or a list of numbers, got {x!r}")
    flat.append(float(x))
    return None


def unflatten(structure: Structure, flat: list[Any]) -> Any:
    """The nested lists of ``structure`` filled, in order, from ``flat``."""
    items = iter(flat)

    def build(s: Structure) -> Any:
        return next(items) if s is None else [build(c) for c in s]

    return build(structure)


def describe(structure: Structure) -> str:
    """``number`` or ``list of 2 [number, number]`` (short) for error messages."""
    if structure is None:
        return "a number"
    inner = {describe(c) for c in structure}
    if len(inner) == 1:
        return f"a list of {len(structure)} ({inner.pop()})"
    return f"a list of {len(structure)} (mixed)"


def check(expected: Structure, args: Any, where: str) -> list[float]:
    """The flat numbers of ``args``, or TraceError if its structure is not ``expected``."""
    structure, flat = flatten(args, where)
    if structure != expected:
        raise TraceError(
            f"{where} has a different structure than the traced call: expected "
            f"{describe(expected)}, got {describe(structure)}"
        )
    return flat


def as_lists(x: Any) -> Any:
    """A numpy array or number as Python lists and floats (``tolist``); anything else as
    it is. What the checks above read."""
    return x.tolist() if hasattr(x, "tolist") else x
