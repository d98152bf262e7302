"""An iterative reader of the expression grammar, for long chains Python's ``ast`` refuses.

``ast.parse`` builds its tree recursively, one level per operator of a left-nested
chain, and gives up on a flat sum of about 3000 terms ("x + x + ... + x" on CPython
3.11: "maximum recursion depth exceeded during ast construction") although nothing in
it is nested. ``parse_chain`` reads the same grammar with an operator stack
(shunting-yard), without recursion, and returns the nodes ``ast.parse`` would have
built, positions included, so ``expr.py`` checks and builds them unchanged:

    expr   := number | name | expr OP expr | -expr | +expr | (expr) | name(expr)
    OP     := + - (lowest), * /, unary + -, ** (highest, right to left)

It is only given text that Python's parser accepted; anything outside the grammar
(a string, a comma, an attribute...) is refused with ``ChainError`` and its column.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from dataclasses import dataclass

# symbol: (ast operator, precedence, right-associative)
_BINARY: dict[str, tuple[type[ast.operator], int, bool]] = {
    "+": (ast.Add, 1, False),
    "-": (ast.Sub, 1, False),
    "*": (ast.Mult, 2, False),
    "/": (ast.Div, 2, False),
    "**": (ast.Pow, 4, True),
}
_UNARY: dict[str, type[ast.unaryop]] = {"-": ast.USub, "+": ast.UAdd}
_UNARY_PRECEDENCE = 3  # -x**2 is -(x**2), -x*y is (-x)*y, x**-y is x**(-y)

Position = tuple[int, int]  # (line, UTF-8 byte offset), as ast counts them


class ChainError(ValueError):
    """A token outside the grammar; ``column`` is 1-based, ``piece`` the token's text."""

    def __init__(self, piece: str, column: int | None) -> None:
        super().__init__(piece)
        self.piece = piece
        self.column = column


@dataclass
class _Operand:
    node: ast.expr
    start: Position  # of the text it came from, parentheses included
    end: Position


@dataclass
class _Operator:
    kind: str  # "binary", "unary", "(" or "call"
    token: tokenize.TokenInfo
    start: Position


def parse_chain(text: str) -> ast.Expression:
    """The tree ``ast.parse(text, mode="eval")`` gives, built without recursion."""
    tokens = [t for t in _tokens(text) if t.type not in _SKIPPED]
    operands: list[_Operand] = []
    operators: list[_Operator] = []
    expect_operand = True
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind, symbol = token.type, token.string
        if expect_operand and kind == tokenize.NUMBER:
            operands.append(_leaf(ast.Constant(value=_number(token)), token))
            expect_operand = False
        elif expect_operand and kind == tokenize.NAME and not keyword.iskeyword(symbol):
            if i + 1 < len(tokens) and tokens[i + 1].string == "(":
                operators.append(_Operator("call", token, _start(token)))
                i += 1
            else:
                operands.append(_leaf(ast.Name(id=symbol, ctx=ast.Load()), token))
                expect_operand = False
        elif expect_operand and symbol == "(":
            operators.append(_Operator("(", token, _start(token)))
        elif expect_operand and symbol in _UNARY:
            operators.append(_Operator("unary", token, _start(token)))
        elif not expect_operand and symbol in _BINARY:
            _, precedence, right = _BINARY[symbol]
            while operators and _binds_first(operators[-1], precedence, right):
                _reduce(operators.pop(), operands)
            operators.append(_Operator("binary", token, _start(token)))
            expect_operand = True
        elif not expect_operand and symbol == ")":
            while operators and operators[-1].kind not in ("(", "call"):
                _reduce(operators.pop(), operands)
            if not operators:
                raise _refuse(token)
            _close(operators.pop(), token, operands)
        else:
            raise _refuse(token)
        i += 1
    if expect_operand:
        raise _refuse(tokens[-1] if tokens else None)
    while operators:
        if operators[-1].kind in ("(", "call"):
            raise _refuse(operators[-1].token)
        _reduce(operators.pop(), operands)
    (result,) = operands
    return ast.Expression(body=result.node)


_SKIPPED = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENDMARKER}


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as error:
        raise ChainError(str(error), None) from None


def _binds_first(top: _Operator, precedence: int, right: bool) -> bool:
    """Whether the stacked operator takes its operands before a new binary one."""
    if top.kind == "unary":
        return _UNARY_PRECEDENCE > precedence
    if top.kind != "binary":
        return False
    _, stacked, _ = _BINARY[top.token.string]
    return stacked > precedence or (stacked == precedence and not right)


def _reduce(operator: _Operator, operands: list[_Operand]) -> None:
    if operator.kind == "unary":
        if not operands:
            raise _refuse(operator.token)
        operand = operands.pop()
        node = ast.UnaryOp(op=_UNARY[operator.token.string](), operand=operand.node)
        operands.append(_place(node, operator.start, operand.end))
        return
    if len(operands) < 2:
        raise _refuse(operator.token)
    right, left = operands.pop(), operands.pop()
    op = _BINARY[operator.token.string][0]()
    node = ast.BinOp(left=left.node, op=op, right=right.node)
    operands.append(_place(node, left.start, right.end))


def _close(opening: _Operator, token: tokenize.TokenInfo, operands: list[_Operand]) -> None:
    """At ")": a parenthesised operand widens to the parentheses; a call becomes a Call."""
    if not operands:
        raise _refuse(token)
    inner = operands.pop()
    if opening.kind == "(":
        operands.append(_Operand(inner.node, opening.start, _end(token)))
        return
    name = opening.token
    func = _leaf(ast.Name(id=name.string, ctx=ast.Load()), name).node
    call = ast.Call(func=func, args=[inner.node], keywords=[])
    operands.append(_place(call, opening.start, _end(token)))


def _number(token: tokenize.TokenInfo) -> object:
    return ast.literal_eval(token.string)  # ValueError beyond Python's digit limit


def _leaf(node: ast.expr, token: tokenize.TokenInfo) -> _Operand:
    return _place(node, _start(token), _end(token))


def _place(node: ast.expr, start: Position, end: Position) -> _Operand:
    node.lineno, node.col_offset = start
    node.end_lineno, node.end_col_offset = end
    return _Operand(node, start, end)


def _start(token: tokenize.TokenInfo) -> Position:
    return token.start[0], len(token.line[: token.start[1]].encode("utf-8"))


def _end(token: tokenize.TokenInfo) -> Position:
    return token.end[0], len(token.line[: token.end[1]].encode("utf-8"))


def _refuse(token: tokenize.TokenInfo | None) -> ChainError:
    if token is None:
        return ChainError("", None)
    column = token.start[1] + 1 if token.start[0] == 1 else None
    return ChainError(token.string, column)
