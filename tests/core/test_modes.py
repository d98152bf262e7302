"""no_grad / enable_grad and detect_anomaly."""

from __future__ import annotations

import math

import pytest

from autodiff import Value, detect_anomaly, enable_grad, gradients, no_grad

# no_grad


def test_ops_inside_no_grad_record_no_inputs():
    a, b = Value(2.0), Value(3.0)
    with no_grad():
        outs = [a * b, a + 1, 2**a, a**b, a.tanh(), -a, abs(a), a.relu()]
    for out in outs:
        assert tuple(out._prev) == ()
        assert out._op == ""
        assert out.is_leaf
    assert outs[0].data == 6.0 and outs[2].data == 4.0  # values are still computed


def test_backward_does_not_reach_inputs_of_an_op_made_under_no_grad():
    w = Value(2.0)
    with no_grad():
        frozen = w * 3.0
    y = frozen * w
    y.backward()
    assert w.grad == 6.0  # only the recorded use of w
    assert frozen.grad == 2.0


def test_parameter_update_under_no_grad_leaves_parameters_as_leaves():
    w = Value(1.0)
    loss = (w - 3.0) ** 2
    loss.backward()
    with no_grad():
        w2 = w - 0.1 * w.grad
    assert w2.data == pytest.approx(1.4) and w2.is_leaf


def test_recording_resumes_after_no_grad_even_when_the_block_raises():
    a = Value(1.0)
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("boom")
    assert list((a + a)._prev) == [a, a]


def test_enable_grad_records_inside_no_grad_and_nesting_restores():
    a = Value(1.0)
    with no_grad():
        with enable_grad():
            inner = a * 2
        after = a * 2
    assert list(inner._prev)[0] is a
    assert tuple(after._prev) == ()
    assert not (a * 2).is_leaf


# detect_anomaly


def test_anomaly_names_the_forward_op_and_its_input_that_made_inf():
    x = Value(0.0)
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"'log'.*0\.0"):
        x.log()


def test_anomaly_names_both_inputs_of_a_division_by_zero():
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"'/'.*1\.5.*0\.0"):
        Value(1.5) / Value(0.0)


def test_anomaly_stops_at_the_first_op_that_makes_nan():
    x = Value(-1.0)
    with detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        ((x * 2).sqrt() * 3).exp()
    assert "'sqrt'" in str(caught.value) and "-2.0" in str(caught.value)


def test_anomaly_catches_an_infinite_gradient_in_backward_naming_the_op():
    x = Value(0.0)
    with detect_anomaly():
        y = (x.sqrt() + 1.0) * 3.0  # sqrt(0) = 0 is finite; its slope 1/(2 sqrt 0) is not
        with pytest.raises(FloatingPointError, match=r"'sqrt'.*0\.0"):
            y.backward()


def test_anomaly_catches_an_infinite_gradient_in_gradients():
    x = Value(0.0)
    with detect_anomaly():
        y = x.sqrt() * 2.0
        with pytest.raises(FloatingPointError, match="'sqrt'"):
            gradients(y, [x])


def test_anomaly_is_silent_for_finite_computations():
    x = Value(0.7)
    with detect_anomaly():
        y = (x.log() * x.tanh()).sigmoid() / x
        y.backward()
    # d/dx s(u)/x with u = log(x) tanh(x)
    u = math.log(0.7) * math.tanh(0.7)
    s = 1 / (1 + math.exp(-u))
    du = math.tanh(0.7) / 0.7 + math.log(0.7) / math.cosh(0.7) ** 2
    assert x.grad == pytest.approx(s * (1 - s) * du / 0.7 - s / 0.7**2)


def test_without_detect_anomaly_inf_and_nan_pass_silently():
    x = Value(0.0)
    y = x.log()
    y.backward()
    assert y.data == -math.inf and x.grad == math.inf


def test_anomaly_mode_ends_with_its_block_even_when_it_raised():
    with pytest.raises(FloatingPointError), detect_anomaly():
        Value(0.0).log()
    assert Value(0.0).log().data == -math.inf
