"""compile(): the replayed tape equals the eager engine (bit for bit in the Python backend)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import Rule, TraceError, Value, rules
from nn import MLP, SGD, losses, make_moons
from nn.article import INPUT, PARAMETERS, TARGET, build_network


def _same(a: float, b: float) -> bool:
    """Equal as IEEE floats, nan equal to nan (bit-identical up to the sign of nan)."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def _eager(f, params, *args):
    """Loss and parameter gradients of the eager engine, from zeroed gradients."""
    autodiff.zero_grad(params)
    values = [_values(a) for a in args]
    loss = f(*values)
    loss.backward()
    return loss.data, [p.grad for p in params]


def _values(a):
    return [_values(x) for x in a] if isinstance(a, list) else Value(a)


def _compiled(step, params, *args):
    autodiff.zero_grad(params)
    loss = step(*args)
    return loss, [p.grad for p in params]


def _moons():
    random.seed(1337)
    X, y = make_moons(100, noise=0.1, seed=1337)
    y = [2.0 * t - 1.0 for t in y]
    model = MLP(2, [16, 16, 1])

    def f(xs, ys):
        return losses.hinge([model(x) for x in xs], ys) + losses.l2(model.parameters(), 1e-4)

    return model, f, X, y


def test_moons_step_is_bit_identical_to_eager_across_sgd_steps():
    model, f, X, y = _moons()
    params = model.parameters()
    step = autodiff.compile(f)
    sgd = SGD(params, lr=0.5)
    for _ in range(3):
        expected = _eager(f, params, X, y)
        got = _compiled(step, params, X, y)
        assert got[0] == expected[0]
        assert got[1] == expected[1]
        sgd.step()  # the next call must read the updated .data
    assert len(step.tape) > 60000


def test_gradients_accumulate_into_existing_grad_like_backward():
    model, f, X, y = _moons()
    params = model.parameters()
    step = autodiff.compile(f)
    autodiff.zero_grad(params)
    step(X, y)
    step(X, y)
    twice = [p.grad for p in params]
    autodiff.zero_grad(params)
    for _ in range(2):
        f(_values(X), _values(y)).backward()
    assert twice == [p.grad for p in params]


@pytest.mark.parametrize("convention", ["correct", "article"])
def test_article_network_is_bit_identical(convention):
    model, named = build_network(convention)
    params = [named[name] for name in PARAMETERS]

    def cost(x, t):
        return losses.quadratic(model(x), t)

    step = autodiff.compile(cost, params=params)
    assert _compiled(step, params, INPUT, TARGET) == _eager(cost, params, INPUT, TARGET)


def test_article_network_matches_published_forward_cost():
    model, named = build_network()
    step = autodiff.compile(lambda x, t: losses.quadratic(model(x), t))
    assert step(INPUT, TARGET) == pytest.approx(0.19374977898811957, rel=1e-15)


UNARY = ["neg", "abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu"]
BINARY = ["+", "-", "*", "/", "**"]


def _apply(op: str, a, b):
    if op in BINARY:
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "**": abs(a) ** b}[op]
    if op == "neg":
        return -a
    if op == "abs":
        return abs(a)
    return getattr(a, op)()


finite = st.floats(-3.0, 3.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(UNARY + BINARY), st.integers(0, 50)), min_size=1, max_size=12
    ),
    st.lists(finite, min_size=3, max_size=3),
)
def test_random_graphs_over_every_op_match_eager_bit_for_bit(program, xs):
    params = [Value(x) for x in xs[:2]]

    def f(x):
        nodes = [x, *params]
        for op, pick in program:
            a = nodes[pick % len(nodes)]
            b = nodes[(pick * 7 + 1) % len(nodes)]
            nodes.append(_apply(op, a, b))
        return nodes[-1]

    step = autodiff.compile(f)
    expected = _eager(f, params, xs[2])
    loss, grads = _compiled(step, params, xs[2])
    assert _same(loss, expected[0])
    assert all(_same(a, b) for a, b in zip(grads, expected[1], strict=True))


@pytest.mark.parametrize(
    "f, x",
    [
        (lambda x: x.log(), 0.0),  # log 0 = -inf, gradient inf
        (lambda x: 1.0 / x, 0.0),  # 1/0 = inf
        (lambda x: x.relu(), 0.0),  # relu at 0: gradient 0
        (lambda x: x**-1.0, 0.0),  # 0 ** -1 = inf
        (lambda x: x.exp(), 1000.0),  # overflow to inf
        (lambda x: x.sigmoid(), -1000.0),
        (lambda x: x.sqrt(), -1.0),  # nan
        (lambda x: abs(x), 0.0),
        (lambda x: x**x, 0.0),  # 0 ** 0 and its exponent slope
        (lambda x: (x - x) / (x - x), 1.0),  # 0 / 0 = nan
        # backward masks and divides as PyTorch (masked_unless_positive, div(g, x)): the compiled
        # code must too, where an inf or nan arrives from above
        (lambda x: x.relu().sqrt(), -1.0),  # relu's mask stops sqrt's inf: 0
        (lambda x: x.relu().sqrt(), 0.0),
        (lambda x: x.relu().log(), -1.0),
        (lambda x: 1.0 / x.relu(), 0.0),
        (lambda x: x.relu() ** 0.5, -1.0),
        (lambda x: 1.0 / (x**0.0 - 1.0), 2.0),  # x**0 masks the -inf from above: 0
        (lambda x: 1e-300 * (x / 5e-324), 1.0),  # g / b, finite; g * (1/b) would be inf
        (lambda x: x ** (x - 2.0), 0.0),  # a**b at a = 0, b < 0
        (lambda x: (x - 3.0) ** x, 1.0),  # exponent slope at a negative base: nan
    ],
)
@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_ieee_edge_cases_match_eager(f, x, backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    w = Value(1.0)

    def g(v):
        return f(v * w)

    expected = _eager(g, [w], x)
    got = _compiled(autodiff.compile(g, backend=backend), [w], x)
    assert _same(got[0], expected[0]) and _same(got[1][0], expected[1][0])


def _every_rule():
    table = [r for r in vars(rules).values() if isinstance(r, Rule)]
    return table + [rules.constant_power(k) for k in (0.0, 2.0, -1.0, 0.5, 3.0)]


@pytest.mark.parametrize("rule", _every_rule(), ids=lambda r: r.name)
def test_every_rule_in_the_table_generates_code_that_matches_eager(rule):
    from autodiff.compiler import symbolic

    forms = symbolic.forms(rule)
    assert forms.forward is not None and forms.products is not None, forms.why
    rng = random.Random(rule.name)
    w = Value(1.0)
    for x in [rng.uniform(-3, 3) for _ in range(20)] + [0.0, -0.0, 1.0, -1.0, 2.0]:
        y = rng.uniform(-3, 3)

        def f(a, b):
            return rule(a * w, b * w) if rule.arity == 2 else rule(a * w)

        expected = _eager(f, [w], x, y)
        got = _compiled(autodiff.compile(f), [w], x, y)
        assert _same(got[0], expected[0]) and _same(got[1][0], expected[1][0]), (x, y)


def test_custom_rule_that_cannot_be_read_symbolically_runs_through_its_lambdas():
    def clipped(x):
        return min(max(x, -1.0), 1.0)

    def slope(x, out):
        return (1.0 if -1.0 < x < 1.0 else 0.0,)  # branches on data: not symbolic

    clip = Rule("clip", clipped, slope)
    w = Value(0.5)
    step = autodiff.compile(lambda x: clip(w * x) * x)
    for x in (0.5, 3.0, -4.0):
        assert _compiled(step, [w], x) == _eager(lambda v: clip(w * v) * v, [w], x)
    assert "_D" in step.source and "_F" in step.source


def test_batch_mean_equals_eager_mean_and_hoists_the_regulariser():
    model, f, X, y = _moons()
    params = model.parameters()

    def per_example(x, t):
        return (1 - t * model(x)).relu() + 1e-4 * sum((p * p for p in params), Value(0.0))

    autodiff.zero_grad(params)
    eager = sum(
        (per_example(_values(x), Value(t)) for x, t in zip(X, y, strict=True)), Value(0.0)
    ) * (1 / 100)
    eager.backward()
    expected = [p.grad for p in params]
    step = autodiff.compile(per_example, batch="mean")
    loss, grads = _compiled(step, params, X, y)
    assert loss == pytest.approx(eager.data, rel=1e-12)
    scale = max(abs(g) for g in expected)
    assert all(abs(a - b) <= 1e-12 * scale for a, b in zip(grads, expected, strict=True))
    vary = step.tape.varying()
    fixed_ops = [op for op in step.tape.ops if not vary[op.out]]
    assert len(fixed_ops) >= 2 * len(params)  # p*p and the running sum: once per call
    # a last, smaller batch is fine
    assert step(X[:7], y[:7]) == pytest.approx(
        sum(per_example(_values(x), Value(t)).data for x, t in zip(X[:7], y[:7], strict=True)) / 7,
        rel=1e-12,
    )


def test_batch_sum_returns_the_sum():
    w = Value(2.0)
    step = autodiff.compile(lambda x: w * x * x, batch="sum")
    autodiff.zero_grad([w])
    assert step([1.0, 2.0, 3.0]) == 2.0 * 14.0
    assert w.grad == 14.0


def test_reading_data_of_a_traced_value_raises_naming_the_line():
    w = Value(1.0)

    def f(x):
        h = w * x
        if h.data > 0:  # data-dependent control flow
            return h
        return -h

    with pytest.raises(TraceError, match=r"test_compile\.py:\d+.*control flow"):
        autodiff.compile(f)(2.0)


@pytest.mark.parametrize(
    "read", [float, bool, lambda h: h < 0, lambda h: h >= 1.0], ids=["float", "bool", "<", ">="]
)
def test_float_bool_and_comparisons_of_traced_values_raise(read):
    w = Value(1.0)

    def f(x):
        h = w * x
        read(h)
        return h

    with pytest.raises(TraceError, match="test_compile.py"):
        autodiff.trace(f, 2.0)
    # outside tracing, Values behave as before
    h = w * Value(2.0)
    assert float(h) == 2.0 and bool(h) is True


def test_reading_inputs_and_params_is_allowed_and_values_are_plain_after_tracing():
    w = Value(3.0)
    kept = []

    def f(x, t):
        assert t.data in (-1.0, 1.0) and w.data == 3.0
        h = w * x
        kept.append(h)
        return h * t

    tape = autodiff.trace(f, 2.0, 1.0)
    assert len(tape) == 2
    assert type(kept[0]) is Value and kept[0].data == 6.0


def test_arguments_of_another_structure_raise():
    w = Value(1.0)
    step = autodiff.compile(lambda xs: w * xs[0] + xs[1])
    step([1.0, 2.0])
    with pytest.raises(TraceError, match="different structure"):
        step([1.0, 2.0, 3.0])
    with pytest.raises(TraceError, match="expected a number"):
        step([1.0, "2"])


def test_no_grad_on_a_traced_value_inside_f_raises():
    w = Value(1.0)

    def f(x):
        with autodiff.no_grad():
            frozen = w * x
        return frozen * w

    with pytest.raises(TraceError, match="no_grad"):
        autodiff.trace(f, 1.0)


def test_numbers_made_inside_f_are_constants_not_parameters():
    w = Value(2.0)
    tape = autodiff.trace(lambda x: w * x + 3.0 * Value(4.0), 1.0)
    assert tape.params == [w]
    assert sorted(tape.consts) == [3.0, 4.0]


def test_a_loss_that_reads_traced_values_is_refused_naming_its_line():
    w = Value(1.0)

    def f(x):
        zs = [w * x, -w * x]
        m = max(z.data for z in zs)  # a stabilising maximum read from .data
        return sum(((z - m).exp() for z in zs), 0.0).log() + m - zs[0]

    with pytest.raises(TraceError, match=r"test_compile\.py:\d+"):
        autodiff.trace(f, 1.0)


def test_tape_lengths_and_listing_read_like_a_wengert_list():
    w = Value(3.0, label="w")
    tape = autodiff.trace(lambda x: w * x + x, 2.0)
    assert len(tape) == 2
    text = str(tape)
    assert "v2 = v1 * v0" in text and "v3 = v2 + v0" in text
    assert "g1 += v0 * g2" in text and "g0 += v1 * g2" in text
    assert tape.data[tape.output] == 8.0
