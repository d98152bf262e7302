"""The safe expression parser: its grammar, its gradients, and what it refuses."""

import builtins
import math
import time
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff.frontend import ExpressionError, evaluate_expression, parse_expression
from autodiff.frontend.expr import MAX_LENGTH, parse_bindings, variable_names


def grads(expression, **values):
    out, leaves = evaluate_expression(expression, values)
    out.backward()
    return out.data, {name: leaf.grad for name, leaf in leaves.items()}


# the grammar, with values and derivatives worked out by hand

t = math.tanh(0.5 * 2.0 - 1.0 + 0.3)  # tanh(w*x + b) at w=0.5, x=2, b=-0.7
s = 1 / (1 + math.exp(-0.5))  # sigmoid(0.5)

ACCEPTED = [
    ("x*y + x", {"x": 2.0, "y": 3.0}, 8.0, {"x": 4.0, "y": 2.0}),
    ("x - y / 4", {"x": 1.0, "y": 2.0}, 0.5, {"x": 1.0, "y": -0.25}),
    (
        "tanh(w*x + b)",
        {"w": 0.5, "x": 2.0, "b": -0.7},
        t,
        {"w": 2 * (1 - t * t), "x": 0.5 * (1 - t * t), "b": 1 - t * t},
    ),
    ("x**2 + 2**x", {"x": 3.0}, 17.0, {"x": 6.0 + 8.0 * math.log(2)}),
    ("x ** -1", {"x": 4.0}, 0.25, {"x": -1 / 16}),
    ("-x", {"x": 2.0}, -2.0, {"x": -1.0}),
    ("+x", {"x": 2.0}, 2.0, {"x": 1.0}),
    ("-(x * -2.5e-1)", {"x": 2.0}, 0.5, {"x": 0.25}),
    ("((x))", {"x": 2.0}, 2.0, {"x": 1.0}),
    ("sigmoid(x)", {"x": 0.5}, s, {"x": s * (1 - s)}),
    ("relu(x) + abs(y)", {"x": -1.0, "y": -2.0}, 2.0, {"x": 0.0, "y": -1.0}),
    ("sqrt(x) * log(x)", {"x": 4.0}, 2 * math.log(4), {"x": math.log(4) / 4 + 2 / 4}),
    ("sin(x) * cos(x)", {"x": 0.3}, math.sin(0.3) * math.cos(0.3), {"x": math.cos(0.6)}),
    ("exp(2 * x)", {"x": 0.5}, math.e, {"x": 2 * math.e}),
    ("1_000 * x + 0x10", {"x": 1.0}, 1016.0, {"x": 1000.0}),
    ("  x +\ty", {"x": 1.0, "y": 2.0}, 3.0, {"x": 1.0, "y": 1.0}),
    ("(x\n + y)", {"x": 1.0, "y": 2.0}, 3.0, {"x": 1.0, "y": 1.0}),
    ("_a1 * B", {"_a1": 2.0, "B": 5.0}, 10.0, {"_a1": 5.0, "B": 2.0}),
]


@pytest.mark.parametrize(("expression", "values", "value", "expected"), ACCEPTED)
def test_grammar_is_accepted_with_correct_values_and_gradients(expression, values, value, expected):
    got_value, got = grads(expression, **values)
    assert got_value == pytest.approx(value, rel=1e-12)
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-15), name


def test_a_repeated_variable_is_one_leaf_whose_gradients_add():
    out, leaves = evaluate_expression("x*x*x", {"x": 2.0})
    out.backward()
    assert list(leaves) == ["x"] and leaves["x"].label == "x"
    assert leaves["x"].grad == 12.0  # 3 x^2


def test_a_number_exponent_stays_in_the_op():
    out, _ = evaluate_expression("x**3", {"x": 2.0})
    assert out._op == "**3" and len(out._prev) == 1
    out, _ = evaluate_expression("x**y", {"x": 2.0, "y": 3.0})
    assert out._op == "**" and len(out._prev) == 2


def test_variable_names_in_order_of_first_appearance():
    assert variable_names(parse_expression("b * exp(a) + b - c")) == ["b", "a", "c"]


@settings(max_examples=50, deadline=None)
@given(
    st.floats(-3, 3),
    st.floats(-3, 3),
    st.floats(0.1, 3),
)
def test_parsed_gradients_match_central_differences(x, y, z):
    expression = "tanh(x*y) + sqrt(z) * sin(x) - y / z + exp(-z)"

    def f(x, y, z):  # the same expression, written out in plain Python
        return math.tanh(x * y) + math.sqrt(z) * math.sin(x) - y / z + math.exp(-z)

    value, got = grads(expression, x=x, y=y, z=z)
    assert value == pytest.approx(f(x, y, z), rel=1e-12, abs=1e-12)
    h = 1e-6
    numeric = {
        "x": (f(x + h, y, z) - f(x - h, y, z)) / (2 * h),
        "y": (f(x, y + h, z) - f(x, y - h, z)) / (2 * h),
        "z": (f(x, y, z + h) - f(x, y, z - h)) / (2 * h),
    }
    for name in "xyz":
        assert got[name] == pytest.approx(numeric[name], rel=1e-5, abs=1e-6)


def test_huge_powers_are_inf_at_once():
    start = time.perf_counter()
    value, _ = grads("2**10**10 + x", x=1.0)
    assert value == math.inf
    assert time.perf_counter() - start < 1.0


# refusals

HOSTILE = [
    "__import__('os').system('echo pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.real",
    "x[0]",
    "lambda: 1",
    "[i for i in range(3)]",
    "{i: i for i in x}",
    "(i for i in x)",
    "(x := 1)",
    "f'{x}'",
    "'abc'",
    "b'abc'",
    "True",
    "None",
    "...",
    "1j",
    "open('secret')",
    "eval('1')",
    "exec('x=1')",
    "getattr(x, 'real')",
    "exp(x, x)",
    "exp(x=1)",
    "exp(*x)",
    "exp",
    "exp.__call__(x)",
    "x if x else 1",
    "x < 1",
    "x and x",
    "not x",
    "~x",
    "x // 2",
    "x % 2",
    "x @ x",
    "x ^ x",
    "x << 1",
    "(x, x)",
    "[x]",
    "{x}",
    "{'a': x}",
    "__builtins__",
    "__x__ + 1",
    "yield x",
    "await x",
    "x; import os",
    "import os",
    "x = 1",
    "x +",
    "",
    "   ",
    "x\x00",
    "x\x1b[2J",
    "é + 1",
    "(" * 300 + "x" + ")" * 300,
    "-" * 5000 + "x",
    "+".join(["x"] * 3000) + ".real",
    "x" * (MAX_LENGTH + 1),
    "1" + "0" * 5000,
]


@pytest.fixture
def no_eval(monkeypatch):
    """Make eval and exec explode, so any use of them fails the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must never be called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)


@pytest.mark.parametrize("expression", HOSTILE, ids=lambda e: repr(e[:30]))
def test_hostile_expressions_are_refused_with_one_line(expression, no_eval):
    with pytest.raises(ExpressionError) as caught:
        evaluate_expression(expression, {"x": 1.0})
    message = str(caught.value)
    assert message and "\n" not in message and len(message) < 400


def test_refused_input_runs_nothing(tmp_path, monkeypatch, no_eval):
    monkeypatch.chdir(tmp_path)
    for expression in [
        "__import__('pathlib').Path('MARKER').touch()",
        "open('MARKER', 'w')",
        "(lambda: open('MARKER', 'w'))()",
    ]:
        with pytest.raises(ExpressionError):
            evaluate_expression(expression, {})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("expression", "column", "piece", "words"),
    [
        ("x + y.z", 5, "y.z", "attribute"),
        ("x + foo(x)", 5, "foo", "unknown function"),
        ("x * exp(x, x)", 5, "exp(x, x)", "one argument"),
        ("x + 'a'", 5, "'a'", "numbers"),
        ("x // 2", 1, "x // 2", "'//'"),
        ("x + __y", 5, "__y", "'__'"),
        ("  x.y", 3, "x.y", "attribute"),
        ("x +* 2", 4, "* 2", "syntax"),
        ("é + x", 1, "é", "ASCII"),
        ("x + exp", 5, "exp", "function"),
    ],
)
def test_errors_point_at_the_offending_piece(expression, column, piece, words):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(expression)
    assert caught.value.column == column
    assert caught.value.piece == piece
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"column {column}: ")


def test_missing_values_are_named_with_their_first_column():
    with pytest.raises(ExpressionError, match=r"column 5: 'y': no value given; pass y=VALUE"):
        evaluate_expression("x + y * y + z", {"x": 1.0})
    with pytest.raises(ExpressionError, match="also missing: z"):
        evaluate_expression("x + y * y + z", {"x": 1.0})


def test_too_long_and_too_deep_say_so():
    with pytest.raises(ExpressionError, match=f"at most {MAX_LENGTH}"):
        parse_expression("x" * (MAX_LENGTH + 1))
    with pytest.raises(ExpressionError, match="nested"):
        parse_expression("(" * 300 + "x" + ")" * 300)
    for deep in ["-" * 501 + "x", "**".join(["x"] * 502), "-x**" * 251 + "x"]:
        with pytest.raises(ExpressionError, match=r"nested too deeply \(at most 500 levels\)"):
            parse_expression(deep)
    # and exactly 500 is allowed, as the README says
    assert evaluate_expression("-" * 500 + "x", {"x": 2.0})[0].data == 2.0
    parse_expression("**".join(["x"] * 501))


@pytest.mark.parametrize("n", [501, 2999, 3000, 4999])
def test_long_flat_sums_parse_because_depth_counts_nesting_not_terms(n):
    # x + x + ... + x (n terms) = n x, d/dx = n; 3000 terms is past ast.parse's own limit
    value, got = grads("+".join(["x"] * n), x=0.5)
    assert value == n * 0.5 and got == {"x": float(n)}


def test_long_flat_products_and_mixed_chains_parse():
    n = 2000
    # x * x * ... * x = x^n, d/dx = n x^(n-1); at x = 1 both are exact
    value, got = grads("*".join(["x"] * n), x=1.0)
    assert value == 1.0 and got == {"x": float(n)}
    # x - y + x - y ... (n pairs) = n (x - y); (x / y) * y / y * y ... keeps x / y
    value, got = grads("+".join(["x-y"] * 2000), x=3.0, y=1.0)
    assert value == 2.0 * 2000 and got == {"x": 2000.0, "y": -2000.0}
    value, got = grads("x/y" + "*y/y" * 2000, x=3.0, y=2.0)
    assert value == 1.5 and got == pytest.approx({"x": 0.5, "y": -0.75}, rel=1e-12)


def test_a_long_chain_inside_parentheses_and_calls_parses():
    # 3 levels of nesting around 3000 terms: tanh((x + ... + x) * 0) = 0, d/dx = 0
    value, got = grads("tanh((" + "+".join(["x"] * 3000) + ") * 0)", x=1.0)
    assert value == 0.0 and got == {"x": 0.0}


def test_refusals_in_a_long_chain_point_at_the_piece():
    text = "+".join(["x"] * 3000) + " + y.z"
    with pytest.raises(ExpressionError) as caught:
        parse_expression("  " + text)
    assert caught.value.column == len(text) - 1 + 2  # the '.', after two leading blanks
    assert "'.' is not allowed" in str(caught.value)


def test_python_syntax_warnings_stay_inside_the_parser():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(ExpressionError, match="invalid decimal literal") as caught:
            parse_expression("1in(x)")
    assert seen == []
    assert caught.value.column == 1


def test_caret_suggests_double_star():
    with pytest.raises(ExpressionError, match=r"operator '\^' is not supported; use \*\* for"):
        parse_expression("x^2")


def test_non_strings_are_a_type_error():
    with pytest.raises(TypeError):
        parse_expression(42)


# NAME=VALUE bindings


def test_bindings_parse_floats_in_order():
    got = parse_bindings(["x=2", "y=-0.5", "big=1e3", "n=nan", "i=-inf"])
    assert list(got) == ["x", "y", "big", "n", "i"]
    assert got["x"] == 2.0 and got["y"] == -0.5 and got["big"] == 1000.0
    assert math.isnan(got["n"]) and got["i"] == -math.inf


@pytest.mark.parametrize(
    ("text", "value"),
    [("0x10", 16.0), ("-0x10", -16.0), ("1_000", 1000.0), ("0b101", 5.0), ("0o17", 15.0),
     ("+2", 2.0), (" 3 ", 3.0), ("1e3", 1000.0), (".5", 0.5), ("-2.5e-1", -0.25)],
)  # fmt: skip
def test_bindings_accept_the_number_syntax_of_expressions(text, value):
    assert parse_bindings([f"x={text}"]) == {"x": value}
    # the same text inside an expression gives the same number
    assert evaluate_expression(f"y + ({text})", {"y": 0.0})[0].data == value


@pytest.mark.parametrize("text", ["2j", "1+1", "x", "(1)(2)", "0x", "1__0", "'1'"])
def test_bindings_refuse_what_is_not_a_number(text):
    with pytest.raises(ExpressionError, match="is not a number"):
        parse_bindings([f"x={text}"])


@pytest.mark.parametrize(
    ("pairs", "words"),
    [
        (["x"], "not NAME=VALUE"),
        (["=2"], "not a variable name"),
        (["x=abc"], "'abc' is not a number"),
        (["x="], "is not a number"),
        (["x=1", "x=2"], "x is given twice"),
        (["exp=1"], "is a function"),
        (["__x=1"], "'__'"),
        (["lambda=1"], "not a variable name"),
        (["a.b=1"], "not a variable name"),
        (["é=1"], "not a variable name"),
    ],
)
def test_bad_bindings_are_refused(pairs, words):
    with pytest.raises(ExpressionError, match=words):
        parse_bindings(pairs)


@pytest.mark.parametrize(
    "text",
    ["x*", "x +", "  x**", "(x", "sin(", "x y", "1e", "x +* y", "", "   ", "lambda: 1",
     "x[0]", "x.data", "f(x)", "x if y else 1", "'s'", "x = 1", "1in(x)", "x" * 10_001],
)  # fmt: skip
def test_every_parser_error_has_a_column(text):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert caught.value.column is not None, str(caught.value)
    assert str(caught.value).startswith(f"column {caught.value.column}: ")


def test_an_expression_that_stops_early_points_past_its_end():
    with pytest.raises(ExpressionError) as caught:
        parse_expression("x*")
    assert caught.value.column == 3
    assert "ends too soon, after 'x*'" in str(caught.value)
