"""The rule table: every operation's forward rule and each input's share of the gradient.

Read it like a calculus sheet. Each entry is

    NAME = Rule(symbol, forward, vjp=lambda g, *inputs, out: shares, method=...)

where ``forward(*inputs)`` computes the output from input floats and ``vjp`` returns,
given the output's gradient ``g`` (d loss / d out), the inputs and the output already
computed, each input's share of ``g``: d loss / d input along this use, which is
d(out)/d(input) * g. Most shares are that product (``b * g`` for ``a * b``); two kinds
are not, and say so in the vocabulary, as PyTorch computes them:

- dividing: ``div(g, x)`` for d/dx log x = 1/x (one rounding; g times 1/x can overflow);
- masking: ``masked_unless_positive(x, g)`` (relu) and ``masked_where_zero(k, y)`` (x^k at
  k = 0) are exactly 0.0 where the op has no effect, even for an infinite or nan g.

The shares use only ``+ - *`` and the small vocabulary defined below (``div``,
``power``, ``log``, the masks ...), which works on floats *and* on Values. On floats
they give the fast first-order backward pass; on Values they build a graph of the
gradient itself, which is how second and higher derivatives are taken
(``create_graph=True``; a mask is decided by the current numbers, locally constant).
The compiler reads the same lambdas with a placeholder for ``g`` (compiler.symbolic),
and forward mode applies them to tangents (a scalar op is its own adjoint). A rule's
local derivatives, which the readers print, are its shares of g = 1.0
(``rule.derivatives``: a mask gives 0.0 or 1.0, a division 1/x).

The engine (``autodiff.core.engine``) reads this table and never names an op.

To add an op, add one row here and one test:

    CUBE = Rule("cube", lambda x: x * x * x, vjp=lambda g, x, out: ((3.0 * x * x) * g,),
                method="cube")

or, for an op whose share only multiplies, give the local derivatives and the share is
``d * g``: ``Rule("cube", lambda x: x * x * x, lambda x, out: (3.0 * x * x,), method=...)``.
``method="cube"`` is what makes it an op of the library and not only a callable: the
row is registered in ``METHODS``, from which ``Value.cube()`` is made, the expression
language accepts ``cube(x)`` (one-input ops), ``autodiff grad --help`` lists it and the
compiler's placeholders record it. Backward, ``create_graph`` (write the share with the
vocabulary below), ``compile`` on both backends, ``explain`` and ``draw_dot`` need
nothing more. The test: the op's value and derivative against a closed form and
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
    """One operation: its name, forward rule and each input's share of the gradient.

    Calling a Rule applies it to Values or numbers and records the result in the
    graph, so a Rule is also the public way to define a custom op::

        cube = Rule("cube", lambda x: x ** 3, lambda x, out: (3 * x * x,))
        y = cube(Value(2.0))          # y.data == 8.0, dy/dx == 12.0

    An op takes one or two inputs. ``forward`` takes the input floats and returns a
    float. Its derivative is given in one of two forms:

    - ``derivatives(*inputs, out)``: one local derivative d(out)/d(input) per input;
      each input's share of the output's gradient g is then ``d * g``.
    - ``vjp=lambda g, *inputs, out: shares``: each input's share of g itself, for an op
      that does more than multiply (``div(g, x)`` divides once; ``masked_unless_positive(x,
      g)`` passes no inf or nan where x <= 0), as the table below does.

    Write either with ``+ - *`` and this module's vocabulary (``div, power, exp, log,
    sqrt, sin, cos, tanh, sigmoid, sign, masked_unless_positive, masked_where_zero``) if
    it should also work for higher-order derivatives and compile to readable code.

    With ``method="cube"`` the op also becomes ``Value.cube()`` (and, with one input, a
    function of the expression language and of the CLI): see ``METHODS``.
    """

    __slots__ = ("name", "forward", "derivatives", "vjp", "multiplies", "arity", "method")

    def __init__(
        self,
        name: str,
        forward: Callable[..., float],
        derivatives: Callable[..., tuple[Any, ...]] | None = None,
        arity: int | None = None,
        method: str | None = None,
        *,
        vjp: Callable[..., tuple[Any, ...]] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Rule name must be a non-empty str, got {name!r}")
        if (derivatives is None) == (vjp is None):
            raise TypeError(f"Rule {name!r}: give derivatives or vjp= (exactly one)")
        if not callable(forward) or not callable(derivatives or vjp):
            raise TypeError(f"Rule {name!r}: forward and derivatives must be callables")
        if arity is None:
            arity = _count_parameters(forward, name)
        if arity not in (1, 2):
            # the engine stores one or two inputs per node (see Value.__slots__);
            # compose larger ops from these
            raise ValueError(f"Rule {name!r}: an op takes 1 or 2 inputs, not {arity}")
        self.name = name
        self.forward = forward
        # True when the shares are local derivatives times g (the derivatives form)
        self.multiplies = vjp is None
        if derivatives is not None:
            self.derivatives = derivatives
            self.vjp = _multiplying(name, derivatives)
        else:
            self.vjp = vjp
            self.derivatives = _at_unit_gradient(vjp)
        self.arity = arity
        self.method = method
        if method is not None:
            _register(self, method)

    def __call__(self, *inputs: Value | float) -> Value:
        from autodiff.core.value import apply  # value.py imports this module

        return apply(self, *inputs)

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, arity={self.arity})"


def _times(d: Any, g: Any) -> Any:
    # multiplying by a constant 1 would only add a node to a gradient's graph
    return g if type(d) is float and d == 1.0 else d * g


def _multiplying(name: str, derivatives: Callable[..., Any]) -> Callable[..., tuple[Any, ...]]:
    """The shares of a rule given by local derivatives: d * g for each input."""

    def vjp(g: Any, *args: Any) -> tuple[Any, ...]:
        local = derivatives(*args)
        if not isinstance(local, (tuple, list)) or len(local) != len(args) - 1:
            raise TypeError(
                f"derivatives of op '{name}' must return a tuple of {len(args) - 1} value(s), "
                f"one per input; got {local!r}"
            )
        return tuple([_times(d, g) for d in local])

    return vjp


def _at_unit_gradient(vjp: Callable[..., Any]) -> Callable[..., tuple[Any, ...]]:
    """The local derivatives of a rule given by its shares: the shares of g = 1.0."""

    def derivatives(*args: Any) -> tuple[Any, ...]:
        return vjp(1.0, *args)

    return derivatives


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


# The vocabulary shares are written in: each works on floats (never raising,
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


def masked_unless_positive(x: Any, g: Any) -> Any:
    """g where x > 0 (or x is nan), else exactly 0.0: relu's share, masked as PyTorch (no
    upstream inf or nan gets through where x <= 0). On Values the mask is decided by x's
    current number (locally constant, so it has no derivative of its own)."""
    return 0.0 if _data(x) <= 0.0 else g


def masked_where_zero(k: Any, y: Any) -> Any:
    """y, but exactly 0.0 where k == 0 (nothing passes, not even inf or nan): d/dx x^k at
    k = 0. On Values a finite y (then ±0: 0 * a number) is kept as y + 0.0, so the gradient
    keeps its graph and its partials in k (d/dk of k x^(k-1) g = x^(k-1) g); -0.0 + 0.0 is
    0.0, as PyTorch's masked zeros."""
    if _data(k) != 0.0:
        return y
    if _is_number(y) or not math.isfinite(y.data):
        return 0.0
    return y + 0.0


# The table: each input's share of the output's gradient g.   forward    vjp: shares
ADD = Rule("+", operator.add, vjp=lambda g, a, b, out: (g, g))
SUB = Rule("-", operator.sub, vjp=lambda g, a, b, out: (g, -g))
MUL = Rule("*", operator.mul, vjp=lambda g, a, b, out: (b * g, a * g))
# d/da a/b = 1/b, applied as g / b (one rounding, as PyTorch); d/db a/b = -a/b^2 = -out/b
DIV = Rule("/", floats.div, vjp=lambda g, a, b, out: (div(g, b), (-div(out, b)) * g))
# d/da a^b = b a^(b-1), masked at b = 0 (a^0 is constant); d/db a^b = a^b log a
POW = Rule(
    "**",
    floats.power,
    vjp=lambda g, a, b, out: (
        masked_where_zero(b, (b * power(a, b - 1.0)) * g),
        exponent_slope(a, b, out) * g,
    ),
)
NEG = Rule("neg", operator.neg, vjp=lambda g, x, out: (-g,))
ABS = Rule("abs", abs, vjp=lambda g, x, out: (sign(x) * g,), method="abs")
EXP = Rule("exp", floats.exp, vjp=lambda g, x, out: (out * g,), method="exp")
LOG = Rule("log", floats.log, vjp=lambda g, x, out: (div(g, x),), method="log")
# d/dx sqrt(x) = 1 / (2 sqrt(x)), applied as g / (2 out)
SQRT = Rule("sqrt", floats.sqrt, vjp=lambda g, x, out: (div(g, 2.0 * out),), method="sqrt")
SIN = Rule("sin", floats.sin, vjp=lambda g, x, out: (cos(x) * g,), method="sin")
COS = Rule("cos", floats.cos, vjp=lambda g, x, out: ((-sin(x)) * g,), method="cos")
TANH = Rule(
    "tanh", math.tanh, vjp=lambda g, x, out: ((1.0 - out * out) * g,), arity=1, method="tanh"
)
SIGMOID = Rule(
    "sigmoid", floats.sigmoid, vjp=lambda g, x, out: ((out * (1.0 - out)) * g,), method="sigmoid"
)
# d/dx relu(x) = 1 where x > 0 (or nan), else 0: a mask, as PyTorch's (where relu(x) <= 0)
RELU = Rule(
    "relu", floats.relu, vjp=lambda g, x, out: (masked_unless_positive(x, g),), method="relu"
)
# d/da log(e^a + e^b) = e^a / (e^a + e^b) = sigmoid(a - b): 1 and 0 beside an inf, as PyTorch
LOGADDEXP = Rule(
    "logaddexp",
    floats.logaddexp,
    vjp=lambda g, a, b, out: (sigmoid(a - b) * g, sigmoid(b - a) * g),
    method="logaddexp",
)


@lru_cache(maxsize=1024)
def constant_power(k: float) -> Rule:
    """x ** k for a constant k:  d/dx x^k = k * x^(k-1)  (for k = 0 nothing passes: x^0 is
    constant, so its share is 0.0 even for an infinite g)."""
    if k == 0.0:
        return Rule("**0", lambda x: 1.0, vjp=lambda g, x, out: (0.0,))
    name = (
        f"**{k:g}" if float(f"{k:g}") == k else f"**{k!r}"
    )  # exact: '**2', '**0.3333333333333333'
    return Rule(
        name, lambda x: floats.power(x, k), vjp=lambda g, x, out: ((k * power(x, k - 1.0)) * g,)
    )
