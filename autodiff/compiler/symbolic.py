"""The rule table read symbolically: each Rule's forward and shares as expressions.

A backend needs a rule's math as code, not as numbers. Rather than write the
derivatives a second time, we call each rule's own lambdas once on placeholder
objects (``Sym``) that record what is done to them. The shares of ``*``,
``lambda g, a, b, out: (b * g, a * g)``, called on placeholders ``g, x0, x1, out``,
return ``(x1 * g, x0 * g)``; that of ``tanh`` returns ``(1.0 - out * out) * g``.

The lambdas are written in ``+ - *``, unary minus and the vocabulary of
``autodiff.core.rules`` (``div power exp log ... sign masked_unless_positive
masked_where_zero``). While a lambda runs here, every vocabulary function it names (and
``floats.*``) is swapped for a recorder, so a function that branches on data
(``exponent_slope``: 0 where a == 0; ``masked_unless_positive``: 0 where x <= 0) becomes
one node; each backend says once how to compute it (a call, or a ``where``). A rule given
by local derivatives is read the same way and each derivative d becomes the share d * g.
A lambda that does anything else (reads ``.data``, calls ``math``) cannot be read this
way: its form is ``None`` and the Python backend calls the rule's ``vjp`` itself.
"""

from __future__ import annotations

import inspect
import math
import operator
import types
from collections.abc import Callable
from typing import Any

from autodiff.core import floats, rules

# The operators every rule may use, by name.
_OPERATORS = {operator.add: "add", operator.sub: "sub", operator.mul: "mul", operator.neg: "neg"}


def _public_functions(module: types.ModuleType) -> dict[str, Callable[..., Any]]:
    return {
        name: fn
        for name, fn in vars(module).items()
        if inspect.isfunction(fn) and not name.startswith("_") and fn.__module__ == module.__name__
    }


# The vocabulary: every public function of rules.py and floats.py, by name. A function
# of the same name means the same thing in both (rules.X on floats is floats.X).
VOCABULARY: dict[str, Callable[..., Any]] = {
    **_public_functions(rules),
    **_public_functions(floats),
    "tanh": math.tanh,
    "abs": abs,
}

# Functions recognised by identity when they are a rule's forward (e.g. ADD's operator.add).
_KNOWN: dict[Any, str] = {
    **_OPERATORS,
    **{fn: name for name, fn in _public_functions(floats).items()},
    math.tanh: "tanh",
    abs: "abs",
}


class SymbolicError(Exception):
    """A rule's lambda did something a placeholder cannot record."""


class Sym:
    """An expression: a placeholder (``fn == "arg"``), a constant or a call of ``fn``."""

    __slots__ = ("fn", "args")

    def __init__(self, fn: str, args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args

    @staticmethod
    def arg(name: str) -> Sym:
        return Sym("arg", (name,))

    @staticmethod
    def const(x: float) -> Sym:
        return Sym("const", (float(x),))

    # + - * / ** and unary minus record themselves
    def __add__(self, other: Any) -> Sym:
        return call("add", self, other)

    def __radd__(self, other: Any) -> Sym:
        return call("add", other, self)

    def __sub__(self, other: Any) -> Sym:
        return call("sub", self, other)

    def __rsub__(self, other: Any) -> Sym:
        return call("sub", other, self)

    def __mul__(self, other: Any) -> Sym:
        return call("mul", self, other)

    def __rmul__(self, other: Any) -> Sym:
        return call("mul", other, self)

    def __truediv__(self, other: Any) -> Sym:
        return call("div", self, other)

    def __rtruediv__(self, other: Any) -> Sym:
        return call("div", other, self)

    def __pow__(self, other: Any) -> Sym:
        return call("power", self, other)

    def __rpow__(self, other: Any) -> Sym:
        return call("power", other, self)

    def __neg__(self) -> Sym:
        return call("neg", self)

    def __abs__(self) -> Sym:
        return call("abs", self)

    def __getattr__(self, name: str) -> Callable[[], Sym]:
        """The Value methods a rule calls on a placeholder (``x.exp()``): the rule table's
        named ops (``rules.METHODS``), each recorded as a call of that name."""
        if name in rules.METHODS:
            return lambda *more: call(name, self, *more)
        raise AttributeError(name)

    @property
    def data(self) -> float:
        raise SymbolicError("the rule reads .data (it branches on a number)")

    def __float__(self) -> float:
        raise SymbolicError("the rule converts to float")

    def __bool__(self) -> bool:
        raise SymbolicError("the rule branches on a value")

    def __lt__(self, other: Any) -> bool:
        raise SymbolicError("the rule compares values")

    __le__ = __gt__ = __ge__ = __lt__

    def __repr__(self) -> str:
        return render(self, {})


def call(fn: str, *args: Any) -> Sym:
    """The expression ``fn(*args)``; numbers become constants."""
    return Sym(fn, tuple(a if isinstance(a, Sym) else _constant(a) for a in args))


def _constant(x: Any) -> Sym:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise SymbolicError(f"the rule uses a {type(x).__name__}")
    return Sym.const(x)


def _recorder(name: str) -> Callable[..., Sym]:
    def record(*args: Any) -> Sym:
        return call(name, *args)

    record.__name__ = name
    return record


class _Namespace:
    """Stands in for the ``rules`` or ``floats`` module inside a lambda being read."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        if name in VOCABULARY and VOCABULARY[name] is getattr(self._module, name, None):
            return _recorder(name)
        return getattr(self._module, name)


def _by_identity() -> dict[int, str]:
    table = {id(fn): name for name, fn in VOCABULARY.items()}
    table.update({id(fn): name for name, fn in _public_functions(rules).items()})
    table.update({id(fn): name for fn, name in _KNOWN.items()})
    return table


_IDENTITY = _by_identity()
_MODULES = {id(rules): _Namespace(rules), id(floats): _Namespace(floats)}


def _readable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its vocabulary swapped for recorders (same code, closures, defaults)."""
    if not isinstance(fn, types.FunctionType):
        raise SymbolicError(f"cannot read {fn!r}")
    swapped = {}
    for key, val in fn.__globals__.items():
        if id(val) in _IDENTITY and not isinstance(val, type):
            swapped[key] = _recorder(_IDENTITY[id(val)])
        elif id(val) in _MODULES:
            swapped[key] = _MODULES[id(val)]
    names = dict(fn.__globals__, **swapped)
    return types.FunctionType(fn.__code__, names, fn.__name__, fn.__defaults__, fn.__closure__)


class RuleForms:
    """A rule read symbolically: ``forward`` and each input's share (``products``) as Sym
    trees over the placeholders ``g``, ``x0`` (``x1``) and ``out``, or None where the
    lambda cannot be read."""

    __slots__ = (
        "rule",
        "forward",
        "why",
        "forward_template",
        "product_templates",
        "reads",
        "products",
        "shares",
    )

    def __init__(self, rule: rules.Rule) -> None:
        self.rule = rule
        names = [f"x{i}" for i in range(rule.arity)]
        inputs = [Sym.arg(n) for n in names]
        self.why = ""
        self.forward = self._read(rule.forward, inputs)
        g = Sym.arg("g")
        # each input's share of the output's gradient g: the adjoint program's expressions
        if rule.multiplies:  # local derivatives d: the share is d * g
            local = self._read(rule.derivatives, [*inputs, Sym.arg("out")], many=True)
            self.products = None if local is None else [_times(d, g) for d in local]
        else:
            self.products = self._read(rule.vjp, [g, *inputs, Sym.arg("out")], many=True)
        products = self.products
        # the same texts as render() gives, precomputed where the form is plain arithmetic
        self.forward_template = None if self.forward is None else template(self.forward)
        self.product_templates = None if products is None else [template(p) for p in products]
        # (k, product, template) per input: the adjoint program's shares for this rule
        self.shares = [
            (k, None if products is None else products[k], t)
            for k, t in enumerate(self.product_templates or [None] * rule.arity)
        ]
        # per share: the positions (0, 1 for the inputs, arity for out) it reads besides g
        order = [*names, "out"]
        self.reads = (
            None
            if products is None
            else [sorted(order.index(p) for p in placeholders(d) - {"g"}) for d in products]
        )

    def _read(self, fn: Callable[..., Any], args: list[Sym], many: bool = False) -> Any:
        try:
            if id(fn) in _IDENTITY:
                return call(_IDENTITY[id(fn)], *args)
            result = _readable(fn)(*args)
            if many:
                if not isinstance(result, (tuple, list)) or len(result) != self.rule.arity:
                    raise SymbolicError("the shares are not one per input")
                return tuple(r if isinstance(r, Sym) else _constant(r) for r in result)
            return result if isinstance(result, Sym) else _constant(result)
        except Exception as exc:  # any failure: this part of the rule runs as a call
            self.why = self.why or str(exc) or type(exc).__name__
            return None


def _times(d: Sym, g: Sym) -> Sym:
    """The share ``d * g`` of a local derivative, as rules' own form writes it (a constant 1
    passes g as it is)."""
    if d.fn == "const" and d.args[0] == 1.0:
        return g
    return call("mul", d, g)


_FORMS: dict[int, tuple[rules.Rule, RuleForms]] = {}


def forms(rule: rules.Rule) -> RuleForms:
    """The symbolic forms of ``rule`` (read once per Rule object, then cached)."""
    hit = _FORMS.get(id(rule))
    if hit is None or hit[0] is not rule:
        hit = (rule, RuleForms(rule))
        _FORMS[id(rule)] = hit
    return hit[1]


_INFIX = {"add": ("+", 1), "sub": ("-", 1), "mul": ("*", 2)}


def render(
    expr: Sym, names: dict[str, Any], calls: Callable[[str, list[str]], str] | None = None
) -> str:
    """Text of ``expr`` (``v3 * g7``, ``1.0 - v5 * v5``, ``div(1.0, v2)``), with each
    placeholder replaced by ``names`` and each call written by ``calls(fn, args)``.

    Parentheses keep the tree's grouping exactly (float arithmetic is not associative).
    A name may be a pair (text, precedence): an expression put in place of a placeholder."""
    return render_with_precedence(expr, names, calls)[0]


def render_with_precedence(
    expr: Sym, names: dict[str, Any], calls: Callable[[str, list[str]], str] | None = None
) -> tuple[str, int]:
    """render(), and the precedence of the text's outermost operation."""
    return _render(expr, names, calls or _plain_call)


def _plain_call(fn: str, args: list[str]) -> str:
    return f"{fn}({', '.join(args)})"


def _render(expr: Sym, names: dict[str, Any], calls: Any) -> tuple[str, int]:
    """(text, precedence): 1 for + -, 2 for *, 3 for unary minus, 4 for atoms and calls."""
    if expr.fn == "arg":
        name = names.get(expr.args[0], expr.args[0])
        return name if isinstance(name, tuple) else (name, 4)  # (text, precedence) is kept
    if expr.fn == "const":
        text = number(expr.args[0])
        return (text, 4) if not text.startswith("-") else (text, 3)
    parts = [_render(a, names, calls) for a in expr.args]
    if expr.fn in _INFIX:
        symbol, prec = _INFIX[expr.fn]
        (left, lp), (right, rp) = parts
        left = left if lp >= prec else f"({left})"
        right = right if rp > prec else f"({right})"
        return f"{left} {symbol} {right}", prec
    if expr.fn == "neg":
        inner, ip = parts[0]
        return (f"-{inner}" if ip >= 3 else f"-({inner})"), 3
    return calls(expr.fn, [text for text, _ in parts]), 4


class _NotArithmetic(Exception):
    pass


Template = tuple[list[Any], Any]  # pieces (text, or (placeholder, precedence it needs)), prec


def template(expr: Sym) -> Template | None:
    """``expr`` as a fill-in template, if it is plain arithmetic (no call): ``fill`` then
    gives render()'s text without walking the tree again (generation is linear in ops
    with a small constant: one join per op)."""
    pieces: list[Any] = []
    try:
        prec = _pieces(expr, 0, pieces)
    except _NotArithmetic:
        return None
    return pieces, prec


def _pieces(expr: Sym, need: int, out: list[Any]) -> int | None:
    """Append ``expr``'s pieces; its precedence (None for a bare placeholder)."""
    if expr.fn == "arg":
        out.append((expr.args[0], need))
        return None
    if expr.fn == "const":
        text = number(expr.args[0])
        prec = 3 if text.startswith("-") else 4
    elif expr.fn in _INFIX:
        symbol, prec = _INFIX[expr.fn]
        left, right = expr.args
        inner: list[Any] = []
        _operand(left, prec, inner)
        inner.append(f" {symbol} ")
        _operand(right, prec + 1, inner)
    elif expr.fn == "neg":
        inner = ["-"]
        _operand(expr.args[0], 3, inner)
        prec = 3
    else:
        raise _NotArithmetic
    if expr.fn == "const":
        inner = [text]
    if prec < need:
        out.append("(")
        out.extend(inner)
        out.append(")")
    else:
        out.extend(inner)
    return prec


def _operand(expr: Sym, need: int, out: list[Any]) -> None:
    _pieces(expr, need, out)


def fill(t: Template, names: dict[str, Any]) -> tuple[str, int]:
    """(text, precedence) of a template with its placeholders named, as render() writes it."""
    pieces, prec = t
    parts = []
    for piece in pieces:
        if type(piece) is str:
            parts.append(piece)
            continue
        name = names[piece[0]]
        text, have = name if type(name) is tuple else (name, 4)
        if prec is None:  # the whole expression is this placeholder
            return text, have
        parts.append(text if have >= piece[1] else f"({text})")
    return "".join(parts), prec


def number(x: float) -> str:
    """A float as text that reads back exactly (``inf``, ``nan`` by name)."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def placeholders(expr: Sym) -> set[str]:
    """The placeholder names (x0, x1, out) that ``expr`` reads."""
    if expr.fn == "arg":
        return {expr.args[0]}
    if expr.fn == "const":
        return set()
    return set().union(*(placeholders(a) for a in expr.args))
