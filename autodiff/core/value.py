"""Value: a float that remembers the operation and inputs that produced it."""

from __future__ import annotations

import functools
import math
import reprlib
from collections.abc import Callable
from numbers import Real
from typing import Any, Union

from autodiff.core import rules
from autodiff.core.hand_written import HandWritten, refuse_while_tracing, set_closure
from autodiff.core.modes import _modes, state

Operand = Union["Value", int, float]


def _describe(x: object) -> str:
    return f"{type(x).__name__} {reprlib.repr(x)}"


def _to_float(x: object, what: str) -> float:
    """x as a float, or a TypeError that names x and what was expected."""
    if type(x) is float:  # the common case, before the slower check against numbers.Real
        return x
    if isinstance(x, float) and hasattr(type(x), "_refuse_as_constant"):
        x._refuse_as_constant()  # type: ignore[attr-defined]  # a traced input's number
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} expected an int or float, got {_describe(x)}")
    try:
        return float(x)
    except OverflowError:  # an int beyond float range: refuse rather than guess
        raise ValueError(f"{what} got an int too large for a float, {_describe(x)}") from None


def _binary_op(rule: rules.Rule, reflected: bool = False) -> Callable[[Value, Operand], Value]:
    """The method ``self <op> other`` (or ``other <op> self`` if reflected) for a rule.

    Its body is _node's, written out so that an operator is one Python call, not two:
    forward passes are made of little else.
    """
    forward = rule.forward

    def method(a: Value, b: Operand) -> Value:
        if type(b) is not Value:
            b = _lift(b, rule)
        if not state.plain:  # some thread is in no_grad, detect_anomaly or a trace
            return _node(rule, forward(_stored(a), _stored(b)), a, b)
        out = _new(Value)
        out.data = forward(a.data, b.data)
        out.grad = 0.0
        out.label = ""
        out._rule = rule
        out._x = a
        out._y = b
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
        if not state.plain:  # some thread is in no_grad, detect_anomaly or a trace
            return _node(rule, forward(_stored(self)), self, None)
        out = _new(Value)
        out.data = forward(self.data)
        out.grad = 0.0
        out.label = ""
        out._rule = rule
        out._x = self
        out._y = None
        return out

    method.__name__ = rule.name
    method.__doc__ = doc
    return method


class Value:
    """A scalar in a computation graph.

    ``data`` is the float value, ``grad`` is d(root)/d(self) after
    ``root.backward()``, ``inputs`` (micrograd's ``_prev``) the input Values and ``_op``
    the name of the operation that produced it ("" for a leaf: an input or a parameter).
    """

    # Inputs live in two slots rather than a tuple: one object per node instead of
    # two halves the work of Python's garbage collector in a training loop.
    __slots__ = ("data", "grad", "label", "_rule", "_x", "_y", "__weakref__")

    def __init__(
        self,
        data: float,
        _children: tuple[Value, ...] = (),
        _op: str | rules.Rule = "",
        label: str = "",
    ) -> None:
        """A leaf ``Value(data, label="x")``, or micrograd's hand-built node.

        ``Value(a.data + b.data, (a, b), '+')`` records op '+' with inputs a and b, as
        micrograd's ``Value(data, _children, _op)`` does; ``data`` is taken as given. The
        op is named as in the rule table or as micrograd names it ('ReLU', '**2' for a
        constant power), or is a Rule; any other name is an op written by hand, whose
        derivative is the ``_backward`` closure given next (see ``hand_written``). For
        compatibility, a str in second position is the label: ``Value(1.0, "x")`` is
        ``Value(1.0, label="x")``.
        """
        self.data = _to_float(data, "Value()")
        self.grad: Any = 0.0
        self._rule: rules.Rule | None = None
        self._x: Value | None = None
        self._y: Value | None = None
        if _children or _op:  # rare: a node built by hand, or a label in second position
            label = _hand_built(self, _children, _op, label)
        if not isinstance(label, str):
            raise TypeError(f"Value() label expected a str, got {_describe(label)}")
        self.label = label
        if not state.plain and self._rule is None and state.tracer is not None:
            state.tracer(self, None, None, None)  # a leaf made while tracing: a constant

    @property
    def inputs(self) -> tuple[Value, ...]:
        """The input Values of the op that produced this one (empty for a leaf): the
        public name of micrograd's ``_prev``."""
        if self._x is None:
            return ()
        return (self._x,) if self._y is None else (self._x, self._y)

    _prev = inputs  # micrograd's name, which the engine and readers use

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

    # Operators are built from the rule table by _binary_op / _unary_op (above the
    # class): each creates its output node itself, the hottest path there is.
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
    # The named ops (x.exp(), x.tanh(), ...) are the rule table's rows with a method
    # name (rules.METHODS), installed below the class by _install_method.

    def __pow__(self, other: Operand) -> Value:
        if isinstance(other, Value):
            return _node(rules.POW, rules.POW.forward(_stored(self), _stored(other)), self, other)
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

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's hand-backprop hook: one step of the chain rule at this node.

        Each input gets ``input.grad += d(self)/d(input) * self.grad``, the local
        derivative read from the op's rule; a leaf has no inputs, so nothing happens.
        This is the lecture's ``o.grad = 1.0; o._backward(); n._backward(); ...``, to
        be called in reverse topological order; ``backward()`` does the whole pass.
        First-order only: ``self.grad`` must be a number.

        As in micrograd, a node built by hand may be given its own step:
        ``out._backward = closure`` (see autodiff.core.hand_written); then both this
        hook and ``backward()`` run the closure at that node.
        """
        rule = self._rule
        if isinstance(rule, HandWritten) and rule.closure is not None:
            return rule.closure
        from autodiff.core.engine import chain_step

        return functools.partial(chain_step, self)

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        set_closure(self, closure)


class _Constant(Value):
    """A number that entered the graph as an operand (the 2 in ``2 * x``), or an argument
    grad() does not differentiate by: a leaf no one differentiates with respect to.

    ``backward(create_graph=True)`` stores its gradient as a float, never as a graph: no
    one holds a constant to clear its ``.grad``, so a graph there could form a reference
    cycle (constant -> grad -> graph -> constant) that nobody can break.
    """

    __slots__ = ()


# micrograd's names for ops that the rule table names otherwise
_MICROGRAD_NAMES = {"ReLU": rules.RELU}


def _hand_built(node: Value, children: Any, op: Any, label: Any) -> Any:
    """Record micrograd's ``Value(data, _children, _op)`` on ``node``; return the label."""
    if isinstance(children, str):  # Value(1.0, "x"): the label, as before the micrograd form
        if op or label:
            raise TypeError(
                f"Value() got the str {children!r} in second position, where micrograd puts "
                "_children; pass a label by keyword: Value(data, label=...)"
            )
        return children
    if not isinstance(children, (tuple, list)):
        raise TypeError(f"Value() _children expected a tuple of Values, got {_describe(children)}")
    for i, child in enumerate(children):
        if not isinstance(child, Value):
            raise TypeError(f"Value() _children[{i}] expected a Value, got {_describe(child)}")
    if not isinstance(op, (str, rules.Rule)):
        raise TypeError(f"Value() _op expected an op name (str) or a Rule, got {_describe(op)}")
    if not op:
        raise ValueError(
            f"Value() got {len(children)} _children but no _op: name the op that made it, "
            "e.g. Value(a.data + b.data, (a, b), '+')"
        )
    if not children:
        raise ValueError(f"Value() got _op {_op_name(op)!r} but no _children: give its inputs")
    rule = op if isinstance(op, rules.Rule) else _rule_named(op, len(children), node)
    if rule.arity != len(children):
        raise ValueError(
            f"Value() op {rule.name!r} takes {rule.arity} input(s), got {len(children)} _children"
        )
    x, y = children[0], children[1] if len(children) == 2 else None
    if state.plain:
        node._rule, node._x, node._y = rule, x, y
    else:
        _record(node, rule, x, y)
    return label


def _op_name(op: str | rules.Rule) -> str:
    return op if isinstance(op, str) else op.name


def _rule_named(op: str, count: int, node: Value) -> rules.Rule:
    """The rule for an op name: the table's names, micrograd's 'ReLU', '**k' (k a number);
    any other name is an op written by hand, waiting for its ``_backward`` closure."""
    table = {r.name: r for r in vars(rules).values() if isinstance(r, rules.Rule)}
    rule = table.get(op) or _MICROGRAD_NAMES.get(op)
    if rule is not None:
        return rule
    if op.startswith("**"):
        if count == 2:  # micrograd names a Value exponent '**Value(data=...)'
            return rules.POW
        try:
            return rules.constant_power(float(op[2:]))
        except ValueError:
            pass
    if count > 2:
        raise ValueError(
            f"Value() op {op!r} got {count} _children; a node holds 1 or 2 inputs: "
            "build it from ops of one or two"
        )
    refuse_while_tracing(op)
    return HandWritten(op, count, node)


def _lift(x: object, rule: rules.Rule) -> Value:
    if isinstance(x, Value):
        return x
    if type(x) is float:  # the usual constant: skip building an error message
        return _Constant(x)
    return _Constant(_to_float(x, f"operand of '{rule.name}'"))


_new = Value.__new__
# The float a Value stores, read through the slot itself. The ops read their inputs this
# way off the hot path: a Value being traced (autodiff.compiler.guard) is of a kind whose
# ``.data`` refuses to be read by the traced function, and the ops are not that function.
_stored = Value.__dict__["data"].__get__


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
    """The slow path of recording an op: some thread is inside no_grad,
    detect_anomaly or a trace, so read the calling thread's own modes."""
    modes = _modes
    if modes.recording:
        out._rule = rule
        out._x = x
        out._y = y
    else:
        out._rule = out._x = out._y = None
    if modes.anomaly:
        _check_output(rule, x, y, out.data)
    if modes.tracer is not None:
        modes.tracer(out, rule, x, y)


def _unary(rule: rules.Rule, x: Value) -> Value:
    return _node(rule, rule.forward(x.data if state.plain else _stored(x)), x, None)


def apply(rule: rules.Rule, *inputs: Operand) -> Value:
    """Apply ``rule`` to Values or numbers and record the result in the graph."""
    if len(inputs) != rule.arity:
        raise TypeError(f"op '{rule.name}' takes {rule.arity} input(s), got {len(inputs)}")
    values = [_lift(x, rule) for x in inputs]
    data = _to_float(rule.forward(*[_stored(v) for v in values]), f"forward of op '{rule.name}'")
    return _node(rule, data, values[0], values[1] if len(values) == 2 else None)


def _check_output(rule: rules.Rule, x: Value, y: Value | None, data: float) -> None:
    if not math.isfinite(data):
        args = ", ".join(repr(_stored(v)) for v in (x, y) if v is not None)
        raise FloatingPointError(f"op '{rule.name}' produced {data} from input(s) ({args})")


_OP_METHODS: set[str] = set()  # Value's methods made from rules (a later rule may replace one)


def _install_method(rule: rules.Rule) -> None:
    """``Value.<rule.method>``: ``x.f()`` for a one-input rule, ``x.f(y)`` for two."""
    name = rule.method
    assert name is not None
    if hasattr(Value, name) and name not in _OP_METHODS:
        raise ValueError(
            f"Rule {rule.name!r}: method {name!r} is already Value.{name}, which is not an op"
        )
    doc = (rule.forward.__doc__ or "").strip().splitlines()
    summary = doc[0] if doc else f"The op {rule.name!r} of the rule table."
    if rule.arity == 1:
        method = _unary_op(rule, summary)
    else:

        def method(self: Value, other: Operand) -> Value:
            return apply(rule, self, other)

        method.__doc__ = summary
    method.__name__ = method.__qualname__ = name
    setattr(Value, name, method)
    _OP_METHODS.add(name)


for _rule in rules.METHODS.values():
    _install_method(_rule)
rules._on_register.append(_install_method)
