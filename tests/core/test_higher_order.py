"""grad, hessian and hvp: higher derivatives against closed forms and central differences.

Every expected number here comes from calculus written in the test or from
central differences of the (first-order) gradient, never from the code under test.
"""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autodiff import Rule, Value, gradients, hessian, hvp, no_grad
from autodiff import grad as grad_

FAST = settings(max_examples=25, deadline=None)


def derivative(f, *argnums):
    """The partial derivative of f by argument argnums[0], then argnums[1], ..."""
    for i in argnums:
        f = grad_(f, i)
    return f


def near(x, rel=1e-9, abs=1e-9):
    return pytest.approx(x, rel=rel, abs=abs)


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(hi):
    return st.one_of(floats(0.05, hi), floats(-hi, -0.05))


# ---- unary ops: f', f'' and f''' against closed forms ------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def _tanh_derivatives(x):
    t = math.tanh(x)
    return 1 - t * t, -2 * t * (1 - t * t), (6 * t * t - 2) * (1 - t * t)


def _sigmoid_derivatives(x):
    s = _sigmoid(x)
    return s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)


def _sign(x):
    return 1.0 if x > 0 else -1.0


#        name       op                     domain                 (f', f'', f''') in closed form
UNARY = [
    ("exp", lambda x: x.exp(), floats(-5, 5), lambda x: (math.exp(x),) * 3),
    ("log", lambda x: x.log(), floats(0.1, 10), lambda x: (1 / x, -1 / x**2, 2 / x**3)),
    (
        "sqrt",
        lambda x: x.sqrt(),
        floats(0.1, 10),
        lambda x: (0.5 * x**-0.5, -0.25 * x**-1.5, 0.375 * x**-2.5),
    ),
    (
        "sin",
        lambda x: x.sin(),
        floats(-10, 10),
        lambda x: (math.cos(x), -math.sin(x), -math.cos(x)),
    ),
    (
        "cos",
        lambda x: x.cos(),
        floats(-10, 10),
        lambda x: (-math.sin(x), -math.cos(x), math.sin(x)),
    ),
    ("tanh", lambda x: x.tanh(), floats(-3, 3), _tanh_derivatives),
    ("sigmoid", lambda x: x.sigmoid(), floats(-6, 6), _sigmoid_derivatives),
    ("relu", lambda x: x.relu(), away_from_zero(10), lambda x: (float(x > 0), 0.0, 0.0)),
    ("abs", lambda x: abs(x), away_from_zero(10), lambda x: (_sign(x), 0.0, 0.0)),
    ("neg", lambda x: -x, floats(-10, 10), lambda x: (-1.0, 0.0, 0.0)),
]


@pytest.mark.parametrize(
    "op, domain, closed_form", [u[1:] for u in UNARY], ids=[u[0] for u in UNARY]
)
def test_unary_op_first_second_and_third_derivatives_match_closed_form(op, domain, closed_form):
    @FAST
    @given(domain)
    def check(x):
        d1, d2, d3 = closed_form(x)
        assert derivative(op, 0)(x) == near(d1)
        assert derivative(op, 0, 0)(x) == near(d2)
        assert derivative(op, 0, 0, 0)(x) == near(d3)

    check()


@FAST
@given(
    st.sampled_from([-2.5, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 3.7]),
    floats(0.2, 5),
)
def test_constant_power_derivatives_match_closed_form(k, x):
    def f(x):
        return x**k

    assert derivative(f, 0, 0)(x) == near(k * (k - 1) * x ** (k - 2))
    assert derivative(f, 0, 0, 0)(x) == near(k * (k - 1) * (k - 2) * x ** (k - 3))


@FAST
@given(st.sampled_from([-1, 2, 3, 4]), floats(-5, -0.2))
def test_integer_power_of_negative_base_has_closed_form_derivatives(k, x):
    def f(x):
        return x**k

    assert derivative(f, 0, 0)(x) == near(k * (k - 1) * x ** (k - 2))
    assert derivative(f, 0, 0, 0)(x) == near(k * (k - 1) * (k - 2) * x ** (k - 3))


# ---- binary ops: every second and third partial derivative ----------------------------------


def _power_partials(x, y):
    lx = math.log(x)
    return {
        (0, 0): y * (y - 1) * x ** (y - 2),
        (0, 1): x ** (y - 1) * (1 + y * lx),
        (1, 1): x**y * lx**2,
        (0, 0, 0): y * (y - 1) * (y - 2) * x ** (y - 3),
        (0, 0, 1): x ** (y - 2) * ((2 * y - 1) + y * (y - 1) * lx),
        (0, 1, 1): x ** (y - 1) * lx * (2 + y * lx),
        (1, 1, 1): x**y * lx**3,
    }


def _quotient_partials(a, b):
    return {
        (0, 0): 0.0,
        (0, 1): -1 / b**2,
        (1, 1): 2 * a / b**3,
        (0, 0, 0): 0.0,
        (0, 0, 1): 0.0,
        (0, 1, 1): 2 / b**3,
        (1, 1, 1): -6 * a / b**4,
    }


def _product_partials(a, b):
    return {(0, 0): 0.0, (0, 1): 1.0, (1, 1): 0.0} | {
        k: 0.0 for k in [(0, 0, 0), (0, 0, 1), (0, 1, 1), (1, 1, 1)]
    }


def _linear_partials(a, b):
    return {k: 0.0 for k in [(0, 0), (0, 1), (1, 1), (0, 0, 0), (0, 0, 1), (0, 1, 1), (1, 1, 1)]}


#         name   op                      domains of (a, b)                   partials
BINARY = [
    ("pow", lambda a, b: a**b, (floats(0.2, 5), floats(-3, 3)), _power_partials),
    ("div", lambda a, b: a / b, (floats(-5, 5), away_from_zero(5)), _quotient_partials),
    ("mul", lambda a, b: a * b, (floats(-5, 5), floats(-5, 5)), _product_partials),
    ("add", lambda a, b: a + b, (floats(-5, 5), floats(-5, 5)), _linear_partials),
    ("sub", lambda a, b: a - b, (floats(-5, 5), floats(-5, 5)), _linear_partials),
]

ORDERS = [(i, j) for i in (0, 1) for j in (0, 1)] + [
    (i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)
]


@pytest.mark.parametrize(
    "op, domains, partials", [b[1:] for b in BINARY], ids=[b[0] for b in BINARY]
)
def test_binary_op_second_and_third_partials_match_closed_form(op, domains, partials):
    @settings(max_examples=10, deadline=None)
    @given(*domains)
    def check(a, b):
        expected = partials(a, b)
        for order in ORDERS:
            # mixed partials do not depend on the order of differentiation
            assert derivative(op, *order)(a, b) == near(expected[tuple(sorted(order))]), order

    check()


# ---- random expressions against central differences of the first derivative ---------------

UNARY_EXPRESSIONS = {
    "exp": lambda a: a.exp(),
    "sin": lambda a: a.sin(),
    "cos": lambda a: a.cos(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "log(1+a^2)": lambda a: (1.0 + a * a).log(),
    "sqrt(1+a^2)": lambda a: (1.0 + a * a).sqrt(),
    "a^3": lambda a: a**3,
    "-a": lambda a: -a,
}
BINARY_EXPRESSIONS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "a/(2+sin b)": lambda a, b: a / (2.0 + b.sin()),
    "(1+a^2)^tanh b": lambda a, b: (1.0 + a * a) ** b.tanh(),
}
N_VARIABLES = 3

expressions = st.recursive(
    st.integers(0, N_VARIABLES - 1),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY_EXPRESSIONS)), inner),
        st.tuples(st.sampled_from(sorted(BINARY_EXPRESSIONS)), inner, inner),
    ),
    max_leaves=6,
)
points = st.lists(floats(-1.5, 1.5), min_size=N_VARIABLES, max_size=N_VARIABLES)


def build(tree):
    """The function (x0, x1, x2) -> the expression ``tree``."""

    def f(x0, x1, x2):
        # arguments not being differentiated arrive as plain floats
        xs = [x if isinstance(x, Value) else Value(x) for x in (x0, x1, x2)]

        def evaluate(node):
            if isinstance(node, int):
                return xs[node]
            if len(node) == 2:
                return UNARY_EXPRESSIONS[node[0]](evaluate(node[1]))
            return BINARY_EXPRESSIONS[node[0]](evaluate(node[1]), evaluate(node[2]))

        return evaluate(tree)

    return f


def central_difference_of_gradient(f, xs, i, j, eps=1e-5):
    """d/dx_j (df/dx_i) by central differences of the first-order gradient."""
    up, down = list(xs), list(xs)
    up[j] += eps
    down[j] -= eps
    return (first_order_gradient(f, up)[i] - first_order_gradient(f, down)[i]) / (2 * eps)


def first_order_gradient(f, xs):
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    return gradients(out, leaves) if isinstance(out, Value) else [0.0] * len(xs)


def well_scaled(f, xs, eps=1e-5, bound=1e150):
    """f and its gradient are finite and below ``bound`` at xs and at every point the
    central differences visit. Beyond that the references (differences of gradients,
    sums of Hessian entries times v) overflow to inf or nan themselves: deep chains
    such as exp(exp(exp(exp(x)))) or (((x^3)^3)...)^3 reach that within the range drawn.
    """
    shifted = [list(xs)]
    for j in range(len(xs)):
        for sign in (-1, 1):
            point = list(xs)
            point[j] += sign * eps
            shifted.append(point)
    for point in shifted:
        leaves = [Value(x) for x in point]
        out = f(*leaves)
        if isinstance(out, Value):
            numbers = [out.data, *gradients(out, leaves)]
            if not all(abs(v) < bound for v in numbers):  # False for inf and nan too
                return False
    return True


def agrees_with_central_difference(analytic, f, xs, i, j):
    numeric = central_difference_of_gradient(f, xs, i, j)
    scale = 1.0 + max(abs(g) for g in first_order_gradient(f, xs)) + abs(numeric)
    return abs(analytic - numeric) <= 1e-5 * scale


@settings(max_examples=40, deadline=None)
@given(expressions, points)
def test_mixed_partials_of_random_expressions_match_central_differences(tree, xs):
    f = build(tree)
    assume(well_scaled(f, xs))
    for i in range(N_VARIABLES):
        for j in range(N_VARIABLES):
            analytic = derivative(f, i, j)(*xs)
            assert agrees_with_central_difference(analytic, f, xs, i, j), (tree, xs, i, j)


@settings(max_examples=40, deadline=None)
@given(expressions, points)
def test_hessian_of_random_expressions_matches_central_differences_and_is_symmetric(tree, xs):
    f = build(tree)
    assume(well_scaled(f, xs))
    h = hessian(f)(*xs)
    assert len(h) == N_VARIABLES and all(len(row) == N_VARIABLES for row in h)
    for i in range(N_VARIABLES):
        for j in range(N_VARIABLES):
            assert agrees_with_central_difference(h[i][j], f, xs, i, j), (tree, xs, i, j)
            assert h[i][j] == pytest.approx(h[j][i], rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(expressions, points, points)
def test_hvp_equals_hessian_times_vector(tree, xs, v):
    f = build(tree)
    assume(well_scaled(f, xs))
    h = hessian(f)(*xs)
    expected = [sum(h[i][j] * v[j] for j in range(N_VARIABLES)) for i in range(N_VARIABLES)]
    scale = 1.0 + max(abs(e) for row in h for e in row)
    assert hvp(f, xs, v) == pytest.approx(expected, rel=1e-9, abs=1e-12 * scale)


# ---- hessian and hvp on a closed form: Rosenbrock -----------------------------------------


def rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def rosenbrock_hessian(x, y):
    return [[2 - 400 * y + 1200 * x * x, -400 * x], [-400 * x, 200.0]]


@FAST
@given(floats(-2, 2), floats(-2, 2))
def test_hessian_of_rosenbrock_matches_closed_form(x, y):
    h = hessian(rosenbrock)(x, y)
    expected = rosenbrock_hessian(x, y)
    assert all(type(e) is float for row in h for e in row)
    for row, expected_row in zip(h, expected, strict=True):
        assert row == pytest.approx(expected_row, rel=1e-12, abs=1e-9)


def test_hvp_of_rosenbrock_at_start_point_matches_hand_computation():
    # H(-1.2, 1) = [[1330, 480], [480, 200]];  H (1, 2) = (1330 + 960, 480 + 400)
    assert hvp(rosenbrock, [-1.2, 1.0], [1.0, 2.0]) == pytest.approx([2290.0, 880.0])


def test_hessian_with_value_inputs_can_be_differentiated_again():
    # f = x^3 y^2:  f_xx = 6 x y^2,  d f_xx/dx = 6 y^2,  d f_xx/dy = 12 x y
    x, y = Value(1.5, label="x"), Value(-2.0, label="y")
    h = hessian(lambda x, y: x**3 * y**2)(x, y)
    assert all(isinstance(e, Value) for row in h for e in row)
    assert h[0][0].data == pytest.approx(6 * 1.5 * 4.0)
    assert gradients(h[0][0], [x, y]) == pytest.approx([6 * 4.0, 12 * 1.5 * -2.0])


def test_hvp_with_value_direction_is_differentiable_in_the_direction():
    # (H v)_j = sum_k H_jk v_k,  so  d (H v)_j / d v_k = H_jk
    v = [Value(0.3), Value(-0.7)]
    hv = hvp(rosenbrock, [0.5, 0.25], v)
    h = rosenbrock_hessian(0.5, 0.25)
    for j in range(2):
        assert isinstance(hv[j], Value)
        assert gradients(hv[j], v) == pytest.approx(h[j])


def test_hvp_rejects_direction_of_wrong_length():
    with pytest.raises(ValueError, match="v has 1 entries but xs has 2"):
        hvp(rosenbrock, [1.0, 1.0], [1.0])


def test_hessian_of_constant_function_is_zero():
    assert hessian(lambda x, y: 3.0)(1.0, 2.0) == [[0.0, 0.0], [0.0, 0.0]]


# ---- grad: modes, argnums, pass-through and errors ------------------------------------------


def cube(x):
    return x**3


def test_grad_of_floats_returns_floats():
    assert type(grad_(cube)(2.0)) is float
    assert grad_(cube)(2.0) == 12.0  # 3 x^2
    assert grad_(grad_(cube))(2.0) == 12.0  # 6 x
    assert grad_(grad_(grad_(cube)))(2.0) == 6.0
    assert grad_(grad_(grad_(grad_(cube))))(2.0) == 0.0


def test_grad_of_values_returns_labelled_values_connected_to_the_input():
    x = Value(2.0, label="x")
    dfdx = grad_(cube)(x)
    assert isinstance(dfdx, Value)
    assert dfdx.data == 12.0
    assert dfdx.label == "dcube/dx"
    assert gradients(dfdx, [x]) == [12.0]  # d/dx 3x^2 = 6x
    assert grad_(grad_(cube))(x).label == "d(dcube/dx)/dx"
    assert x.grad == 0.0  # grad touches no .grad


def test_value_mode_results_are_labelled_as_gradients_for_renderers():
    # renderers show Values labelled "d.../d..." as gradient nodes
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    h = hessian(lambda x, y: x * x * y)(x, y)
    assert [[e.label for e in row] for row in h] == [
        ["d2f/dxdx", "d2f/dxdy"],
        ["d2f/dydx", "d2f/dydy"],
    ]
    assert [e.label for e in hvp(lambda x, y: x * x * y, [x, y], [1.0, 0.0])] == [
        "d(g.v)/dx",
        "d(g.v)/dy",
    ]
    # d(x+y)/dx and d(x+y)/dy are the same node in the engine: each gets its own label
    dx, dy = grad_(lambda x, y: x + y, (0, 1))(x, y)
    assert (dx.label, dy.label) == ("df/dx", "df/dy")


def test_grad_with_tuple_argnums_returns_tuple_of_partials():
    def f(x, y, z):
        return x * y * y + z

    assert grad_(f, (0, 1))(2.0, 3.0, 5.0) == (9.0, 12.0)
    assert grad_(f, (2,))(2.0, 3.0, 5.0) == (1.0,)


def test_grad_passes_undifferentiated_arguments_through_unchanged():
    config = {"scale": 3.0}

    def f(x, options, *, shift):
        assert options is config
        return options["scale"] * x * x + shift

    assert grad_(f)(2.0, config, shift=1.0) == 12.0


def test_grad_with_value_among_other_arguments_returns_value_depending_on_it():
    # d/dx (x y) = y: a Value, so d/dy of it is 1
    y = Value(4.0)
    dfdx = grad_(lambda x, y: x * y)(2.0, y)
    assert isinstance(dfdx, Value) and dfdx.data == 4.0
    assert gradients(dfdx, [y]) == [1.0]


def test_grad_of_constant_function_is_zero():
    assert grad_(lambda x: 7)(1.0) == 0.0
    zero = grad_(lambda x: 7.0)(Value(1.0))
    assert isinstance(zero, Value) and zero.data == 0.0


def test_grad_of_function_not_depending_on_argument_is_zero():
    assert grad_(lambda x, y: y * y, 0)(1.0, 3.0) == 0.0


def test_grad_is_a_partial_derivative_when_the_same_value_is_passed_twice():
    x = Value(3.0)
    # d/da (a b) = b, at a = b = x
    assert grad_(lambda a, b: a * b)(x, x).data == 3.0


def test_nested_grad_does_not_confuse_closed_over_variable_with_argument():
    # d/dx [ d/dy (x y) at y = x ] = d/dx x = 1   (not d/dx 2x)
    assert grad_(lambda x: grad_(lambda y: x * y)(x))(3.0) == 1.0
    # d/dx [ x * d/dy (x + y) at y = 1 ] = d/dx x = 1
    assert grad_(lambda x: x * grad_(lambda y: x + y)(1.0))(3.0) == 1.0
    # d/dx [ d/dy (x^2 y^2) at y = 2 ] = d/dx 4 x^2 = 8 x
    assert grad_(lambda x: grad_(lambda y: x**2 * y**2)(2.0))(3.0) == 24.0


def test_grad_works_inside_no_grad():
    with no_grad():
        assert grad_(cube)(2.0) == 12.0
        assert grad_(grad_(cube))(2.0) == 12.0


def test_grad_after_error_in_f_returns_floats_again():
    def broken(x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        grad_(broken)(1.0)
    assert type(grad_(cube)(1.0)) is float


@pytest.mark.parametrize(
    "result, type_name",
    [([1.0], "list"), (None, "NoneType"), (True, "bool"), ("1.0", "str")],
)
def test_grad_of_function_returning_non_scalar_raises_type_error_naming_type(result, type_name):
    with pytest.raises(TypeError, match=f"scalar Value or a number, got {type_name}"):
        grad_(lambda x: result)(1.0)


@pytest.mark.parametrize("argnums", ["0", 1.0, True, [0], (0, "1")])
def test_grad_rejects_non_integer_argnums(argnums):
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
        grad_(cube, argnums)


@pytest.mark.parametrize(
    "argnums, message", [(-1, "non-negative"), ((), "empty"), ((0, 0), "twice")]
)
def test_grad_rejects_bad_argnums_values(argnums, message):
    with pytest.raises(ValueError, match=message):
        grad_(cube, argnums)


def test_grad_with_argnums_beyond_the_arguments_raises_type_error():
    with pytest.raises(TypeError, match="argument 1 but the function was called with 1"):
        grad_(lambda x, y=1.0: x * y, 1)(2.0)


@pytest.mark.parametrize("bad", ["2.0", None, True, [2.0]])
def test_grad_rejects_non_numeric_differentiated_argument(bad):
    with pytest.raises(TypeError, match="argument 0 must be a float or a Value"):
        grad_(cube)(bad)


def test_grad_rejects_non_callable():
    with pytest.raises(TypeError, match="expected a callable, got int"):
        grad_(3)


def test_grad_keeps_function_name_and_signature_for_tools():
    import inspect

    g = grad_(cube)
    assert g.__name__ == "cube"
    assert list(inspect.signature(g).parameters) == ["x"]


# ---- first order stays on the fast path -----------------------------------------------------


def _spy_square(seen):
    def derivatives(x, out):
        seen.append(type(x))
        return (2.0 * x,)

    return Rule("spy_square", lambda x: x * x, derivatives)


def test_first_order_backward_evaluates_derivatives_on_floats_only():
    seen = []
    square = _spy_square(seen)
    x = Value(3.0)
    square(square(x) + 1.0).backward()
    assert x.grad == pytest.approx(2 * 10.0 * 2 * 3.0)
    assert seen == [float, float]
    assert grad_(lambda x: square(x))(3.0) == 6.0
    assert seen == [float] * 3


def test_second_order_evaluates_derivatives_on_values():
    seen = []
    square = _spy_square(seen)
    assert grad_(grad_(lambda x: square(x)))(3.0) == 2.0
    assert Value in seen
