"""Losses against closed forms and central differences."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff import Value, gradcheck, gradients
from nn import losses

moderate = st.floats(-6.0, 6.0, allow_nan=False)


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def test_quadratic_is_the_sum_of_squares():
    loss = losses.quadratic([Value(0.5), Value(2.0)], [1.0, -1.0])
    assert loss.data == 0.25 + 9.0


def test_mse_is_the_mean_over_every_element():
    outputs = [[Value(1.0), Value(2.0)], [Value(0.0), Value(4.0)]]
    assert losses.mse(outputs, [[0.0, 0.0], [0.0, 0.0]]).data == (1 + 4 + 0 + 16) / 4


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(moderate, moderate), min_size=1, max_size=4))
def test_quadratic_and_mse_gradients_match_central_differences(pairs):
    ys = [y for y, _ in pairs]
    ts = [t for _, t in pairs]
    gradcheck(lambda *v: losses.quadratic(list(v), ts), ys)
    gradcheck(lambda *v: losses.mse(list(v), ts), ys)
    leaves = [Value(y) for y in ys]
    closed = [2.0 * (y - t) for y, t in pairs]
    assert gradients(losses.quadratic(leaves, ts), leaves) == pytest.approx(closed)


def test_single_output_and_single_target():
    assert losses.quadratic(Value(3.0), 1.0).data == 4.0
    assert losses.quadratic(Value(3.0), [1.0]).data == 4.0
    assert isinstance(losses.quadratic(3.0, 1.0), Value)


@pytest.mark.parametrize(
    "loss", [losses.quadratic, losses.mse, losses.hinge, losses.binary_cross_entropy]
)
def test_length_mismatch_is_a_clear_error(loss):
    with pytest.raises(ValueError, match="2 outputs but 3 targets"):
        loss([Value(0.5), Value(0.5)], [1, 1, 1])
    with pytest.raises(ValueError, match="single output"):
        loss(Value(0.5), [1, 1])
    with pytest.raises(ValueError, match="is a list"):
        loss([Value(0.5), Value(0.5)], 1)


def test_hinge_is_micrographs_mean_margin_loss():
    scores = [Value(2.0), Value(0.25), Value(-0.5)]
    labels = [1, 1, 1]
    expected = (0.0 + 0.75 + 1.5) / 3
    assert losses.hinge(scores, labels).data == pytest.approx(expected, abs=1e-15)
    assert losses.hinge(Value(0.5), -1).data == 1.5


@settings(max_examples=30, deadline=None)
@given(moderate, st.sampled_from([-1.0, 1.0]))
def test_hinge_gradient_matches_central_differences_off_the_kink(y, t):
    if abs(1.0 - t * y) < 1e-3:
        return
    gradcheck(lambda v: losses.hinge(v, t), [y])
    leaf = Value(y)
    (g,) = gradients(losses.hinge(leaf, t), [leaf])
    assert g == (-t if 1.0 - t * y > 0 else 0.0)


def test_hinge_rejects_labels_other_than_plus_minus_one():
    with pytest.raises(ValueError, match="labels -1 or \\+1, got 0.0"):
        losses.hinge([Value(1.0)], [0])


def test_l2_is_alpha_times_sum_of_squares():
    params = [Value(1.0), Value(-2.0)]
    penalty = losses.l2(params, 0.5)
    assert penalty.data == 2.5
    assert gradients(penalty, params) == [1.0, -2.0]  # 2 * alpha * p


@settings(max_examples=40, deadline=None)
@given(st.floats(-30.0, 30.0), st.floats(0.0, 1.0))
def test_binary_cross_entropy_matches_its_closed_form_and_derivative(z, t):
    leaf = Value(z)
    loss = losses.binary_cross_entropy(leaf, t)
    # -t log s - (1 - t) log(1 - s) with log(1 - s) = log s - z, all in floats
    log_s = -math.log1p(math.exp(-z)) if z >= 0 else z - math.log1p(math.exp(z))
    assert loss.data == pytest.approx(-t * log_s - (1 - t) * (log_s - z), rel=1e-9, abs=1e-12)
    assert gradients(loss, [leaf])[0] == pytest.approx(_sigmoid(z) - t, rel=1e-9, abs=1e-12)
    gradcheck(lambda v: losses.binary_cross_entropy(v, t), [z])


def test_binary_cross_entropy_is_smooth_at_zero_logit():
    leaf = Value(0.0)
    loss = losses.binary_cross_entropy(leaf, 1.0)
    assert loss.data == pytest.approx(math.log(2.0), abs=1e-15)
    assert gradients(loss, [leaf]) == [pytest.approx(-0.5, abs=1e-15)]


@pytest.mark.parametrize(
    "z, t, value, grad",
    [(1000.0, 0.0, 1000.0, 1.0), (-1000.0, 1.0, 1000.0, -1.0), (1000.0, 1.0, 0.0, 0.0)],
)
def test_binary_cross_entropy_is_finite_for_huge_logits(z, t, value, grad):
    leaf = Value(z)
    loss = losses.binary_cross_entropy(leaf, t)
    assert loss.data == value
    assert gradients(loss, [leaf]) == [grad]


def test_binary_cross_entropy_batch_is_the_mean():
    logits = [Value(0.3), Value(-1.2)]
    # -log sigmoid(0.3) for t = 1, -log(1 - sigmoid(-1.2)) for t = 0
    expected = (-math.log(_sigmoid(0.3)) - math.log(1 - _sigmoid(-1.2))) / 2
    assert losses.binary_cross_entropy(logits, [1, 0]).data == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_rejects_targets_outside_unit_interval():
    with pytest.raises(ValueError, match="targets in \\[0, 1\\], got -1.0"):
        losses.binary_cross_entropy([Value(0.0)], [-1])


def _softmax(zs):
    m = max(zs)
    exps = [math.exp(z - m) for z in zs]
    return [e / sum(exps) for e in exps]


@settings(max_examples=40, deadline=None)
@given(st.lists(moderate, min_size=1, max_size=5), st.integers(0, 4))
def test_cross_entropy_matches_minus_log_softmax_and_its_gradient(zs, k):
    k = k % len(zs)
    leaves = [Value(z) for z in zs]
    loss = losses.cross_entropy(leaves, k)
    p = _softmax(zs)
    assert loss.data == pytest.approx(-math.log(p[k]), rel=1e-9, abs=1e-12)
    closed = [pi - (1.0 if i == k else 0.0) for i, pi in enumerate(p)]
    assert gradients(loss, leaves) == pytest.approx(closed, rel=1e-9, abs=1e-12)
    gradcheck(lambda *v: losses.cross_entropy(list(v), k), zs)


def test_cross_entropy_is_finite_for_huge_logits():
    leaves = [Value(1000.0), Value(0.0), Value(-1000.0)]
    loss = losses.cross_entropy(leaves, 2)
    assert loss.data == 2000.0
    assert gradients(loss, leaves) == [1.0, 0.0, -1.0]


def test_cross_entropy_batch_is_the_mean_over_samples():
    batch = [[Value(1.0), Value(2.0)], [Value(0.5), Value(-0.5)]]
    expected = (-math.log(_softmax([1.0, 2.0])[0]) - math.log(_softmax([0.5, -0.5])[1])) / 2
    assert losses.cross_entropy(batch, [0, 1]).data == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_rejects_bad_targets():
    with pytest.raises(ValueError, match="class index in 0..1, got 2"):
        losses.cross_entropy([Value(1.0), Value(2.0)], 2)
    with pytest.raises(ValueError, match="2 samples of logits need 2 targets, got 1"):
        losses.cross_entropy([[1.0, 2.0], [3.0, 4.0]], [0])
