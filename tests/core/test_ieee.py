"""IEEE-754 results as PyTorch gives them: no op raises, edges give inf or nan,
sigmoid and tanh stay exact and finite for every finite input."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from autodiff import Value, gradients

inf, nan = math.inf, math.nan


def _same_float(actual: float, expected: float) -> bool:
    """Equal as IEEE floats, where nan equals nan and the sign of zero and inf counts."""
    if math.isnan(expected):
        return math.isnan(actual)
    return actual == expected and math.copysign(1, actual) == math.copysign(1, expected)


# (what, forward on Values, expected output)
FORWARD_EDGES = [
    ("log(0)", lambda: Value(0.0).log(), -inf),
    ("log(-1)", lambda: Value(-1.0).log(), nan),
    ("log(inf)", lambda: Value(inf).log(), inf),
    ("1 / 0", lambda: Value(1.0) / Value(0.0), inf),
    ("1 / 0 number divisor", lambda: Value(1.0) / 0, inf),
    ("1 / 0 reflected", lambda: 1 / Value(0.0), inf),
    ("-1 / 0", lambda: Value(-1.0) / 0.0, -inf),
    ("1 / -0.0", lambda: Value(1.0) / -0.0, -inf),
    ("0 / 0", lambda: Value(0.0) / 0.0, nan),
    ("0 ** -1", lambda: Value(0.0) ** -1, inf),
    ("-0.0 ** -1", lambda: Value(-0.0) ** -1, -inf),
    ("0 ** -2", lambda: Value(0.0) ** -2, inf),
    ("0 ** -0.5", lambda: Value(0.0) ** -0.5, inf),
    ("0 ** Value(-1)", lambda: Value(0.0) ** Value(-1.0), inf),
    ("0 ** Value(-1) reflected", lambda: 0 ** Value(-1.0), inf),
    ("0 ** 0", lambda: Value(0.0) ** 0, 1.0),
    ("(-8) ** 0.5 is nan, not complex", lambda: Value(-8.0) ** 0.5, nan),
    ("(-8) ** Value(0.5)", lambda: Value(-8.0) ** Value(0.5), nan),
    ("(-2) ** 3", lambda: Value(-2.0) ** 3, -8.0),
    ("10 ** 400 overflows", lambda: Value(10.0) ** 400, inf),
    ("(-10) ** 401 overflows", lambda: Value(-10.0) ** 401, -inf),
    ("2 ** Value(5000)", lambda: 2 ** Value(5000.0), inf),
    ("exp(1000)", lambda: Value(1000.0).exp(), inf),
    ("exp(-1000)", lambda: Value(-1000.0).exp(), 0.0),
    ("exp(-inf)", lambda: Value(-inf).exp(), 0.0),
    ("sqrt(-1)", lambda: Value(-1.0).sqrt(), nan),
    ("sqrt(inf)", lambda: Value(inf).sqrt(), inf),
    ("sin(inf)", lambda: Value(inf).sin(), nan),
    ("cos(-inf)", lambda: Value(-inf).cos(), nan),
    ("tanh(1000)", lambda: Value(1000.0).tanh(), 1.0),
    ("tanh(-inf)", lambda: Value(-inf).tanh(), -1.0),
    ("sigmoid(-1000)", lambda: Value(-1000.0).sigmoid(), 0.0),
    ("sigmoid(1000)", lambda: Value(1000.0).sigmoid(), 1.0),
    ("sigmoid(-inf)", lambda: Value(-inf).sigmoid(), 0.0),
    ("sigmoid(nan)", lambda: Value(nan).sigmoid(), nan),
    ("relu(nan) stays nan", lambda: Value(nan).relu(), nan),
    ("relu(-inf)", lambda: Value(-inf).relu(), 0.0),
    ("relu(-0.0) keeps its sign, as PyTorch", lambda: Value(-0.0).relu(), -0.0),
    ("abs(-inf)", lambda: abs(Value(-inf)), inf),
    ("1e308 * 10", lambda: Value(1e308) * 10, inf),
    ("inf - inf", lambda: Value(inf) - inf, nan),
    ("inf * 0", lambda: Value(inf) * 0, nan),
]


@pytest.mark.parametrize(
    "build, expected", [c[1:] for c in FORWARD_EDGES], ids=[c[0] for c in FORWARD_EDGES]
)
def test_op_at_the_edge_of_its_domain_gives_the_ieee_result(build, expected):
    out = build()
    assert type(out.data) is float
    assert _same_float(out.data, expected), out.data


# (what, f of one Value, x, expected df/dx): the derivative formula evaluated in IEEE floats,
# as PyTorch's backward does.
GRADIENT_EDGES = [
    ("log at 0: 1/x", lambda x: x.log(), 0.0, inf),
    ("log at -1: 1/x", lambda x: x.log(), -1.0, -1.0),
    ("sqrt at 0: 1/(2 sqrt x)", lambda x: x.sqrt(), 0.0, inf),
    ("x ** 0.5 at 0", lambda x: x**0.5, 0.0, inf),
    ("x ** -1 at 0: -1/x^2", lambda x: x**-1, 0.0, -inf),
    ("x ** 0 at 0", lambda x: x**0, 0.0, 0.0),
    ("x ** 2 at 0", lambda x: x**2, 0.0, 0.0),
    ("1 / x at 0", lambda x: 1 / x, 0.0, -inf),
    ("exp at 1000", lambda x: x.exp(), 1000.0, inf),
    ("sigmoid at -1000", lambda x: x.sigmoid(), -1000.0, 0.0),
    ("sigmoid at 1000", lambda x: x.sigmoid(), 1000.0, 0.0),
    ("tanh at 1000", lambda x: x.tanh(), 1000.0, 0.0),
    ("tanh at -1000", lambda x: x.tanh(), -1000.0, 0.0),
    ("relu at 0", lambda x: x.relu(), 0.0, 0.0),
    ("abs at 0", lambda x: abs(x), 0.0, 0.0),
    ("0 ** x at x = 2: zero, not nan", lambda x: 0.0**x, 2.0, 0.0),
]


@pytest.mark.parametrize(
    "f, x0, expected", [c[1:] for c in GRADIENT_EDGES], ids=[c[0] for c in GRADIENT_EDGES]
)
def test_gradient_at_the_edge_of_the_domain_gives_the_ieee_result(f, x0, expected):
    x = Value(x0)
    f(x).backward()
    assert _same_float(x.grad, expected) or (expected == 0.0 and x.grad == 0.0), x.grad
    (g,) = gradients(f(x), [x])
    assert g == x.grad or (math.isnan(g) and math.isnan(x.grad))


def test_zero_to_a_value_power_zero_has_zero_base_gradient_like_pytorch():
    a, b = Value(0.0), Value(0.0)
    (a**b).backward()
    assert a.grad == 0.0


def test_zero_to_a_value_power_zero_has_zero_exponent_gradient_like_pytorch():
    b = Value(0.0)
    (0.0**b).backward()
    assert b.grad == 0.0


def test_sigmoid_far_left_is_zero_with_zero_gradient():
    x = Value(-1000.0)
    y = x.sigmoid()
    y.backward()
    assert (y.data, x.grad) == (0.0, 0.0)


def _sigmoid_reference(x: float) -> float:
    # exp(-log(1 + e^-x)) for x >= 0 and exp(x - log(1 + e^x)) for x < 0: no overflow anywhere
    if x >= 0:
        return math.exp(-math.log1p(math.exp(-x)))
    return math.exp(x - math.log1p(math.exp(x)))


def _sigmoid_slope_reference(x: float) -> float:
    # sigmoid'(x) = e^-|x| / (1 + e^-|x|)^2, symmetric in x
    e = math.exp(-abs(x))
    return e / (1 + e) ** 2


def _tanh_slope_reference(x: float) -> float:
    # 1 - tanh^2 = 1/cosh^2 = 4 e^(-2|x|) / (1 + e^(-2|x|))^2: e^(-2|x|) only underflows
    # (to 0, the right limit), where cosh(x)**2 overflows from |x| > 355
    e = math.exp(-2.0 * abs(x))
    return 4.0 * e / (1.0 + e) ** 2


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(finite)
def test_sigmoid_is_accurate_and_finite_for_every_finite_input(x0):
    x = Value(x0)
    y = x.sigmoid()
    y.backward()
    assert 0.0 <= y.data <= 1.0
    assert y.data == pytest.approx(_sigmoid_reference(x0), rel=1e-14, abs=1e-300)
    # out * (1 - out) as PyTorch computes it: exact to ~1e-16 absolute (largest slope 0.25)
    assert x.grad == pytest.approx(_sigmoid_slope_reference(x0), rel=1e-12, abs=2e-16)
    assert 0.0 <= x.grad <= 0.25


@pytest.mark.parametrize("x0", [356.0, -357.0, 400.0, 710.0, 1e308])
def test_tanh_slope_reference_is_finite_where_cosh_squared_overflows(x0):
    with pytest.raises(OverflowError):
        1 / math.cosh(x0) ** 2  # the old reference: fails the test, not the engine
    assert 0.0 <= _tanh_slope_reference(x0) < 1e-300  # the true slope, e^(-2|x|) scale
    x = Value(x0)
    x.tanh().backward()
    assert x.grad == 0.0  # tanh rounds to +-1 far out, so 1 - tanh^2 is exactly 0


def test_tanh_slope_reference_matches_one_over_cosh_squared_where_that_is_finite():
    for x0 in [0.0, 1e-8, 0.5, -1.0, 3.0, 20.0, -100.0, 350.0]:
        assert _tanh_slope_reference(x0) == pytest.approx(1 / math.cosh(x0) ** 2, rel=1e-14)


@given(finite)
@example(360.0)  # 355 < |x| <= 400: where the old reference 1/cosh(x)**2 overflowed
@example(-399.0)
def test_tanh_is_accurate_and_finite_for_every_finite_input(x0):
    x = Value(x0)
    y = x.tanh()
    y.backward()
    assert -1.0 <= y.data <= 1.0
    assert y.data == math.tanh(x0)
    assert x.grad == pytest.approx(_tanh_slope_reference(x0), rel=1e-12, abs=3e-16)
    assert 0.0 <= x.grad <= 1.0


_ONE_INPUT = {
    "neg": lambda x: -x,
    "abs": abs,
    "exp": Value.exp,
    "log": Value.log,
    "sqrt": Value.sqrt,
    "sin": Value.sin,
    "cos": Value.cos,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
}
_TWO_INPUTS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
    "** number": lambda a, b: a**b.data,
    "number **": lambda a, b: a.data**b,
    "number /": lambda a, b: a.data / b,
}
any_float = st.floats() | st.sampled_from([0.0, -0.0, inf, -inf, nan, 1e308, -1e308, 5e-324])


@given(st.sampled_from(sorted(_ONE_INPUT)), any_float)
def test_no_one_input_op_raises_on_any_float(name, x0):
    x = Value(x0)
    y = _ONE_INPUT[name](x)
    y.backward()
    gradients(_ONE_INPUT[name](x), [x], create_graph=True)
    assert type(y.data) is float and type(x.grad) is float


@given(st.sampled_from(sorted(_TWO_INPUTS)), any_float, any_float)
def test_no_two_input_op_raises_on_any_floats(name, a0, b0):
    a, b = Value(a0), Value(b0)
    y = _TWO_INPUTS[name](a, b)
    y.backward()
    gradients(_TWO_INPUTS[name](a, b), [a, b], create_graph=True)
    assert type(y.data) is float and type(a.grad) is float and type(b.grad) is float
