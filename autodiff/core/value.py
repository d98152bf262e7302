"""Value: a float that remembers the operation and inputs that produced it."""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable
from numbers import Real
from typing import Any, Union

from autodiff.core import rules
from autodiff.core.modes import state

Operand = Union["Value", int, float]


def _describe(x: object) -> str:
    return f"{type(x).__name__} {reprlib.repr(x)}"


def _to_float(x: object, what: str) -> float:
    """x as a float, or a TypeError that names x and what was expected."""
    if type(x) is float:  # the common case, before the slower check against numbers.Real
        return x
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} expected an int or float, got {_describe(x)}")
    try:
        return float(x)
    except OverflowError:  # an int beyond float range: refuse rather than guess
        raise ValueError(f"{what} got an int too large for a float, {_describe(x)}") from None


def _binary_op(rule: rules.Rule, reflected: bool = False) -> Callable[[Value, Operand], Value]:
    """The method ``self <op> other`` (or ``other <op> self`` if reflected) for a rule.

    Its body is _binary's, written out so that an operator is one Python call, not two:
    forward passes are made of little else.
    """
    forward = rule.forward

    def method(a: Value, b: Operand) -> Value:
        if type(b) is not Value:
            b = _lift(b, rule)
        out = _new(Value)
        out.data = forward(a.data, b.data)
        out.grad = 0.0
        out.label = ""
        if state.plain:
            out._rule = rule
            out._x = a
            out._y = b
        else:
            _record(out, rule, a, b)
        return out

    def reflected_method(self: Value, other: Operand) -> Value:
        # a number on the left (2 * x): rare enough to afford a second call
        return method(_lift(other, rule), self)

    method.__doc__ = f"self {rule.name} other"
    reflected_method.__doc__ = f"other {rule.name} self"
    return reflected_method if reflected else method


def _unary_op(rule: rules.Rule, doc: str | None = None) -> Callable[[Value], Value]:
    """The method ``self.f()`` (or ``-self``, ``abs(self)``) for a one-input rule; one call."""
    forward = rule.forward

    def method(self: Value) -> Value:
        out = _new(Value)
        out.data = forward(self.data)
        out.grad = 0.0
        out.label = ""
        if state.plain:
            out._rule = rule
            out._x = self
            out._y = None
        else:
            _record(out, rule, self, None)
        return out

    method.__name__ = rule.name
    method.__doc__ = doc
    return method


class Value:
    """A scalar in a computation graph.

    ``data`` is the float value, ``grad`` is d(root)/d(self) after
    ``root.backward()``, ``_prev`` the input Values and ``_op`` the name of the
    operation that produced it ("" for a leaf: an input or a parameter).
    """

    # Inputs live in two slots rather than a tuple: one object per node instead of
    # two halves the work of Python's garbage collector in a training loop.
    __slots__ = ("data", "grad", "label", "_rule", "_x", "_y", "__weakref__")

    def __init__(self, data: float, label: str = "") -> None:
        self.data = _to_float(data, "Value()")
        if not isinstance(label, str):
            raise TypeError(f"Value() label expected a str, got {_describe(label)}")
        self.grad: Any = 0.0
        self.label = label
        self._rule: rules.Rule | None = None
        self._x: Value | None = None
        self._y: Value | None = None

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The input Values of the op that produced this one (empty for a leaf)."""
        if self._x is None:
            return ()
        return (self._x,) if self._y is None else (self._x, self._y)

    @property
    def _op(self) -> str:
        """The op's name ("+", "tanh", ...), or "" for a leaf."""
        return "" if self._rule is None else self._rule.name

    @property
    def is_leaf(self) -> bool:
        """True for Values not produced by a recorded op (inputs, parameters, constants)."""
        return self._rule is None

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    def __float__(self) -> float:
        return self.data

    # Operators and functions are built from the rule table by _binary_op / _unary_op
    # (below the class): each creates its output node itself, the hottest path there is.
    __add__ = _binary_op(rules.ADD)
    __radd__ = _binary_op(rules.ADD, reflected=True)
    __sub__ = _binary_op(rules.SUB)
    __rsub__ = _binary_op(rules.SUB, reflected=True)
    __mul__ = _binary_op(rules.MUL)
    __rmul__ = _binary_op(rules.MUL, reflected=True)
    __truediv__ = _binary_op(rules.DIV)
    __rtruediv__ = _binary_op(rules.DIV, reflected=True)
    __rpow__ = _binary_op(rules.POW, reflected=True)
    __neg__ = _unary_op(rules.NEG)
    __abs__ = _unary_op(rules.ABS)
    exp = _unary_op(rules.EXP, "e ** self.")
    log = _unary_op(rules.LOG, "Natural logarithm (log 0 = -inf, log of a negative = nan).")
    sqrt = _unary_op(rules.SQRT, "Square root (nan for negatives).")
    sin = _unary_op(rules.SIN, "Sine.")
    cos = _unary_op(rules.COS, "Cosine.")
    tanh = _unary_op(rules.TANH, "Hyperbolic tangent.")
    sigmoid = _unary_op(rules.SIGMOID, "Logistic sigmoid 1 / (1 + e^-x).")
    relu = _unary_op(rules.RELU, "max(0, self).")

    def __pow__(self, other: Operand) -> Value:
        if isinstance(other, Value):
            return _binary(rules.POW, self, other)
        # a constant exponent is part of the op, not an input: no d/dk to compute
        return _unary(rules.constant_power(_to_float(other, "Value ** exponent")), self)

    def backward(self, gradient: float = 1.0, create_graph: bool = False) -> None:
        """Fill ``.grad`` of every Value this one depends on with d(self)/d(it).

        ``gradient`` seeds d(self)/d(self). Leaves accumulate across calls;
        intermediate Values get fresh gradients on every call. With
        ``create_graph=True`` the gradients are Values with a graph of their own,
        so they can be differentiated again.
        """
        from autodiff.core.engine import backward

        backward(self, gradient, create_graph)


def _lift(x: object, rule: rules.Rule) -> Value:
    if isinstance(x, Value):
        return x
    if type(x) is float:  # the usual constant: skip building an error message
        return Value(x)
    return Value(_to_float(x, f"operand of '{rule.name}'"))


_new = Value.__new__


def _node(rule: rules.Rule, data: float, x: Value, y: Value | None) -> Value:
    """The output Value of ``rule`` applied to x (and y), recorded unless in no_grad."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if state.plain:
        out._rule = rule
        out._x = x
        out._y = y
    else:
        _record(out, rule, x, y)
    return out


def _record(out: Value, rule: rules.Rule, x: Value, y: Value | None) -> None:
    """The slow path of recording an op: inside no_grad or detect_anomaly."""
    if state.recording:
        out._rule = rule
        out._x = x
        out._y = y
    else:
        out._rule = out._x = out._y = None
    if state.anomaly:
        _check_output(rule, x, y, out.data)


def _binary(rule: rules.Rule, a: Operand, b: Operand) -> Value:
    if type(a) is not Value:
        a = _lift(a, rule)
    if type(b) is not Value:
        b = _lift(b, rule)
    # _node inlined: this is the hottest path of every forward pass
    out = _new(Value)
    out.data = rule.forward(a.data, b.data)
    out.grad = 0.0
    out.label = ""
    if state.plain:
        out._rule = rule
        out._x = a
        out._y = b
    else:
        _record(out, rule, a, b)
    return out


def _unary(rule: rules.Rule, x: Value) -> Value:
    return _node(rule, rule.forward(x.data), x, None)


def apply(rule: rules.Rule, *inputs: Operand) -> Value:
    """Apply ``rule`` to Values or numbers and record the result in the graph."""
    if len(inputs) != rule.arity:
        raise TypeError(f"op '{rule.name}' takes {rule.arity} input(s), got {len(inputs)}")
    values = [_lift(x, rule) for x in inputs]
    data = _to_float(rule.forward(*[v.data for v in values]), f"forward of op '{rule.name}'")
    return _node(rule, data, values[0], values[1] if len(values) == 2 else None)


def _check_output(rule: rules.Rule, x: Value, y: Value | None, data: float) -> None:
    if not math.isfinite(data):
        args = ", ".join(repr(v.data) for v in (x, y) if v is not None)
        raise FloatingPointError(f"op '{rule.name}' produced {data} from input(s) ({args})")
