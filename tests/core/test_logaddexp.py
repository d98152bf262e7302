"""rules.LOGADDEXP, log(e^a + e^b): value, gradients and second derivatives against
closed forms and central differences, and PyTorch's values at the IEEE edges."""

from __future__ import annotations

import math

import pytest
from finite_differences import central_difference, close
from hypothesis import given
from hypothesis import strategies as st

from autodiff import Value, gradients, rules
from autodiff.core import floats

inf, nan = math.inf, math.nan
# e^a + e^b neither overflows nor loses b next to a over this range, so the naive
# closed forms below are accurate references
moderate = st.floats(-30.0, 30.0)


def _grads(a0: float, b0: float) -> tuple[float, float, float]:
    a, b = Value(a0), Value(b0)
    out = rules.LOGADDEXP(a, b)
    out.backward()
    return out.data, a.grad, b.grad


@given(moderate, moderate)
def test_value_and_gradients_match_closed_form(a0, b0):
    total = math.exp(a0) + math.exp(b0)
    value, da, db = _grads(a0, b0)
    assert close(value, math.log(total), 1e-14, 1e-14)
    assert close(da, math.exp(a0) / total, 1e-12, 1e-300)
    assert close(db, math.exp(b0) / total, 1e-12, 1e-300)


@given(moderate, moderate)
def test_gradients_match_central_differences(a0, b0):
    _, da, db = _grads(a0, b0)
    assert close(da, central_difference(floats.logaddexp, [a0, b0], 0), 1e-6, 1e-8)
    assert close(db, central_difference(floats.logaddexp, [a0, b0], 1), 1e-6, 1e-8)


@given(moderate, moderate)
def test_second_derivatives_match_closed_form(a0, b0):
    # with s = e^a / (e^a + e^b): d2/da2 = s (1 - s), d2/da db = -s (1 - s)
    a, b = Value(a0), Value(b0)
    (da,) = gradients(rules.LOGADDEXP(a, b), [a], create_graph=True)
    d2a, d2ab = gradients(da, [a, b])
    s = math.exp(a0) / (math.exp(a0) + math.exp(b0))
    assert close(d2a, s * (1 - s), 1e-9, 1e-12)
    assert close(d2ab, -s * (1 - s), 1e-9, 1e-12)


def test_large_arguments_stay_finite():
    assert _grads(1000.0, -1000.0) == (1000.0, 1.0, 0.0)
    assert _grads(1000.0, 1000.0) == (1000.0 + math.log(2.0), 0.5, 0.5)
    assert _grads(-1000.0, -1000.0)[0] == -1000.0 + math.log(2.0)


# PyTorch's logaddexp: forward by the same stable formula; backward
# grad / (1 + e^(b - a)) for a and grad / (1 + e^(a - b)) for b.
EDGES = [
    # a, b, value, d/da, d/db
    (inf, 1.0, inf, 1.0, 0.0),
    (1.0, inf, inf, 0.0, 1.0),
    (-inf, 1.0, 1.0, 0.0, 1.0),
    (inf, -inf, inf, 1.0, 0.0),
    (inf, inf, inf, nan, nan),
    (-inf, -inf, -inf, nan, nan),
    (nan, 1.0, nan, nan, nan),
]


@pytest.mark.parametrize(("a0", "b0", "value", "da", "db"), EDGES)
def test_ieee_edges_as_pytorch(a0, b0, value, da, db):
    got = _grads(a0, b0)
    assert [str(x) for x in got] == [str(x) for x in (value, da, db)]


@pytest.mark.parametrize(("a0", "b0"), [edge[:2] for edge in EDGES] + [(3.0, -2.5)])
def test_edges_equal_pytorch_itself(a0, b0):
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    a = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
    out = torch.logaddexp(a, b)
    out.backward()
    theirs = [out.item(), a.grad.item(), b.grad.item()]
    ours = _grads(a0, b0)
    for x, y in zip(ours, theirs, strict=True):
        assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-15)
