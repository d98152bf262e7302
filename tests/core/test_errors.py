"""Bad input raises a TypeError that names what it got."""

from __future__ import annotations

import math

import pytest

import autodiff
from autodiff import Rule, Value, gradcheck, gradients, topological_order
from autodiff.core.value import apply

NOT_NUMBERS = [
    ("str", "1.5"),
    ("NoneType", None),
    ("complex", 1j),
    ("list", [1.0]),
    ("Value", Value(1.0)),
    ("bool", True),  # the lead's choice: True is not the number 1 here
]


@pytest.mark.parametrize("type_name, data", NOT_NUMBERS, ids=[t for t, _ in NOT_NUMBERS])
def test_value_of_a_non_number_raises_type_error_naming_the_type(type_name, data):
    with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
        Value(data)


@pytest.mark.parametrize("data", [3, -7, 0, 2.5, math.inf])
def test_value_stores_ints_and_floats_as_float(data):
    v = Value(data)
    assert type(v.data) is float and v.data == data


def test_value_label_must_be_a_str():
    assert Value(1.0, label="w").label == "w"
    assert Value(1.0).label == ""
    with pytest.raises(TypeError, match=r"\bint\b"):
        Value(1.0, label=3)


MIXES = [
    ("v + str", lambda v: v + "x", "str"),
    ("str + v", lambda v: "x" + v, "str"),
    ("v - None", lambda v: v - None, "NoneType"),
    ("None - v", lambda v: None - v, "NoneType"),
    ("v * list", lambda v: v * [1], "list"),
    ("v / complex", lambda v: v / 1j, "complex"),
    ("complex / v", lambda v: 1j / v, "complex"),
    ("v ** str", lambda v: v ** "x", "str"),
    ("str ** v", lambda v: "x" ** v, "str"),
    ("v ** None", lambda v: v**None, "NoneType"),
    ("v ** complex", lambda v: v**1j, "complex"),
    ("v + bool", lambda v: v + True, "bool"),
]


@pytest.mark.parametrize("mix, expected_type", [m[1:] for m in MIXES], ids=[m[0] for m in MIXES])
def test_mixing_a_value_with_a_non_number_raises_type_error_naming_the_type(mix, expected_type):
    with pytest.raises(TypeError, match=rf"\b{expected_type}\b"):
        mix(Value(2.0))


def test_backward_seed_must_be_a_number():
    y = Value(2.0) * 3
    with pytest.raises(TypeError, match=r"\bstr\b"):
        y.backward("1")
    with pytest.raises(TypeError, match=r"\bNoneType\b"):
        autodiff.backward(y, None)


def test_gradients_of_a_non_value_raises_type_error():
    with pytest.raises(TypeError, match=r"\bfloat\b"):
        gradients(3.0, [])


def test_topological_order_of_a_non_value_raises_type_error():
    with pytest.raises(TypeError, match=r"\bfloat\b"):
        topological_order(3.0)


def test_rule_needs_a_name_and_callables():
    with pytest.raises(TypeError, match="non-empty str"):
        Rule("", lambda x: x, lambda x, out: (1.0,))
    with pytest.raises(TypeError, match="callable"):
        Rule("f", 3.0, lambda x, out: (1.0,))


def test_rule_over_a_builtin_needs_an_explicit_arity_or_reads_it():
    # math.tanh has a signature on 3.11; either way the rule must know it takes one input
    rule = Rule("t", math.tanh, lambda x, out: (1.0 - out * out,), arity=1)
    assert rule(Value(0.5)).data == math.tanh(0.5)
    with pytest.raises(TypeError, match="arity"):
        Rule("varargs", lambda *xs: sum(xs), lambda *xs: (1.0,) * (len(xs) - 1))


def test_applying_a_rule_to_the_wrong_number_of_inputs_raises_type_error():
    square = Rule("square", lambda x: x * x, lambda x, out: (2 * x,))
    with pytest.raises(TypeError, match=r"'square' takes 1 input\(s\), got 2"):
        apply(square, Value(1.0), Value(2.0))


def test_custom_forward_returning_a_non_number_raises_type_error_naming_the_op():
    to_text = Rule("text", lambda x: str(x), lambda x, out: (0.0,))
    with pytest.raises(TypeError, match=r"'text'.*\bstr\b"):
        to_text(Value(1.0))


def test_custom_op_with_a_non_number_input_raises_type_error():
    square = Rule("square", lambda x: x * x, lambda x, out: (2 * x,))
    with pytest.raises(TypeError, match=r"\bstr\b"):
        square("2")


def test_gradients_reports_a_custom_op_whose_derivatives_are_not_one_per_input():
    bad = Rule("bad", lambda x: x, lambda x, out: 2.0)  # a float, not a tuple
    with pytest.raises(TypeError, match="'bad'"):
        x = Value(1.0)
        gradients(bad(x), [x])


def test_backward_reports_a_one_input_custom_op_returning_a_bare_float():
    bad = Rule("bad", lambda x: x, lambda x, out: 2.0)
    with pytest.raises(TypeError, match="'bad'"):
        bad(Value(1.0)).backward()


def test_backward_reports_a_two_input_custom_op_returning_too_few_derivatives():
    bad = Rule("bad2", lambda a, b: a + b, lambda a, b, out: (1.0,))
    with pytest.raises(TypeError, match="'bad2'"):
        bad(Value(1.0), Value(2.0)).backward()


def test_an_instance_of_a_value_subclass_can_be_the_exponent():
    class Named(Value):
        __slots__ = ()

    a, b = Value(2.0), Named(3.0)
    y = a**b
    y.backward()
    assert y.data == 8.0
    assert b.grad == pytest.approx(8.0 * math.log(2.0))


def test_gradcheck_rejects_a_function_that_returns_no_value():
    with pytest.raises(TypeError, match=r"\bfloat\b"):
        gradcheck(lambda x: 3.0, [1.0])


def test_gradcheck_rejects_non_number_inputs():
    with pytest.raises(TypeError, match=r"\bstr\b"):
        gradcheck(lambda x: x * x, ["1.0"])
