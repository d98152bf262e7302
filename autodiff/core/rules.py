"""The rule table: every operation's forward rule and its local derivatives.

Read it like a calculus sheet. Each entry is

    NAME = Rule(symbol, forward, derivatives, method=...)

where ``forward(*inputs)`` computes the output from input floats and
``derivatives(*inputs, out)`` returns d(out)/d(input) for each input, given the
inputs and the output already computed. The derivative expressions use only
``+ - *`` and the small vocabulary defined below (``div``, ``power``, ``log`` ...),
which works on floats *and* on Values. On floats they give the fast first-order
backward pass; on Values they build a graph of the gradient itself, which is how
second and higher derivatives are taken (``create_graph=True``).

The engine (``autodiff.core.engine``) reads this table and never names an op.

To add an op, add one row here and one test:

    CUBE = Rule("cube", lambda x: x * x * x, lambda x, out: (3.0 * x * x,), method="cube")

``method="cube"`` is what makes it an op of the library and not only a callable: the
row is registered in ``METHODS``, from which ``Value.cube()`` is made, the expression
language accepts ``cube(x)`` (one-input ops), ``autodiff grad --help`` lists it and the
compiler's placeholders record it. Backward, ``create_graph`` (write the derivative
with the vocabulary below), ``compile`` on both backends, ``explain`` and ``draw_dot``
need nothing more. The test: the op's value and derivative against a closed form and
central differences (see tests/core/test_add_an_op.py). Your own code may do the same
with ``Rule(..., method=...)`` outside this file.
"""

from __future__ import annotations

import inspect
import math
import operator
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from autodiff.core import floats

if TYPE_CHECKING:
    from autodiff.core.value import Value

Number = (int, float)


class Rule:
    """One operation: its name, forward rule and local derivatives.

    Calling a Rule applies it to Values or numbers and records the result in the
    graph, so a Rule is also the public way to define a custom op::

        cube = Rule("cube", lambda x: x ** 3, lambda x, out: (3 * x * x,))
        y = cube(Value(2.0))          # y.data == 8.0, dy/dx == 12.0

    An op takes one or two inputs. ``forward`` takes the input floats and returns a
    float. ``derivatives`` takes the inputs and the output and returns one local
    derivative per input. Write it with ``+ - *`` and this module's ``div, power,
    exp, log, sqrt, sin, cos, tanh, sigmoid`` if it should also work for
    higher-order derivatives; ``reciprocal(x)`` (chained as g / x), ``step(x)`` and
    ``MASKED`` (a 0 no upstream inf or nan gets through) when the op masks or divides.

    With ``method="cube"`` the op also becomes ``Value.cube()`` (and, with one input, a
    function of the expression language and of the CLI): see ``METHODS``.
    """

    __slots__ = ("name", "forward", "derivatives", "arity", "method")

    def __init__(
        self,
        name: str,
        forward: Callable[..., float],
        derivatives: Callable[..., tuple[Any, ...]],
        arity: int | None = None,
        method: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Rule name must be a non-empty str, got {name!r}")
        if not callable(forward) or not callable(derivatives):
            raise TypeError(f"Rule {name!r}: forward and derivatives must be callables")
        if arity is None:
            arity = _count_parameters(forward, name)
        if arity not in (1, 2):
            # the engine stores one or two inputs per node (see Value.__slots__);
            # compose larger ops from these
            raise ValueError(f"Rule {name!r}: an op takes 1 or 2 inputs, not {arity}")
        self.name = name
        self.forward = forward
        self.derivatives = derivatives
        self.arity = arity
        self.method = method
        if method is not None:
            _register(self, method)

    def __call__(self, *inputs: Value | float) -> Value:
        from autodiff.core.value import apply  # value.py imports this module

        return apply(self, *inputs)

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, arity={self.arity})"


METHODS: dict[str, Rule] = {}
"""The ops with a method name, by that name: ``Value``'s methods (``x.tanh()``), the
expression language's functions and the CLI's list of ops are made from it."""

_on_register: list[Callable[[Rule], None]] = []  # Value installs each new method


def _register(rule: Rule, method: str) -> None:
    if not isinstance(method, str) or not method.isidentifier() or method.startswith("_"):
        raise ValueError(f"Rule {rule.name!r}: method must be a public Python name, got {method!r}")
    for install in _on_register:  # may refuse the name (Value.backward is not an op)
        install(rule)
    METHODS[method] = rule  # a later row of the same name replaces the earlier one


def _count_parameters(forward: Callable[..., float], name: str) -> int:
    try:
        params = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        raise TypeError(f"Rule {name!r}: cannot read forward's arity; pass arity=") from None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise TypeError(f"Rule {name!r}: forward takes *args; pass arity=")
    return len(params)


# The vocabulary derivatives are written in: each works on floats (never raising,
# see autodiff.core.floats) and on Values (recording graph nodes).


def _is_number(x: object) -> bool:
    return isinstance(x, Number)


def _data(x: Any) -> float:
    return x if _is_number(x) else x.data


def div(a: Any, b: Any) -> Any:
    """a / b."""
    return floats.div(a, b) if _is_number(a) and _is_number(b) else a / b


def power(a: Any, b: Any) -> Any:
    """a ** b."""
    return floats.power(a, b) if _is_number(a) and _is_number(b) else a**b


def exp(x: Any) -> Any:
    """e ** x."""
    return floats.exp(x) if _is_number(x) else x.exp()


def log(x: Any) -> Any:
    """Natural logarithm."""
    return floats.log(x) if _is_number(x) else x.log()


def sqrt(x: Any) -> Any:
    """Square root."""
    return floats.sqrt(x) if _is_number(x) else x.sqrt()


def sin(x: Any) -> Any:
    """Sine."""
    return floats.sin(x) if _is_number(x) else x.sin()


def cos(x: Any) -> Any:
    """Cosine."""
    return floats.cos(x) if _is_number(x) else x.cos()


def tanh(x: Any) -> Any:
    """Hyperbolic tangent."""
    return math.tanh(x) if _is_number(x) else x.tanh()


def sigmoid(x: Any) -> Any:
    """Logistic sigmoid 1 / (1 + e^-x)."""
    return floats.sigmoid(x) if _is_number(x) else x.sigmoid()


def exponent_slope(a: Any, b: Any, out: Any) -> Any:
    """d/db a^b = a^b log a; 0 where a == 0 and b >= 0 (log 0 = -inf), as PyTorch.

    Elsewhere it is the plain product, also where PyTorch's is nan: a negative or
    infinite base (log a = nan, or 0 · inf when a^b underflows).
    """
    return 0.0 if _data(a) == 0.0 and _data(b) >= 0.0 else out * log(a)


def sign(x: Any) -> float:
    """-1, 0 or 1; 0 at ±0 and at nan (PyTorch's sgn): a constant, so its own derivative is 0."""
    return floats.sign(_data(x))


# Local derivatives that chain by more than a multiplication. The engine forms
# "local derivative * upstream gradient" and names no op; these two kinds of local
# derivative define that product themselves, the way PyTorch's backward computes it.
# Each is a float (its value as a local derivative) that readers print like any other.


class _Masking(float):
    """A local derivative 0 that blocks: 0 * g = 0 for every g, inf and nan included.

    On Values it may carry ``through``, the expression this 0 is the value of (b a^(b-1)
    at b = 0): the product is then ``through * g`` wherever that is a number, so the
    gradient keeps its graph and its own partials in other inputs (d/db of b a^(b-1) = 1/a).
    """

    __slots__ = ("through",)

    def __mul__(self, other: Any) -> Any:
        if self.through is not None:
            product = self.through * other
            if math.isfinite(_data(product)):  # then it is ±0: 0 * (a number)
                return product + 0.0  # -0.0 + 0.0 = 0.0, as PyTorch's masked zeros
        return 0.0

    __rmul__ = __mul__

    def __neg__(self) -> _Masking:
        return _masking(-self.through if self.through is not None else None)


def _masking(through: Any) -> _Masking:
    m = _Masking(0.0)
    m.through = through
    return m


class _Reciprocal(float):
    """A local derivative 1/x that chains by division: its product with g is g / x."""

    __slots__ = ("divisor",)

    def __mul__(self, other: Any) -> Any:
        if type(other) is _Masking:  # a masked factor wins in either order
            return other * 1.0
        return div(other, self.divisor)

    __rmul__ = __mul__


MASKED = _masking(None)
"""Masking 0: the local derivative of an input that has no effect at all here (x^0, relu
left of 0); no upstream gradient passes, not even inf or nan (PyTorch's masked backward)."""


def step(x: Any) -> float:
    """d/dx relu(x): 1 where x > 0 or x is nan, else MASKED (PyTorch masks where relu(x) <= 0)."""
    return MASKED if _data(x) <= 0.0 else 1.0


def unless_zero(k: Any, d: Any) -> Any:
    """d, but a masking 0 where k == 0: d/dx x^k at k = 0 passes nothing upstream (PyTorch).
    On Values the 0 keeps d's graph (see _Masking), for the partials of the gradient in k."""
    if _data(k) != 0.0:
        return d
    return MASKED if _is_number(d) else _masking(d)


def reciprocal(x: Any) -> Any:
    """1 / x, chained as g / x: PyTorch divides (one rounding; finite for tiny g over a
    subnormal x, where 1 / x alone overflows)."""
    r = _Reciprocal(floats.div(1.0, x if _is_number(x) else _stored(x)))
    r.divisor = x
    return r


def _stored(v: Value) -> float:
    """v's float as stored. Reading it decides nothing (the product divides), so a trace
    of ``f`` need not refuse it as it refuses the branches above (see compiler.guard)."""
    from autodiff.core.value import Value  # value.py imports this module

    return Value.__dict__["data"].__get__(v)


# The table.                 forward                         d out / d input
ADD = Rule("+", operator.add, lambda a, b, out: (1.0, 1.0))
SUB = Rule("-", operator.sub, lambda a, b, out: (1.0, -1.0))
MUL = Rule("*", operator.mul, lambda a, b, out: (b, a))
DIV = Rule("/", floats.div, lambda a, b, out: (reciprocal(b), -div(out, b)))
POW = Rule(
    "**",
    floats.power,
    lambda a, b, out: (unless_zero(b, b * power(a, b - 1.0)), exponent_slope(a, b, out)),
)
NEG = Rule("neg", operator.neg, lambda x, out: (-1.0,))
ABS = Rule("abs", abs, lambda x, out: (sign(x),), method="abs")
EXP = Rule("exp", floats.exp, lambda x, out: (out,), method="exp")
LOG = Rule("log", floats.log, lambda x, out: (reciprocal(x),), method="log")
SQRT = Rule("sqrt", floats.sqrt, lambda x, out: (reciprocal(2.0 * out),), method="sqrt")
SIN = Rule("sin", floats.sin, lambda x, out: (cos(x),), method="sin")
COS = Rule("cos", floats.cos, lambda x, out: (-sin(x),), method="cos")
TANH = Rule("tanh", math.tanh, lambda x, out: (1.0 - out * out,), arity=1, method="tanh")
SIGMOID = Rule("sigmoid", floats.sigmoid, lambda x, out: (out * (1.0 - out),), method="sigmoid")
RELU = Rule("relu", floats.relu, lambda x, out: (step(x),), method="relu")
# d/da log(e^a + e^b) = e^a / (e^a + e^b) = sigmoid(a - b): 1 and 0 beside an inf, as PyTorch
LOGADDEXP = Rule(
    "logaddexp",
    floats.logaddexp,
    lambda a, b, out: (sigmoid(a - b), sigmoid(b - a)),
    method="logaddexp",
)


@lru_cache(maxsize=1024)
def constant_power(k: float) -> Rule:
    """x ** k for a constant k:  d/dx x^k = k * x^(k-1)  (MASKED for k = 0: x^0 is constant)."""
    if k == 0.0:
        return Rule("**0", lambda x: 1.0, lambda x, out: (MASKED,))
    name = (
        f"**{k:g}" if float(f"{k:g}") == k else f"**{k!r}"
    )  # exact: '**2', '**0.3333333333333333'
    return Rule(name, lambda x: floats.power(x, k), lambda x, out: (k * power(x, k - 1.0),))
