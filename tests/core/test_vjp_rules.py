"""Rules that state each input's share of the gradient g (``vjp=``), beside the
derivatives form: the vocabulary's masks and division, checked against closed forms,
central differences and PyTorch's documented edge semantics."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff
from autodiff import Rule, Value, floats, rules
from autodiff.readers.graph_facts import local_derivatives

finite = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False)
positive = st.floats(min_value=0.1, max_value=50.0)


def _central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_masked_unless_positive_passes_g_only_right_of_zero_and_for_nan():
    assert rules.masked_unless_positive(2.0, math.inf) == math.inf
    assert rules.masked_unless_positive(math.nan, 3.0) == 3.0  # as PyTorch: nan <= 0 is false
    for x in (0.0, -0.0, -1.0, -math.inf):
        for g in (1.0, math.inf, -math.inf, math.nan):
            got = rules.masked_unless_positive(x, g)
            assert got == 0.0 and math.copysign(1.0, got) == 1.0, (x, g)


def test_masked_where_zero_is_a_positive_zero_where_k_is_zero_whatever_y_is():
    for y in (1.5, math.inf, math.nan, -0.0):
        got = rules.masked_where_zero(0.0, y)
        assert got == 0.0 and math.copysign(1.0, got) == 1.0
    assert rules.masked_where_zero(2.0, -3.5) == -3.5


def test_masked_where_zero_on_values_keeps_the_gradient_graph_for_the_partial_in_k():
    # d/dx x^k = k x^(k-1), masked at k = 0; its partial in k at k = 0 is x^-1
    x, k = Value(2.0), Value(0.0)
    (gx,) = autodiff.gradients(x**k, [x], create_graph=True)
    assert gx.data == 0.0 and math.copysign(1.0, gx.data) == 1.0
    assert autodiff.gradients(gx, [k]) == [0.5]


@given(finite)
def test_a_custom_vjp_rule_matches_its_closed_form_and_central_differences(x):
    softsign = Rule(
        "softsign",
        lambda v: floats.div(v, 1.0 + abs(v)),
        vjp=lambda g, v, out: (rules.div(g, (1.0 + abs(v)) * (1.0 + abs(v))),),
    )
    v = Value(x)
    softsign(v).backward()
    closed = 1.0 / (1.0 + abs(x)) ** 2
    assert v.grad == pytest.approx(closed, rel=1e-12)
    if abs(x) > 1e-3:  # away from the kink of |x|
        assert v.grad == pytest.approx(_central(lambda t: t / (1 + abs(t)), x), rel=1e-6)


@given(positive, finite)
def test_a_custom_vjp_rule_gives_second_derivatives_and_compiles_like_eager(x, y):
    # f(x) = log(x) * y: its vjp divides; d2f/dx2 = -y / x^2
    logmul = Rule(
        "logmul",
        lambda a, b: floats.log(a) * b,
        vjp=lambda g, a, b, out: (rules.div(b * g, a), rules.log(a) * g),
    )
    a, b = Value(x), Value(y)
    (ga,) = autodiff.gradients(logmul(a, b), [a], create_graph=True)
    assert ga.data == pytest.approx(y / x, rel=1e-12)
    assert autodiff.gradients(ga, [a])[0] == pytest.approx(-y / x**2, rel=1e-9)
    w = Value(y)
    w.grad = 0.0
    logmul(Value(x), w).backward()
    eager = w.grad
    w.grad = 0.0
    autodiff.compile(lambda t: logmul(t, w), params=[w])(x)
    assert w.grad == eager  # the same float operations


def test_a_custom_masking_rule_passes_nothing_through_an_infinite_gradient_in_every_mode():
    ramp = Rule(
        "ramp",
        floats.relu,
        vjp=lambda g, x, out: (rules.masked_unless_positive(x, g),),
    )
    p = Value(0.0)
    (ramp(p) * math.inf).backward()
    assert p.grad == 0.0  # 0 * inf would be nan
    assert autodiff.jvp(lambda t: ramp(t) * 2.0, [0.0], [math.inf]) == (0.0, 0.0)
    assert autodiff.jvp(lambda t: ramp(t) * 2.0, [3.0], [1.5]) == (6.0, 3.0)


def test_local_derivatives_are_the_shares_of_a_unit_gradient():
    x = Value(-1.0)
    assert local_derivatives(x.relu()) == (0.0,)
    assert local_derivatives(Value(2.0).relu()) == (1.0,)
    assert local_derivatives(Value(4.0).log()) == (0.25,)
    a, b = Value(3.0), Value(8.0)
    assert local_derivatives(a / b) == (0.125, -3.0 / 64.0)
    assert local_derivatives(a**0.0) == (0.0,)
    assert rules.SIGMOID.derivatives(0.0, 0.5) == (0.25,)


def test_a_rule_takes_derivatives_or_vjp_and_names_itself_when_it_has_neither_or_both():
    with pytest.raises(TypeError, match="'half': give derivatives or vjp="):
        Rule("half", lambda x: x / 2)
    with pytest.raises(TypeError, match="'half': give derivatives or vjp="):
        Rule("half", lambda x: x / 2, lambda x, out: (0.5,), vjp=lambda g, x, out: (0.5 * g,))


def test_a_vjp_of_the_wrong_shape_is_named_in_one_line():
    bad = Rule("bad", lambda x: x, vjp=lambda g, x, out: g)  # a float, not a tuple
    with pytest.raises(TypeError, match="vjp of op 'bad' must return a tuple of 1 value"):
        bad(Value(1.0)).backward()
    with pytest.raises(TypeError, match="vjp of op 'bad' must return a tuple of 1 value"):
        autodiff.gradients(bad(Value(1.0)), [Value(1.0)])


def test_no_rule_of_the_table_uses_a_float_subclass():
    for name in ("MASKED", "step", "unless_zero", "reciprocal", "_Masking", "_Reciprocal"):
        assert not hasattr(rules, name), name
    for rule in (rules.RELU, rules.DIV, rules.LOG, rules.SQRT, rules.POW):
        for share in rule.vjp(math.inf, *([0.0] * (rule.arity + 1))):
            assert type(share) is float


def test_forward_mode_divides_as_backward_does():
    # d log(x) along t is t / x: one division, finite where t * (1 / x) overflows
    x, t = 5e-324, 1e-300
    assert floats.div(1.0, x) == math.inf
    value, tangent = autodiff.jvp(lambda v: v.log(), [x], [t])
    assert tangent == t / x and math.isfinite(tangent)
    v = Value(x)
    (v.log() * t).backward()
    assert v.grad == tangent
