"""Backward at extreme values, as PyTorch float64 computes it.

Each row gives inputs, the upstream gradient fed to backward, and the gradients PyTorch's
backward formulas give (derivatives.yaml / FunctionsManual.cpp), each with the reason.
The numbers were confirmed by hand against torch 2.13.0 (CPU, float64); when torch is
installed, ``test_table_agrees_with_torch`` re-checks every row, otherwise it is skipped:
torch is not a dependency.

The row functions use only operations that Values and torch tensors share
(``+ - * / **``, ``abs``, ``.relu() .log() .sqrt()``), so one table serves both.
"""

from __future__ import annotations

import math

import pytest

from autodiff import Value, gradients

inf, nan = math.inf, math.nan


def _relu(x):
    return x.relu()


# (why, f, inputs, upstream gradient, expected gradient per input)
ROWS = [
    # relu masks: PyTorch's relu backward is "where(relu(x) <= 0, 0, g)", so nothing passes
    # left of 0, not even the inf that log, sqrt, ** and / send back from a 0.
    ("sqrt(relu(x)) at -1: masked, not 0 * inf", lambda x: x.relu().sqrt(), [-1.0], 1.0, [0.0]),
    ("sqrt(relu(x)) at 0", lambda x: x.relu().sqrt(), [0.0], 1.0, [0.0]),
    ("log(relu(x)) at -1", lambda x: x.relu().log(), [-1.0], 1.0, [0.0]),
    ("log(relu(x)) at 0", lambda x: x.relu().log(), [0.0], 1.0, [0.0]),
    ("relu(x) ** 0.5 at -1", lambda x: x.relu() ** 0.5, [-1.0], 1.0, [0.0]),
    ("relu(x) ** 0.5 at 0", lambda x: x.relu() ** 0.5, [0.0], 1.0, [0.0]),
    ("1 / relu(x) at -1", lambda x: 1.0 / x.relu(), [-1.0], 1.0, [0.0]),
    ("1 / relu(x) at 0", lambda x: 1.0 / x.relu(), [0.0], 1.0, [0.0]),
    ("relu at -1, upstream inf", _relu, [-1.0], inf, [0.0]),
    ("relu at 0, upstream nan", _relu, [0.0], nan, [0.0]),
    ("relu at -0.0, upstream -inf", _relu, [-0.0], -inf, [0.0]),
    ("relu at -inf, upstream nan", _relu, [-inf], nan, [0.0]),
    ("relu at nan passes the gradient: nan <= 0 is false", _relu, [nan], 1.0, [1.0]),
    ("relu at 2 passes inf", _relu, [2.0], inf, [inf]),
    ("relu at 2 passes nan", _relu, [2.0], nan, [nan]),
    # abs: "g * sgn(x)", and sgn(nan) = sgn(±0) = 0; a plain product, so 0 * inf is nan.
    ("abs at nan: sgn(nan) = 0", abs, [nan], 1.0, [0.0]),
    ("abs at nan, upstream -2: 0 * -2 = -0.0", abs, [nan], -2.0, [-0.0]),
    ("abs at nan, upstream inf: 0 * inf", abs, [nan], inf, [nan]),
    ("abs at 0, upstream inf: not masked", abs, [0.0], inf, [nan]),
    ("abs at -0.0, upstream -2: sgn(-0.0) = +0", abs, [-0.0], -2.0, [-0.0]),
    ("abs at -3, upstream inf", abs, [-3.0], inf, [-inf]),
    # x ** 0: "if exponent == 0: zeros_like(x)", a masked 0 whatever arrives.
    ("x ** 0 at 0, upstream inf", lambda x: x**0, [0.0], inf, [0.0]),
    ("x ** 0 at nan, upstream nan", lambda x: x**0, [nan], nan, [0.0]),
    ("x ** 0.0 at inf, upstream inf", lambda x: x**0.0, [inf], inf, [0.0]),
    # a ** b with b = 0: d/da is "where(b == 0, 0, g * b a^(b-1))" (masked); d/db is
    # "g * where(a == 0 and b >= 0, 0, a^b log a)", a plain product.
    ("a ** b at (2, 0), upstream inf", lambda a, b: a**b, [2.0, 0.0], inf, [0.0, inf]),
    ("a ** b at (0, 0), upstream inf", lambda a, b: a**b, [0.0, 0.0], inf, [0.0, nan]),
    ("a ** b at (nan, 0)", lambda a, b: a**b, [nan, 0.0], 1.0, [0.0, nan]),
    # division: d/da is "g / b" (one division), d/db "-g * ((a / b) / b)". With a small g
    # and a subnormal b, g / b is finite where g * (1 / b) overflows.
    (
        "1 / 1e-310, upstream 1e-20",
        lambda a, b: a / b,
        [1.0, 1e-310],
        1e-20,
        [1.000000000000003e290, -inf],
    ),
    (
        "1e-300 / 5e-324, upstream 1e-20",
        lambda a, b: a / b,
        [1e-300, 5e-324],
        1e-20,
        [2.024022533073106e303, -inf],
    ),
    ("1e-300 / -1e-310", lambda a, b: a / b, [1e-300, -1e-310], 1.0, [-inf, -inf]),
    # log: "g / x", a division too
    ("log at 1e-310, upstream 1e-20", lambda x: x.log(), [1e-310], 1e-20, [1.000000000000003e290]),
    ("log at 5e-324, upstream 1e-20", lambda x: x.log(), [5e-324], 1e-20, [2.024022533073106e303]),
    ("log at 0, upstream 0: 0 / 0", lambda x: x.log(), [0.0], 0.0, [nan]),
    ("log at -1, upstream 0: 0 / -1", lambda x: x.log(), [-1.0], 0.0, [-0.0]),
    # sqrt: "g / (2 sqrt x)"
    (
        "sqrt at 1e-320, upstream 1e-20",
        lambda x: x.sqrt(),
        [1e-320],
        1e-20,
        [5.000027832275681e139],
    ),
    ("sqrt at 0, upstream 0: 0 / 0", lambda x: x.sqrt(), [0.0], 0.0, [nan]),
    ("sqrt at inf, upstream inf: inf / inf", lambda x: x.sqrt(), [inf], inf, [nan]),
    # a ** b, d/db = a^b log a: nan for a negative base (log a = nan), also where a^b
    # underflows to 0; nan for an infinite base with b < 0 (0 * inf).
    ("(-2) ** 3", lambda a, b: a**b, [-2.0, 3.0], 1.0, [12.0, nan]),
    ("(-2) ** -1e6 underflows", lambda a, b: a**b, [-2.0, -1e6], 1.0, [0.0, nan]),
    ("(-1) ** 0", lambda a, b: a**b, [-1.0, 0.0], 1.0, [0.0, nan]),
    ("inf ** -3: 0 * log inf", lambda a, b: a**b, [inf, -3.0], 1.0, [-0.0, nan]),
    ("inf ** 0.5", lambda a, b: a**b, [inf, 0.5], 1.0, [0.0, inf]),
    ("(-inf) ** 2", lambda a, b: a**b, [-inf, 2.0], 1.0, [-inf, nan]),
    ("0.5 ** 1e6 underflows: 0 * log 0.5 = -0.0", lambda a, b: a**b, [0.5, 1e6], 1.0, [0.0, -0.0]),
    ("2 ** -1e6 underflows", lambda a, b: a**b, [2.0, -1e6], 1.0, [-0.0, 0.0]),
    ("0 ** -3: inf * log 0", lambda a, b: a**b, [0.0, -3.0], 1.0, [-inf, -inf]),
    ("(-0.0) ** -3: -inf * log 0", lambda a, b: a**b, [-0.0, -3.0], 1.0, [-inf, inf]),
    ("0 ** 0.5: d/db is 0 for a == 0, b >= 0", lambda a, b: a**b, [0.0, 0.5], 1.0, [inf, 0.0]),
]


def _same(actual: float, expected: float, signed_zero: bool = True) -> bool:
    """Equal as IEEE floats: nan equals nan, and (if signed_zero) the sign of a zero counts."""
    if math.isnan(expected):
        return math.isnan(actual)
    if not signed_zero:
        return actual == expected
    return actual == expected and math.copysign(1.0, actual) == math.copysign(1.0, expected)


_IDS = [row[0] for row in ROWS]


@pytest.mark.parametrize("why, f, inputs, upstream, expected", ROWS, ids=_IDS)
def test_backward_gives_pytorchs_gradient(why, f, inputs, upstream, expected):
    xs = [Value(x) for x in inputs]
    f(*xs).backward(upstream)
    got = [x.grad for x in xs]
    # A leaf's .grad starts at 0.0 (as micrograd's) and backward adds to it, so a first
    # gradient of -0.0 reads 0.0; PyTorch assigns it to a None .grad. The sign of zeros is
    # checked on the gradients() path below, which assigns.
    same = [_same(g, e, signed_zero=False) for g, e in zip(got, expected, strict=True)]
    assert all(same), (got, expected)


@pytest.mark.parametrize("why, f, inputs, upstream, expected", ROWS, ids=_IDS)
def test_gradients_of_gradients_path_gives_pytorchs_gradient(why, f, inputs, upstream, expected):
    xs = [Value(x) for x in inputs]
    got = gradients(f(*xs), xs, gradient=upstream, create_graph=True)
    got = [g.data if isinstance(g, Value) else g for g in got]
    assert all(_same(g, e) for g, e in zip(got, expected, strict=True)), (got, expected)


@pytest.mark.parametrize("why, f, inputs, upstream, expected", ROWS, ids=_IDS)
def test_table_agrees_with_torch(why, f, inputs, upstream, expected):
    torch = pytest.importorskip("torch")
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    f(*xs).backward(torch.tensor(upstream, dtype=torch.float64))
    got = [x.grad.item() for x in xs]
    assert all(_same(g, e) for g, e in zip(got, expected, strict=True)), (got, expected)


def test_second_derivative_through_relu_stays_right():
    # relu(x)^3 at x = 2: d2/dx2 = 6 x = 12 (torch gives 12 too); at x = -1 it is 0
    for x0, second in ((2.0, 12.0), (-1.0, 0.0)):
        x = Value(x0)
        (g,) = gradients(x.relu() ** 3, [x], create_graph=True)
        (h,) = gradients(g, [x]) if isinstance(g, Value) else (0.0,)
        assert h == second


def test_mixed_partial_of_a_power_at_zero_exponent_keeps_the_closed_form():
    # d2/(db da) a^b = a^(b-1) (1 + b log a) = 1/a at b = 0. PyTorch's masked d/da gives 0
    # for this order of differentiation; we keep the graph behind the mask and give 1/a.
    a, b = Value(2.0), Value(0.0)
    da, _ = gradients(a**b, [a, b], create_graph=True)
    assert da.data == 0.0
    (dab,) = gradients(da, [b])
    assert dab == 0.5
