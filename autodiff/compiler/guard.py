"""The guard: while tracing, a traced Value cannot be read as a number.

A trace records the ops ``f`` performs for one set of numbers. If ``f`` looks at a
number and decides something in Python (``if h.data > 0:``), or keeps it
(``x * w.data``), the decision or the number is baked into the tape and replays
wrongly for other numbers. So while tracing, the Values ``f`` works on change kind
(their class), and each kind refuses what would leak its number into Python:

- ``TracedValue``, an op's output: ``.data`` (read or write), ``float()``, ``bool()``,
  ``<``/``<=``/``>``/``>=``, ``repr``/``str``/``format``;
- ``TracedParameter``, a parameter: ``.data`` (read or write), ``float()``, ``repr``/
  ``str``/``format``; the step reads its current number on every call by itself;
- ``TracedInput``, an argument: writes to ``.data``, and its number entering the graph
  as a constant (``x * x.data``: ``.data`` gives a float that refuses to be lifted, and
  so does a number Python's operators compute from it, ``x * (2 * x.data)``). Reading
  and comparing an input's own number stays allowed (a loss may check its labels), but
  each comparison is recorded as a ``Comparison`` on the tape: compile's step checks
  them on every call, traces again where they come out otherwise and refuses a batch
  whose examples disagree (see the README's "The guard, and its limits").

Each refuses only in the thread running the trace: another thread sees a plain Value.

The kind decides, never who asks: the ops themselves read the stored number through
the slot (``Value``'s own ``data`` descriptor), which a traced kind does not override.
A refusal also poisons the trace: if ``f`` catches the TraceError and carries on, the
trace fails with that error anyway once ``f`` returns.
"""

from __future__ import annotations

import math
import operator
import os
import sys
import threading
from collections.abc import Sequence
from numbers import Number
from typing import Any, NamedTuple, NoReturn

from autodiff.core.value import Value

_SLOT = Value.__dict__["data"]  # Value's slot descriptor: where .data is stored
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TraceError(RuntimeError):
    """A trace would replay wrongly (or the arguments do not match the traced call)."""


class _Active(threading.local):
    """The trace running in this thread: the first refusal it met (its poison), its inputs'
    slots (by id) and the comparisons f made of their numbers."""

    poison: TraceError | None = None
    depth = 0
    inputs: dict[int, int] = {}  # noqa: RUF012 - per thread: each begin() sets its own
    comparisons: list[Comparison] = []  # noqa: RUF012
    trace: object = None  # this trace's identity, stamped on the input numbers it reads


_active = _Active()


def begin(inputs: list[Value] | None = None) -> None:
    """A trace starts in this thread: no refusal yet; ``inputs`` are its input Values."""
    _active.poison = None
    _active.depth += 1
    _active.inputs = {id(v): k for k, v in enumerate(inputs or ())}
    _active.comparisons = []
    _active.trace = object()


def end() -> tuple[TraceError | None, list[Comparison]]:
    """The trace is over: the first refusal f met, if any (even one f caught), and the
    comparisons f made of its inputs' numbers (each once)."""
    _active.depth -= 1
    poison, _active.poison = _active.poison, None
    comparisons = list(dict.fromkeys(_active.comparisons))
    _active.inputs, _active.comparisons, _active.trace = {}, [], None
    return poison, comparisons


def is_tracing() -> bool:
    """Whether this thread is tracing a function for ``compile`` (or ``trace``, ``jvp``):
    code that checks its arguments' numbers (a loss validating labels) may skip it then,
    since a comparison of a traced input's number becomes a branch the step must follow."""
    return _active.depth > 0


class Comparison(NamedTuple):
    """``x.data > 0``, made by f of an input's number while tracing: the trace follows one
    outcome, so it replays rightly only for inputs where the comparison comes out the same.

    ``slot``: the input (its index among the flat arguments); ``other``: a number, or with
    ``other_slot`` another input; ``outcome``: the result during the trace."""

    slot: int
    op: str
    other: float
    other_slot: int | None
    outcome: bool
    where: str

    def outcome_at(self, inputs: Sequence[float]) -> bool:
        """The comparison's result for the flat input numbers ``inputs``."""
        other = self.other if self.other_slot is None else inputs[self.other_slot]
        return bool(_COMPARE[self.op](inputs[self.slot], other))

    def compare(self, a: Any, b: Any) -> Any:
        """``a op b`` (elementwise on arrays)."""
        return _COMPARE[self.op](a, b)

    def __str__(self) -> str:
        other = f"input {self.other_slot}" if self.other_slot is not None else repr(self.other)
        return f"input {self.slot}'s number {self.op} {other} at {self.where}"


_COMPARE = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def where_in_user_code() -> str:
    """``file:line`` of the first frame outside the autodiff package.

    Only to name the line in a message: nothing is decided by who the caller is."""
    frame: Any = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def refuse(message: str) -> NoReturn:
    """Raise TraceError(message), remembered by this thread's trace (see ``end``)."""
    error = TraceError(message)
    if _active.depth and _active.poison is None:
        _active.poison = error
    raise error


def _refuse_number(what: str) -> NoReturn:
    refuse(
        f"{what} of a traced intermediate Value at {where_in_user_code()}: its number is "
        "known only when the step runs, so Python control flow on it, or a number kept from "
        "it, or a derivative taken inside the traced function (grad, gradients or backward, "
        "whose rules read it) would be frozen into the trace and replay wrongly; write it "
        "with ops (relu, abs, ...), take derivatives outside f (compile's step computes "
        "the gradient), or run this function eagerly"
    )


def _name(v: Value) -> str:
    return repr(v.label) if v.label else "(unlabelled)"


def _refuse_parameter(v: Value, what: str) -> NoReturn:
    refuse(
        f"{what} of parameter {_name(v)} at {where_in_user_code()}: the trace would freeze "
        "its current number while the step reads the parameter afresh on every call; use "
        "the Value itself (x * w, not x * w.data), or pass the number as an argument"
    )


def _tracing_here() -> bool:
    """Whether this thread is running a trace. Another thread (eager training on the same
    parameters, say) sees a traced kind behave as a plain Value."""
    return _active.depth > 0


class TracedValue(Value):
    """An op output made while tracing (same layout as Value; see the module)."""

    __slots__ = ()

    @property
    def data(self) -> float:  # type: ignore[override]
        if _tracing_here():
            _refuse_number("reading .data")
        return _SLOT.__get__(self)

    @data.setter
    def data(self, value: float) -> None:
        if _tracing_here():
            _refuse_number("writing .data")
        _SLOT.__set__(self, value)

    def __float__(self) -> float:
        if _tracing_here():
            _refuse_number("float()")
        return _SLOT.__get__(self)

    def __bool__(self) -> bool:
        if _tracing_here():
            _refuse_number("bool()")
        return True

    def __lt__(self, other: Any) -> bool:
        if _tracing_here():
            _refuse_number("a comparison")
        return NotImplemented

    __le__ = __gt__ = __ge__ = __lt__

    def __repr__(self) -> str:
        if _tracing_here():
            _refuse_number("repr() or str()")
        return Value.__repr__(self)

    def __format__(self, spec: str) -> str:
        if _tracing_here():
            _refuse_number("formatting")
        return Value.__format__(self, spec)


class TracedParameter(Value):
    """A parameter while tracing: its number is read by the step on each call, not here."""

    __slots__ = ()

    @property
    def data(self) -> float:  # type: ignore[override]
        if _tracing_here():
            _refuse_parameter(self, "reading .data")
        return _SLOT.__get__(self)

    @data.setter
    def data(self, value: float) -> None:
        if _tracing_here():
            _refuse_parameter(self, "writing .data")
        _SLOT.__set__(self, value)

    def __float__(self) -> float:
        if _tracing_here():
            _refuse_parameter(self, "float()")
        return _SLOT.__get__(self)

    def __repr__(self) -> str:
        if _tracing_here():
            _refuse_parameter(self, "repr() or str()")
        return Value.__repr__(self)

    def __format__(self, spec: str) -> str:
        if _tracing_here():
            _refuse_parameter(self, "formatting")
        return Value.__format__(self, spec)


class _InputNumber(float):
    """An input's number read inside f (``x.data``): a float for Python, but refused as a
    constant of the graph (``x * x.data``), where the trace would freeze it while the step
    takes a new x on every call. A comparison of it (``if x.data > 0:``, ``max(x.data, 0)``,
    ``bool``) is recorded as a Comparison: the step checks it on every call and traces
    again, or refuses, where it comes out otherwise. ``slot``: the input it was read
    from; None for a number computed from one (``2 * x.data``), which cannot be compared."""

    slot: int | None
    trace: object  # the trace it was read in: a number kept from another is a constant

    def __new__(cls, value: float, slot: int | None = None) -> _InputNumber:
        number = float.__new__(cls, value)
        number.slot = slot
        number.trace = _active.trace
        return number

    def __hash__(self) -> int:  # (defining __eq__ below would otherwise unset it)
        if _tracing_here() and self.trace is _active.trace:
            refuse(
                f"an input's number used as a dict key or set member at "
                f"{where_in_user_code()}: a lookup compares by hash, which the step cannot "
                "check on other inputs; compare with == or in a list or tuple instead"
            )
        return float.__hash__(self)

    def _refuse_as_constant(self) -> None:  # called by Value's number check
        if _tracing_here():
            refuse(
                "the number of an input, read with .data (or computed from it), enters the "
                f"graph as a constant at {where_in_user_code()}: the trace would freeze it "
                "while the step takes "
                "new arguments on every call; use the input Value itself (x * x, not "
                "x * x.data)"
            )


def _keeps_the_mark(name: str) -> Any:
    """float's operator ``name``, its result again an _InputNumber: a number computed from
    an input's number (``2 * x.data``) is refused as a constant as the number itself is."""
    operator = getattr(float, name)

    def method(self: _InputNumber, *args: Any) -> Any:
        result = operator(self, *args)
        if type(result) is not float:
            return result
        marked = _InputNumber(result)
        marked.trace = self.trace  # computed from a number of that trace
        return marked

    method.__name__ = name
    return method


def _compares(name: str, symbol: str, mirrored: str) -> Any:
    """float's comparison ``name``, recorded while tracing (see _InputNumber)."""
    compare = getattr(float, name)

    def method(self: _InputNumber, other: Any) -> Any:
        if not _tracing_here():
            return compare(self, other)
        result = compare(self, other if isinstance(other, float) else _as_float(other))
        if result is not NotImplemented:
            _record_comparison(self, symbol, mirrored, other, result)
        return result

    method.__name__ = name
    return method


def _as_float(other: Any) -> Any:
    """An int, bool or other real number (numpy's, Fraction) as the float it equals, so the
    comparison is made and recorded here rather than by the other type; anything else as
    it is (``== None`` is False for every number)."""
    if isinstance(other, Number) and not isinstance(other, complex):  # Decimal too
        try:
            number = float(other)
        except OverflowError:
            number = math.inf if other > 0 else -math.inf
        if number != other:
            refuse(
                f"an input's number compared with {other!r} at {where_in_user_code()}, "
                "which no float equals: compare with a float"
            )
        return number
    return other


def _record_comparison(
    number: _InputNumber, symbol: str, mirrored: str, other: Any, result: bool
) -> None:
    here = _active.trace
    mine = number.trace is here  # else read in another trace: a constant now
    theirs = isinstance(other, _InputNumber) and other.trace is here
    if not (mine or theirs):
        return  # numbers only: the same outcome on every call
    if not mine:  # a kept number against this trace's: record it from the other side
        number, other, symbol = other, float(number), mirrored
    if number.slot is None or (theirs and mine and other.slot is None):
        refuse(
            f"a comparison of a number computed from an input's .data at "
            f"{where_in_user_code()}: the step cannot check it on other inputs; compare "
            "the input's own number (x.data > 0.5, not 2 * x.data > 1), or write it with ops"
        )
    other_slot = other.slot if theirs and mine else None
    if other_slot is None and not isinstance(other, float):
        if not isinstance(other, Number) or isinstance(other, complex):
            return  # == None, == "a": the same outcome for every number
        other = _as_float(other)
    value = 0.0 if other_slot is not None else float(other)  # (unused with other_slot)
    where = where_in_user_code()
    _active.comparisons.append(Comparison(number.slot, symbol, value, other_slot, result, where))


for _name_, _symbol, _mirrored in (("__lt__", "<", ">"), ("__le__", "<=", ">="),
                                   ("__gt__", ">", "<"), ("__ge__", ">=", "<="),
                                   ("__eq__", "==", "=="), ("__ne__", "!=", "!=")):  # fmt: skip
    setattr(_InputNumber, _name_, _compares(_name_, _symbol, _mirrored))


def _truth(self: _InputNumber) -> bool:
    result = float.__bool__(self)
    if _tracing_here():
        _record_comparison(self, "!=", "!=", 0.0, result)  # `if x.data:`: `x.data != 0`
    return result


_InputNumber.__bool__ = _truth  # type: ignore[method-assign]


for _operator in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                  "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
                  "__rmod__", "__pow__", "__rpow__", "__neg__", "__pos__", "__abs__"):  # fmt: skip
    setattr(_InputNumber, _operator, _keeps_the_mark(_operator))


class TracedInput(Value):
    """An argument of the traced call: its number may be read, not replaced."""

    __slots__ = ()

    def __float__(self) -> float:
        if _tracing_here():  # float() must return a plain float: the mark would be lost
            refuse(
                f"float() of an input at {where_in_user_code()}: the number would lose what "
                "lets the step follow its comparisons; read it with x.data"
            )
        return _SLOT.__get__(self)

    @property
    def data(self) -> float:  # type: ignore[override]
        return _InputNumber(_SLOT.__get__(self), _active.inputs.get(id(self)))

    @data.setter
    def data(self, value: float) -> None:
        if _tracing_here():
            refuse(
                f"writing .data of an input at {where_in_user_code()}: the replay takes the "
                "arguments as given on each call and would not repeat the change; compute "
                "with ops instead (x / 10, not x.data /= 10)"
            )
        _SLOT.__set__(self, value)


def untrace(values: list[Value]) -> None:
    """Turn TracedValues back into plain Values once the trace is over."""
    for v in values:
        if type(v) is TracedValue:
            v.__class__ = Value
