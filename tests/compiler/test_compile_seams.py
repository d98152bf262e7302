"""Where the compiler meets the rest: derivatives inside a trace, masking inside custom
rules, no_grad around a trace, and readers of the masking rules (explain)."""

import math

import pytest

import autodiff
from autodiff import Rule, TraceError, Value, explain, floats, grad, gradients, no_grad, rules


def test_grad_inside_a_traced_function_is_refused_not_frozen():
    # d/dy |y| * p is sign(y) * p: a branch on y's value, which a trace would freeze
    p = Value(2.0)
    step = autodiff.compile(lambda x: grad(lambda y: abs(y) * p)(x), params=[p])
    with pytest.raises(TraceError, match="derivative taken inside the traced function"):
        step(1.0)


def test_first_order_gradients_inside_a_traced_function_are_refused():
    p = Value(2.0)

    def f(x):
        (d,) = gradients((x * x).relu(), [x])  # plain numbers, computed from x's value
        return d * p

    with pytest.raises(TraceError, match="derivative taken inside the traced function"):
        autodiff.trace(f, 3.0)


def test_a_smooth_derivative_inside_a_trace_replays_right():
    # d/dy tanh(y * p) = p (1 - tanh^2): no branch, so the trace holds the whole formula
    p = Value(0.5)
    step = autodiff.compile(lambda x: grad(lambda y: (y * p).tanh())(x), params=[p])
    for x in (1.0, -2.0):
        expected = 0.5 * (1.0 - math.tanh(0.5 * x) ** 2)
        assert step(x) == pytest.approx(expected, rel=1e-15)


def test_trace_and_compile_record_even_when_called_under_no_grad():
    w = Value(0.5)
    with no_grad():
        step = autodiff.compile(lambda x: (x * w).tanh(), params=[w])
        assert step(1.0) == math.tanh(0.5)
        assert autodiff.jvp(lambda x: x * x, [3.0], [1.0]) == (9.0, 6.0)
    assert w.grad == 1.0 - math.tanh(0.5) ** 2


def _neg_relu() -> Rule:
    # d/dx -relu(x): minus relu's masked share, so an infinite gradient from above gives
    # 0 at x <= 0, never 0 * inf = nan
    return Rule(
        "neg_relu",
        lambda x: -floats.relu(x),
        vjp=lambda g, x, out: (-rules.masked_unless_positive(x, g),),
    )


def test_masking_inside_a_custom_rules_expression_survives_compilation():
    neg_relu = _neg_relu()
    p = Value(0.0)
    (neg_relu(p) * math.inf).backward()
    assert p.grad == 0.0
    p.grad = 0.0
    autodiff.compile(lambda x: neg_relu(p) * x, params=[p])(math.inf)
    assert p.grad == 0.0


def test_masked_written_into_a_custom_rule_compiles_and_matches_eager():
    # a mask that always blocks: nothing passes, even an infinite upstream gradient
    zero = Rule("zero", lambda x: 0.0, vjp=lambda g, x, out: (rules.masked_where_zero(0.0, g),))
    p = Value(1.0)
    (zero(p) * math.inf).backward()
    eager = p.grad
    p.grad = 0.0
    autodiff.compile(lambda x: zero(p) * x, params=[p])(math.inf)
    assert p.grad == eager == 0.0


def test_the_numpy_backend_lowers_a_mask_inside_a_custom_share():
    pytest.importorskip("numpy")
    neg_relu = _neg_relu()
    p = Value(1.0)
    step = autodiff.compile(lambda x: neg_relu(x * p) * math.inf, params=[p], backend="numpy")
    step(-1.0)
    assert p.grad == 0.0
    step(2.0)
    assert p.grad == -math.inf


def test_explain_totals_equal_backwards_gradient_where_it_masks_or_divides():
    x = Value(0.0, label="x")
    y = x.relu().sqrt()  # relu's mask stops sqrt's infinite slope: 0, as PyTorch
    y.label = "y"
    y.backward()
    assert x.grad == 0.0 and explain(y, x).total == 0.0

    z, d = Value(1e-300, label="z"), Value(5e-324, label="d")
    y2 = (z / d) * 1e-300  # 1e-300 / 5e-324, one division; 1/d alone overflows
    y2.label = "y"
    y2.backward()
    assert math.isfinite(z.grad) and explain(y2, z).total == z.grad


def test_a_mask_blocks_a_division_by_zero_in_either_order():
    assert rules.masked_unless_positive(0.0, rules.div(1.0, 0.0)) == 0.0
    assert rules.div(rules.masked_unless_positive(0.0, 1.0), 1.0) == 0.0


def test_constant_power_names_are_exact_so_micrograd_style_rebuilds_keep_the_exponent():
    x = Value(2.0)
    y = x ** (1 / 3)
    rebuilt = Value(y.data, (x,), y._op)
    rebuilt.backward()
    assert x.grad == (1 / 3) * 2.0 ** (1 / 3 - 1)
    assert (x**2)._op == "**2" and (x**0.5)._op == "**0.5"


def test_a_batch_that_is_not_a_list_says_what_it_got():
    np = pytest.importorskip("numpy")
    w = Value(1.0)
    step = autodiff.compile(lambda x: x * w, batch="mean")
    with pytest.raises(TraceError, match=r"got ndarray \(a numpy array: pass array.tolist\(\)\)"):
        step(np.array([1.0, 2.0]))
    with pytest.raises(TraceError, match="got an empty one"):
        step([])
