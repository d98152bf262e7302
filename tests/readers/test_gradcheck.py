"""gradcheck: passes correct ops, catches a deliberately wrong custom op."""

from __future__ import annotations

import re

import pytest

from autodiff import GradcheckError, Rule, Value, gradcheck
from autodiff.readers import numeric_gradient

# d/dx x^2 is 2x; this rule claims x, a classic slip
wrong_square = Rule("wrong_square", lambda x: x * x, lambda x, out: (x,))
# right for a, wrong for b: d(a*b)/db is a, not 2a
half_wrong_mul = Rule("half_wrong_mul", lambda a, b: a * b, lambda a, b, out: (b, 2 * a))


@pytest.mark.parametrize(
    "f, inputs",
    [
        (lambda x: x * x, [3.0]),
        (lambda a, b: (a * b + a.sin()).tanh(), [0.3, -1.2]),
        (lambda a, b, c: a**b / c + (c - a).exp(), [1.5, 2.5, 0.7]),
        (lambda x: x.sigmoid().log() + x.sqrt() * 2 + abs(x - 5), [2.0]),
        (lambda a, b: 2**a - 3 / b + b.relu(), [0.4, 1.1]),
    ],
)
def test_gradcheck_passes_for_correct_ops(f, inputs):
    assert gradcheck(f, inputs) is True


def test_gradcheck_raises_listing_the_analytic_and_numeric_gradient_of_a_wrong_op():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: wrong_square(x), [3.0])
    message = str(caught.value)
    # the wrong rule's analytic 3.0 and the true slope 6.0 (numeric, to ~1e-9)
    assert re.search(r"analytic 3\.0\b", message)
    assert re.search(r"numeric 6\.0000\d*|numeric 5\.9999\d*", message)


def test_gradcheck_error_lists_every_input_and_marks_the_wrong_one():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda a, b: half_wrong_mul(a, b), [2.0, 5.0])
    lines = [line for line in str(caught.value).splitlines() if "input #" in line]
    assert len(lines) == 2
    assert "mismatch" not in lines[0] and "analytic 5.0" in lines[0]  # d/da = b, right
    assert "mismatch" in lines[1] and "analytic 4.0" in lines[1]  # claims 2a; truth is a = 2


def test_gradcheck_error_is_an_assertion_error():
    with pytest.raises(AssertionError):
        gradcheck(wrong_square, [1.0])


def test_gradcheck_returns_false_instead_of_raising_when_asked():
    assert gradcheck(wrong_square, [1.0], raise_exception=False) is False
    assert gradcheck(lambda x: x * x, [1.0], raise_exception=False) is True


def test_gradcheck_tolerances_decide_a_small_disagreement():
    # analytic 2x + 1e-4 against the true 2x = 2 at x = 1: relative error 5e-5
    slightly_off = Rule("slightly_off", lambda x: x * x, lambda x, out: (2 * x + 1e-4,))
    assert gradcheck(slightly_off, [1.0]) is True  # within atol + rtol * 2 = 2.01e-3
    assert gradcheck(slightly_off, [1.0], atol=1e-7, rtol=1e-7, raise_exception=False) is False


def test_gradcheck_catches_a_wrong_op_deep_inside_a_larger_function():
    def f(a, b):
        return (a * b).tanh() + wrong_square(a + b).sin()

    assert gradcheck(f, [0.2, 0.1], raise_exception=False) is False


def test_numeric_gradient_is_the_central_difference():
    # f(x, y) = x^3 y; df/dx at (2, 5) = 3 x^2 y = 60, df/dy = x^3 = 8
    def f(x, y):
        return x**3 * y

    assert numeric_gradient(f, [2.0, 5.0], 0) == pytest.approx(60.0, rel=1e-7)
    assert numeric_gradient(f, [2.0, 5.0], 1) == pytest.approx(8.0, rel=1e-7)
    assert numeric_gradient(lambda x: x * x, [3.0], 0, eps=1e-3) == pytest.approx(6.0, rel=1e-9)


def test_gradcheck_leaves_no_gradient_behind():
    a = Value(1.0)
    gradcheck(lambda x: x * a, [2.0])
    assert a.grad == 0.0
