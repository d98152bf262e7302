"""The iterative reader of long chains builds exactly the tree Python's parser builds."""

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff.frontend.chains import ChainError, parse_chain

names = st.sampled_from(["x", "y", "w1", "_b"])
numbers = st.one_of(
    st.integers(0, 10**6).map(str),
    st.floats(0, 1e6, allow_nan=False).map(repr),
    st.sampled_from(["0x10", "1_000", "2.5e-3", "3.", ".5", "1e+16"]),
)
blank = st.sampled_from(["", " ", "  "])


@st.composite
def binary(draw, operand):
    op = draw(st.sampled_from(["+", "-", "*", "/", "**"]))
    return draw(operand) + draw(blank) + op + draw(blank) + draw(operand)


expressions = st.recursive(
    st.one_of(names, numbers),
    lambda inner: st.one_of(
        binary(inner),
        inner.map(lambda e: f"-{e}"),
        inner.map(lambda e: f"+ {e}"),
        inner.map(lambda e: f"({e})"),
        st.tuples(st.sampled_from(["tanh", "exp", "f"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
    ),
    max_leaves=12,
)


def same_tree(text):
    expected = ast.dump(ast.parse(text, mode="eval"), include_attributes=True)
    assert ast.dump(parse_chain(text), include_attributes=True) == expected


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_random_expressions_give_pythons_tree_with_positions(text):
    same_tree(text)


@pytest.mark.parametrize(
    "text",
    [
        "-x**2",  # -(x**2)
        "x**-y**2",  # x**(-(y**2))
        "-x*y",  # (-x)*y
        "x - (y - z)",
        "(x+y)*z",  # the product starts at the parenthesis
        "(x\n + y) * 2",  # continued inside parentheses
        "x + 1  # a comment",
        "é + 1",  # refused later by the checker, read the same here
        "1j * x",
    ],
)
def test_precedence_associativity_and_positions_match_python(text):
    same_tree(text)


def test_a_chain_of_thousands_of_terms_is_read_without_recursion():
    text = "+".join(["x"] * 5000)
    with pytest.raises(RecursionError):
        ast.parse(text, mode="eval")  # why this reader exists (CPython 3.11)
    tree = parse_chain(text)
    assert isinstance(tree.body, ast.BinOp) and tree.body.end_col_offset == len(text)


@pytest.mark.parametrize(
    ("text", "piece", "column"),
    [
        ("x.real", ".", 2),
        ("x, y", ",", 2),
        ("f()", ")", 3),
        ("x[0]", "[", 2),
        ("'s' + x", "'s'", 1),
        ("lambda: 1", "lambda", 1),
        ("x if y else z", "if", 3),
        ("x < y", "<", 3),
        ("x // y", "//", 3),
        ("x +", "+", 3),
    ],
)
def test_anything_outside_the_grammar_is_refused_at_its_column(text, piece, column):
    with pytest.raises(ChainError) as caught:
        parse_chain(text)
    assert (caught.value.piece, caught.value.column) == (piece, column)
