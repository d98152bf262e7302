"""The guard: while tracing, a traced intermediate Value cannot be read as a number.

A trace records the ops ``f`` performs for one set of numbers. If ``f`` looks at an
intermediate result and decides something in Python (``if h.data > 0:``), the
decision is baked into the tape and would replay wrongly for other numbers. So while
tracing, every op output becomes a ``TracedValue``: reading its ``.data`` (or
``float()``, ``bool()``, ``<``) from outside the ops that compute outputs raises
``TraceError`` naming the user's file and line; so does a derivative taken inside ``f``
(grad, gradients, backward), whose rules branch on the value or give plain numbers.
Inputs, parameters and constants are leaves and stay plain Values, so reading them is
allowed (e.g. validating labels); branching on *input* values is a limit the guard
cannot see.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

from autodiff.core.modes import state
from autodiff.core.value import Value

_SLOT = Value.__dict__["data"]  # the slot descriptor that stores .data
# Who may read a traced value: the ops computing their outputs, and the compiler. Not the
# derivative rules nor the backward pass: a derivative taken inside the traced function
# (grad, gradients, backward) would branch on the value (relu's step, abs's sign) or
# compute plain numbers, and the trace would freeze either.
_ENGINE = ("autodiff.core.value", "autodiff.compiler")
_DIFFERENTIATING = ("autodiff.core",)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TraceError(RuntimeError):
    """A trace would replay wrongly (or the arguments do not match the traced call)."""


def where_in_user_code(depth: int = 2) -> str:
    """``file:line`` of the first frame outside the autodiff package."""
    frame: Any = sys._getframe(depth)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _refuse(what: str) -> NoReturn:
    caller = sys._getframe(2).f_globals.get("__name__", "")
    if caller.startswith(_DIFFERENTIATING):
        raise TraceError(
            f"a derivative taken inside the traced function (grad, gradients or backward, "
            f"at {where_in_user_code(3)}) reads the value of a traced Value; the trace would "
            "freeze what it decides: take the derivative outside the traced function "
            "(compile's step computes the gradient), or run this function eagerly"
        )
    raise TraceError(
        f"{what} of a traced intermediate Value at {where_in_user_code(3)}: "
        "Python control flow on traced values is baked into the trace and would replay "
        "wrongly; write it with ops (relu, abs, ...) or run this function eagerly"
    )


class TracedValue(Value):
    """An op output made while tracing (same layout as Value; see the module)."""

    __slots__ = ()

    @property
    def data(self) -> float:  # type: ignore[override]
        if state.tracer is not None:
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if not caller.startswith(_ENGINE):
                _refuse("reading .data")
        return _SLOT.__get__(self)

    @data.setter
    def data(self, value: float) -> None:
        _SLOT.__set__(self, value)

    def __float__(self) -> float:
        if state.tracer is not None:
            _refuse("float()")
        return _SLOT.__get__(self)

    def __bool__(self) -> bool:
        if state.tracer is not None:
            _refuse("bool()")
        return True

    def __lt__(self, other: Any) -> bool:
        _refuse("a comparison")

    __le__ = __gt__ = __ge__ = __lt__


def untrace(values: list[Value]) -> None:
    """Turn TracedValues back into plain Values once the trace is over."""
    for v in values:
        if type(v) is TracedValue:
            v.__class__ = Value
