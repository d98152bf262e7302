"""A safe expression language for the command line: "tanh(w*x + b)" to a graph of Values.

The text is parsed with Python's own parser (``ast.parse``, which builds a syntax tree
and runs nothing) and then checked against an allow-list before anything is built:

    expr   := number | name | expr OP expr | -expr | +expr | (expr) | FUNC(expr)
    OP     := + - * / **
    FUNC   := exp log sqrt tanh sigmoid relu abs sin cos (every one-input op of the
              rule table with a method name: ``FUNCTIONS``)

Everything else (attribute access, subscripts, lambdas, comprehensions, strings,
comparisons, other calls, names starting with "__") is refused with an
``ExpressionError`` that names the offending piece and its column. Nothing in the text
is ever evaluated by Python: the checked tree is walked by hand, iteratively, so long
expressions cannot exhaust the stack either. A flat chain too long for ``ast.parse``
(a sum of thousands of terms) is read by ``chains.parse_chain`` into the same tree.
"""

from __future__ import annotations

import ast
import functools
import keyword
import math
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping

from autodiff.core import rules
from autodiff.core.value import Value
from autodiff.frontend.chains import ChainError, parse_chain

MAX_LENGTH = 10_000
"""Longest expression accepted, in characters."""

MAX_DEPTH = 500
"""Deepest nesting accepted. Parentheses, calls, signs and powers each add a level; the
terms of a flat sum or product (x + y - ... + z, x * y / ... * z) share one, so the
length of a chain is bounded only by MAX_LENGTH."""


class _Functions(Mapping[str, Callable[[Value], Value]]):
    """The functions an expression may call, by name: every one-input op of the rule table
    with a method name (``rules.METHODS``), read live, so a row added there is one here."""

    def __getitem__(self, name: str) -> Callable[[Value], Value]:
        rule = rules.METHODS[name]
        if rule.arity != 1:
            raise KeyError(name)
        return getattr(Value, name)

    def __iter__(self) -> Iterator[str]:
        return (name for name, rule in rules.METHODS.items() if rule.arity == 1)

    def __len__(self) -> int:
        return sum(1 for _ in self)


FUNCTIONS: Mapping[str, Callable[[Value], Value]] = _Functions()


_BINARY = {
    ast.Add: Value.__add__,
    ast.Sub: Value.__sub__,
    ast.Mult: Value.__mul__,
    ast.Div: Value.__truediv__,
    ast.Pow: Value.__pow__,
}
_OPERATOR_SYMBOLS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _allowed() -> str:
    functions = ", ".join(f"{f}()" for f in FUNCTIONS)
    return f"numbers, names, + - * / **, unary minus, parentheses and {functions}"


class ExpressionError(ValueError):
    """An expression, or a NAME=VALUE binding, that is refused.

    ``column`` is the 1-based column of the offending piece (None when the problem
    is not at one place) and ``piece`` its text.
    """

    def __init__(self, message: str, column: int | None = None, piece: str = "") -> None:
        self.reason = message
        self.column = column
        self.piece = piece
        where = f"column {column}: " if column is not None else ""
        super().__init__(where + message)


def parse_expression(text: str) -> ast.Expression:
    """The checked syntax tree of ``text``; ExpressionError if it leaves the grammar."""
    if not isinstance(text, str):
        raise TypeError(f"expression must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(text)} characters long (at most {MAX_LENGTH})", MAX_LENGTH + 1
        )
    if not text.strip():
        raise ExpressionError("expression is empty", 1)
    bad = next((i for i, ch in enumerate(text) if not (ch.isprintable() or ch in " \t\r\n")), -1)
    if bad >= 0:
        raise ExpressionError(f"control character {text[bad]!r} is not allowed", bad + 1, text[bad])
    # Python refuses leading blanks ("unexpected indent"); parse without them and
    # report columns in the text as given.
    body = text.lstrip()
    shift = len(text) - len(body)
    try:
        tree = _parse_python(body)
    except SyntaxError as error:
        raise _syntax_error(error, body, shift) from None
    except ChainError as error:
        column = None if error.column is None else error.column + shift
        reason = f"{error.piece!r} is not allowed; use only {_allowed()}"
        raise ExpressionError(reason if error.piece else "invalid syntax", column) from None
    except MemoryError:
        raise ExpressionError(
            f"expression is nested too deeply (at most {MAX_DEPTH} levels)"
        ) from None
    except ValueError as error:  # e.g. integer literals beyond Python's digit limit
        raise ExpressionError(f"invalid expression: {error}") from None
    try:
        _check(tree.body, body)
    except ExpressionError as error:
        if error.column is None or not shift:
            raise
        raise ExpressionError(error.reason, error.column + shift, error.piece) from None
    return tree


def _parse_python(body: str) -> ast.Expression:
    """Python's syntax tree of ``body``; its warnings ("invalid decimal literal" in
    "1in(x)") become SyntaxErrors here instead of reaching the user's terminal."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SyntaxWarning)
        warnings.simplefilter("error", DeprecationWarning)  # "\d" before Python 3.12
        try:
            return ast.parse(body, mode="eval")
        except RecursionError:  # a chain of thousands of operators: read it iteratively
            pass
    return parse_chain(body)


def _syntax_error(error: SyntaxError, body: str, shift: int) -> ExpressionError:
    reason = "invalid syntax" if error.msg == "invalid syntax" else f"invalid syntax: {error.msg}"
    if error.lineno not in (None, 1) or not error.offset:
        # Python points past the end (offset 0): the expression stops where more was due
        end = body.rstrip()
        return ExpressionError(
            f"{reason}: the expression ends too soon, after {end[-10:]!r}",
            len(end) + 1 + shift,
        )
    near = body[error.offset - 1 : error.offset + 9].split("\n")[0]
    if near:
        reason += f" near {near!r}"
    return ExpressionError(reason, error.offset + shift, near)


def variable_names(tree: ast.Expression) -> list[str]:
    """Names of the variables in a parsed expression, in order of first appearance."""
    names: dict[str, None] = {}
    stack: list[ast.AST] = [tree.body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            names.setdefault(node.id, None)
        elif isinstance(node, ast.Call):
            stack.extend(reversed(node.args))
        else:
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return list(names)


def evaluate_expression(
    expression: str | ast.Expression, values: Mapping[str, float]
) -> tuple[Value, dict[str, Value]]:
    """Build the expression's graph: (output Value, {name: leaf Value}).

    Each variable becomes one leaf Value labelled with its name (used as often as
    it appears, so its gradients add up); numbers become unlabelled constant leaves,
    except a number exponent, which stays part of the op ("x**2").
    """
    tree = parse_expression(expression) if isinstance(expression, str) else expression
    names = variable_names(tree)
    missing = [n for n in names if n not in values]
    if missing:
        raise _missing_value(tree, expression if isinstance(expression, str) else "", missing)
    leaves = {name: Value(values[name], label=name) for name in names}
    return _build(tree.body, leaves), leaves


def _missing_value(tree: ast.Expression, text: str, missing: list[str]) -> ExpressionError:
    uses = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == missing[0]]
    first = min(uses, key=lambda n: (n.lineno, n.col_offset))
    body = text.lstrip()
    column = _column(first, body) if body else None
    more = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
    return ExpressionError(
        f"{missing[0]!r}: no value given; pass {missing[0]}=VALUE{more}",
        None if column is None else column + len(text) - len(body),
        missing[0],
    )


def parse_bindings(pairs: Iterable[str]) -> dict[str, float]:
    """{"x": 2.0, ...} from ["x=2", ...]; ExpressionError on a malformed or repeated pair."""
    bindings: dict[str, float] = {}
    for pair in pairs:
        name, sep, number = pair.partition("=")
        name = name.strip()
        if not sep:
            raise ExpressionError(f"{pair!r} is not NAME=VALUE (e.g. x=2.5)")
        _check_variable_name(name, f"in {pair!r}: ")
        if name in bindings:
            raise ExpressionError(f"{name} is given twice")
        value = _binding_number(number)
        if value is None:
            raise ExpressionError(f"in {pair!r}: {number.strip()!r} is not a number")
        bindings[name] = value
    return bindings


def _binding_number(text: str) -> float | None:
    """A number written as in an expression (2, -1.5e3, 0x10, 1_000) or as float() reads
    it ("inf", "nan"); None for anything else."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _number(tree.body)


def _check_variable_name(name: str, context: str = "") -> None:
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise ExpressionError(f"{context}{name!r} is not a variable name")
    if name.startswith("__"):
        raise ExpressionError(f"{context}names starting with '__' are not allowed")
    if name in FUNCTIONS:
        raise ExpressionError(f"{context}{name!r} is a function, not a variable")


def _check(root: ast.AST, text: str) -> None:
    """Raise ExpressionError at the first node outside the grammar (iterative walk)."""
    stack: list[tuple[ast.AST, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression is nested too deeply (at most {MAX_DEPTH} levels)")
        children = _operands(node, text)
        stack.extend((child, depth + _nesting(node, child)) for child in reversed(children))


_CHAINS = ({ast.Add, ast.Sub}, {ast.Mult, ast.Div})


def _nesting(parent: ast.AST, child: ast.AST) -> int:
    """0 for the next term of a flat chain (x + y + z is (x + y) + z), else 1."""
    if isinstance(parent, ast.BinOp) and isinstance(child, ast.BinOp) and child is parent.left:
        pair = {type(parent.op), type(child.op)}
        return 0 if any(pair <= chain for chain in _CHAINS) else 1
    return 1


def _operands(node: ast.AST, text: str) -> list[ast.expr]:
    """The sub-expressions of an allowed node, or ExpressionError for any other node."""
    if isinstance(node, ast.Constant):
        if type(node.value) in (int, float):
            return []
        raise _refuse(node, text, "only numbers are allowed as constants")
    if isinstance(node, ast.Name):
        source = _segment(node, text)
        if source.startswith("__"):
            raise _refuse(node, text, "names starting with '__' are not allowed")
        if not _NAME.match(source):
            raise _refuse(node, text, "variable names must be ASCII letters, digits and _")
        if node.id in FUNCTIONS:
            raise _refuse(node, text, f"{node.id} is a function: call it as {node.id}(...)")
        return []
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            symbol = _OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)
            hint = "; use ** for powers (x**2)" if isinstance(node.op, ast.BitXor) else ""
            raise _refuse(node, text, f"operator {symbol!r} is not supported{hint}")
        if isinstance(node.op, ast.Pow) and _number(node.right) is not None:
            return [node.left]
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            return [] if _number(node) is not None else [node.operand]
        symbol = _OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)
        raise _refuse(node, text, f"operator {symbol!r} is not supported")
    if isinstance(node, ast.Call):
        return _call_operands(node, text)
    raise _refuse(node, text, f"{_describe(node)} is not allowed; use only {_allowed()}")


def _call_operands(node: ast.Call, text: str) -> list[ast.expr]:
    if not isinstance(node.func, ast.Name):
        raise _refuse(
            node.func, text, "only the functions " + ", ".join(FUNCTIONS) + " can be called"
        )
    name = node.func.id
    if name not in FUNCTIONS:
        raise _refuse(node.func, text, f"unknown function {name!r}; known: " + ", ".join(FUNCTIONS))
    if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
        raise _refuse(node, text, f"{name}() takes exactly one argument")
    return [node.args[0]]


def _number(node: ast.expr) -> float | None:
    """The value of a number literal, optionally signed (-2, +1.5); None otherwise."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        if isinstance(node.op, ast.USub):
            sign = -sign
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        try:
            return sign * float(node.value)
        except OverflowError:  # an integer literal beyond the float range
            return sign * math.inf
    return None


def _build(root: ast.expr, leaves: Mapping[str, Value]) -> Value:
    """Walk the checked tree iteratively, inputs first, building Values."""
    results: list[Value] = []
    stack: list[tuple[ast.expr, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        operands = _operands(node, "") if not isinstance(node, ast.Name) else []
        if not ready and operands:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(operands))
            continue
        args = results[len(results) - len(operands) :]
        del results[len(results) - len(operands) :]
        results.append(_apply(node, args, leaves))
    return results[0]


def _apply(node: ast.expr, args: list[Value], leaves: Mapping[str, Value]) -> Value:
    if isinstance(node, ast.Name):
        return leaves[node.id]
    constant = _number(node)
    if constant is not None:
        return Value(constant)
    if isinstance(node, ast.UnaryOp):
        return -args[0] if isinstance(node.op, ast.USub) else args[0]
    if isinstance(node, ast.BinOp):
        if len(args) == 1:  # x ** <number>: the exponent is part of the op
            return args[0] ** _number(node.right)
        return _BINARY[type(node.op)](*args)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return FUNCTIONS[node.func.id](args[0])


def _segment(node: ast.AST, text: str) -> str:
    """The source text of a node (ast.get_source_segment re-splits the whole text on
    every call, which made checking a 5000-term sum take seconds)."""
    if not text:
        return getattr(node, "id", "")
    line = getattr(node, "lineno", None)
    if line is None or line != getattr(node, "end_lineno", None):
        return ast.get_source_segment(text, node) or ""
    return _utf8_lines(text)[line - 1][node.col_offset : node.end_col_offset].decode("utf-8")


@functools.lru_cache(maxsize=4)
def _utf8_lines(text: str) -> list[bytes]:
    """The lines of text, as ast numbers them (ast's columns count UTF-8 bytes)."""
    return [line.encode("utf-8") for line in re.split(r"\r\n|\r|\n", text)]


def _column(node: ast.AST, text: str) -> int | None:
    """1-based character column of a node (ast offsets count UTF-8 bytes)."""
    offset = getattr(node, "col_offset", None)
    if offset is None or getattr(node, "lineno", 1) != 1:
        return None
    return len(text.encode("utf-8")[:offset].decode("utf-8", errors="replace")) + 1


def _refuse(node: ast.AST, text: str, reason: str) -> ExpressionError:
    piece = _segment(node, text)
    shown = piece if len(piece) <= 40 else piece[:37] + "..."
    return ExpressionError(f"{shown!r}: {reason}", _column(node, text), piece)


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscripting",
        ast.Lambda: "lambda",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a generator expression",
        ast.Compare: "comparison",
        ast.BoolOp: "and/or",
        ast.IfExp: "if/else",
        ast.NamedExpr: "assignment (:=)",
        ast.JoinedStr: "an f-string",
        ast.Tuple: "a tuple",
        ast.List: "a list",
        ast.Dict: "a dict",
        ast.Set: "a set",
        ast.Starred: "unpacking (*)",
    }
    return kinds.get(type(node), type(node).__name__)
