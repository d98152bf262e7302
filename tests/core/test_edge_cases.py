"""Edge cases found in review: clear errors, no cycles with create_graph, anomaly naming."""

import gc
import weakref

import pytest

from autodiff import Rule, Value, detect_anomaly, gradcheck, gradients


def test_backward_names_a_custom_op_whose_derivative_is_a_bare_float():
    bad = Rule("bad", lambda x: x, lambda x, out: 3.0)
    with pytest.raises(TypeError, match="op 'bad' must return a tuple of 1 value"):
        bad(Value(1.0)).backward()


def test_an_error_inside_a_custom_derivative_keeps_its_type():
    broken = Rule("broken", lambda x: x, lambda x, out: (1 / 0,))
    with pytest.raises(ZeroDivisionError):
        broken(Value(1.0)).backward()


def test_anomaly_with_create_graph_names_the_op_being_differentiated():
    with detect_anomaly(), pytest.raises(FloatingPointError, match="backward of op 'sqrt'"):
        (Value(0.0).sqrt() * 3 + 1).backward(create_graph=True)


def test_create_graph_leaves_no_cycle_through_intermediate_nodes():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = Value(2.0)
        h = x * x
        y = h * h
        ref = weakref.ref(h)
        y.backward(create_graph=True)
        assert isinstance(x.grad, Value) and x.grad.data == 4 * 2.0**3
        assert h.grad == 2 * 4.0  # intermediate: the float dy/dh = 2h
        x.grad = 0.0  # the leaf's gradient graph refers back to x, as in PyTorch
        del h, y
        assert ref() is None
    finally:
        if was_enabled:
            gc.enable()


def test_int_too_large_for_a_float_is_a_clear_error():
    with pytest.raises(ValueError, match="too large for a float"):
        Value(10**400)
    with pytest.raises(ValueError, match="too large for a float"):
        Value(1.0) * 10**400


def test_gradients_checks_wrt():
    x = Value(1.0)
    y = x * 2
    with pytest.raises(TypeError, match="list of Values"):
        gradients(y, x)
    with pytest.raises(TypeError, match=r"wrt\[0\] should be a Value, got float"):
        gradients(y, [2.0])


def test_gradients_with_a_value_seed_and_no_create_graph_returns_floats():
    x = Value(3.0)
    assert gradients(x * x, [x], gradient=Value(2.0)) == [12.0]


def test_backward_of_a_non_value_is_a_type_error_even_with_create_graph():
    from autodiff import backward

    with pytest.raises(TypeError, match="backward.. expected a Value, got float"):
        backward(3.0, create_graph=True)


def test_gradcheck_wants_a_list_of_inputs():
    with pytest.raises(TypeError, match="list of numbers, got float"):
        gradcheck(lambda v: v * v, 1.0)
