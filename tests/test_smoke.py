"""The micrograd README example, with its published numbers."""

import pytest

from autodiff import Value


def test_micrograd_readme_example_matches_published_numbers():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


def test_repeated_backward_accumulates_leaves_only():
    a = Value(3.0)
    b = a * a + a
    b.backward()
    assert a.grad == 7.0
    b.backward()
    assert a.grad == 14.0
