"""The log-losses trace and compile: equal to eager on both backends (the Python one
bit for bit), stable at logits of +-1000, the class entering the tape as data; and every
loss's declared reduction is what it computes."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import TraceError, Value, gradients
from nn import losses

np = pytest.importorskip("numpy", reason="the numpy backend needs numpy")

logit = st.floats(-30.0, 30.0)


def _eager(loss, zs, target):
    leaves = [Value(z) for z in zs]
    value = loss(leaves, target)
    return value.data, gradients(value, leaves)


def _compiled(loss, zs, target, backend, batch=None):
    """The loss compiled with the logits as parameters; returns (value, their grads)."""
    leaves = [Value(z) for z in zs]
    step = autodiff.compile(lambda t: loss(leaves, t), params=leaves, backend=backend, batch=batch)
    value = step([target] if batch else target)
    return value, [p.grad for p in leaves]


@settings(max_examples=40, deadline=None)
@given(st.lists(logit, min_size=2, max_size=6), st.integers(0, 5))
def test_cross_entropy_compiles_bit_identically_on_python_and_closely_on_numpy(zs, k):
    k %= len(zs)
    onehot = losses.one_hot(k, len(zs))
    eager = _eager(losses.cross_entropy, zs, k)
    assert _compiled(losses.cross_entropy, zs, onehot, "python") == eager
    value, grads = _compiled(losses.cross_entropy, zs, onehot, "numpy", batch="sum")
    assert value == pytest.approx(eager[0], rel=1e-12, abs=1e-12)
    assert grads == pytest.approx(eager[1], rel=1e-12, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(logit, st.floats(0.0, 1.0)), min_size=1, max_size=5))
def test_binary_cross_entropy_compiles_bit_identically_on_python_and_closely_on_numpy(pairs):
    zs = [z for z, _ in pairs]
    ts = [t for _, t in pairs]
    eager = _eager(losses.binary_cross_entropy, zs, ts)
    assert _compiled(losses.binary_cross_entropy, zs, ts, "python") == eager
    value, grads = _compiled(losses.binary_cross_entropy, zs, ts, "numpy", batch="sum")
    assert value == pytest.approx(eager[0], rel=1e-12, abs=1e-12)
    assert grads == pytest.approx(eager[1], rel=1e-12, abs=1e-12)


# Closed forms at logits +-1000, which PyTorch's F.cross_entropy and
# F.binary_cross_entropy_with_logits give as well (finite, no overflow):
# z = (1000, -1000, 0, 1000), class 1: logsumexp = 1000 + log 2 (e^-2000 and e^-1000
# vanish next to 2 e^1000), loss = 2000 + log 2, gradient softmax - onehot = (.5, -1, 0, .5).
# BCE of z = (1000, -1000) against t = (0, 1): softplus(1000) - 0 = 1000 and
# softplus(-1000) + 1000 = 1000, mean 1000; gradient (sigmoid(z) - t) / 2 = (.5, -.5).
HUGE = [
    (
        losses.cross_entropy,
        [1000.0, -1000.0, 0.0, 1000.0],
        1,
        [0.0, 1.0, 0.0, 0.0],
        2000.0 + math.log(2.0),
        [0.5, -1.0, 0.0, 0.5],
    ),
    (losses.binary_cross_entropy, [1000.0, -1000.0], [0.0, 1.0], [0.0, 1.0], 1000.0, [0.5, -0.5]),
]


@pytest.mark.parametrize(("loss", "zs", "target", "data", "value", "grads"), HUGE)
@pytest.mark.parametrize("how", ["eager", "python", "numpy"])
def test_huge_logits_give_the_closed_form_loss_and_gradients(
    loss, zs, target, data, value, grads, how
):
    if how == "eager":
        got = _eager(loss, zs, target)
    else:
        got = _compiled(loss, zs, data, how, batch="sum" if how == "numpy" else None)
    assert got[0] == pytest.approx(value, rel=1e-15)
    assert got[1] == grads


@pytest.mark.parametrize(("loss", "zs", "target", "data", "value", "grads"), HUGE)
def test_huge_logits_equal_pytorch(loss, zs, target, data, value, grads):
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    functional = pytest.importorskip("torch.nn.functional")
    z = torch.tensor([zs], dtype=torch.float64, requires_grad=True)
    if loss is losses.cross_entropy:
        theirs = functional.cross_entropy(z, torch.tensor([target]))
    else:
        t = torch.tensor([target], dtype=torch.float64)
        theirs = functional.binary_cross_entropy_with_logits(z, t)
    theirs.backward()
    ours = _eager(loss, zs, target)
    assert ours[0] == pytest.approx(theirs.item(), rel=1e-15)
    assert ours[1] == pytest.approx(z.grad[0].tolist(), rel=1e-15, abs=1e-300)


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_the_class_enters_the_tape_as_data(backend):
    zs = [0.5, -1.0, 2.0]
    leaves = [Value(z) for z in zs]
    step = autodiff.compile(
        lambda t: losses.cross_entropy(leaves, t), params=leaves, backend=backend, batch="sum"
    )
    lse = math.log(sum(math.exp(z) for z in zs))
    for k in (0, 2, 1):  # one tape, traced for class 0, replayed for every class
        for p in leaves:
            p.grad = 0.0
        assert step([losses.one_hot(k, 3)]) == pytest.approx(lse - zs[k], rel=1e-14)
        softmax = [math.exp(z - lse) for z in zs]
        expected = [s - (i == k) for i, s in enumerate(softmax)]
        assert [p.grad for p in leaves] == pytest.approx(expected, rel=1e-13)


def test_a_class_index_traced_as_a_value_is_refused_not_baked_in():
    leaves = [Value(0.5), Value(-1.0)]
    step = autodiff.compile(lambda k: losses.cross_entropy(leaves, k), params=leaves)
    with pytest.raises(TypeError, match="baked into a compiled tape: give the target as a one-hot"):
        step(1)


def test_a_target_that_is_not_one_hot_is_refused():
    with pytest.raises(
        ValueError, match="one-hot target \\(one 1, the rest 0\\), got \\[0.5, 0.5\\]"
    ):
        losses.cross_entropy([Value(1.0), Value(2.0)], [0.5, 0.5])
    with pytest.raises(ValueError, match="one-hot target of 3 entries for 2 logits"):
        losses.cross_entropy([Value(1.0), Value(2.0)], [0.0, 1.0, 0.0])


def test_index_and_one_hot_targets_give_the_same_loss_bit_for_bit():
    zs = [[Value(0.3), Value(-2.0), Value(1.5)], [Value(4.0), Value(0.0), Value(-1.0)]]
    by_index = losses.cross_entropy(zs, [2, 0]).data
    assert losses.cross_entropy(zs, [[0, 0, 1], [1, 0, 0]]).data == by_index


def _random_batch(rng, loss):
    n, width = rng.randint(1, 6), rng.randint(1, 4)
    outputs = [[Value(rng.uniform(-3, 3)) for _ in range(width)] for _ in range(n)]
    if loss is losses.cross_entropy:
        return outputs, [rng.randrange(width) for _ in range(n)], width
    if loss is losses.hinge:
        return outputs, [[rng.choice([-1.0, 1.0]) for _ in range(width)] for _ in range(n)], width
    return outputs, [[rng.uniform(0, 1) for _ in range(width)] for _ in range(n)], width


DECLARED = [
    losses.quadratic,
    losses.mse,
    losses.hinge,
    losses.binary_cross_entropy,
    losses.cross_entropy,
]


@pytest.mark.parametrize("loss", DECLARED, ids=lambda f: f.__name__)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_each_declared_reduction_is_what_the_loss_computes(loss, seed):
    outputs, targets, width = _random_batch(random.Random(seed), loss)
    declared = losses.reduction_of(loss)
    singles = [
        declared.per_sample(out, declared.encode_target(t, width)).data
        for out, t in zip(outputs, targets, strict=True)
    ]
    reduced = math.fsum(singles) / (len(singles) if declared.over == "mean" else 1)
    assert loss(outputs, targets).data == pytest.approx(reduced, rel=1e-12, abs=1e-12)


def test_the_declarations():
    over = {f.__name__: losses.reduction_of(f).over for f in DECLARED}
    assert over == {
        "quadratic": "sum",
        "mse": "mean",
        "hinge": "mean",
        "binary_cross_entropy": "mean",
        "cross_entropy": "mean",
    }
    assert losses.reduction_of(lambda out, t: losses.mse(out, t)) is None
    assert losses.reduction_of(losses.l2) is None


def test_declare_marks_a_users_loss_and_checks_its_arguments():
    @losses.declare("sum", lambda out, t: (out - t) ** 2)
    def squares(outputs, targets):
        return losses.quadratic(outputs, targets)

    assert losses.reduction_of(squares).over == "sum"
    with pytest.raises(ValueError, match="over expected 'mean' or 'sum', got 'max'"):
        losses.declare("max", squares)
    with pytest.raises(TypeError, match="must be callables"):
        losses.declare("mean", 3)


def test_the_compiled_losses_read_no_value_of_a_traced_logit():
    # the guard refuses a read of a traced intermediate: tracing through logits that
    # are themselves op outputs (h * 1.0) would raise if the loss branched on them
    w = Value(2.0)
    step = autodiff.compile(
        lambda x, t: (
            losses.binary_cross_entropy([w * x], [t])
            + losses.cross_entropy([w * x, w * -x], [1.0, 0.0])
        ),
        params=[w],
    )
    assert isinstance(step(0.5, 1.0), float)
    with pytest.raises(TraceError):
        autodiff.compile(lambda x: Value(1.0) if (w * x).data > 0 else w, params=[w])(1.0)
