"""jvp: forward mode (dual numbers) over the tape, against closed forms and reverse mode."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import TraceError


def test_jvp_of_a_closed_form_along_a_direction():
    value, slope = autodiff.jvp(lambda x, y: x * y + x.sin(), [2.0, 3.0], [0.5, 2.0])
    assert value == 6.0 + math.sin(2.0)
    # d/dx = y + cos x, d/dy = x
    assert slope == pytest.approx(0.5 * (3.0 + math.cos(2.0)) + 2.0 * 2.0, rel=1e-15)


@settings(max_examples=40, deadline=None)
@given(st.floats(-2, 2), st.floats(0.1, 3), st.floats(-1, 1), st.floats(-1, 1))
def test_jvp_equals_the_gradient_dotted_with_the_direction(x, y, vx, vy):
    # f = tanh(x) * log(y) + x / y: grad = ((1 - tanh^2 x) log y + 1/y, tanh x / y - x / y^2)
    _, slope = autodiff.jvp(lambda a, b: a.tanh() * b.log() + a / b, [x, y], [vx, vy])
    dx = (1 - math.tanh(x) ** 2) * math.log(y) + 1 / y
    dy = math.tanh(x) / y - x / y**2
    assert slope == pytest.approx(vx * dx + vy * dy, rel=1e-9, abs=1e-12)


def test_jvp_direction_must_match_the_arguments():
    with pytest.raises(TraceError, match="structure"):
        autodiff.jvp(lambda x, y: x * y, [1.0, 2.0], [1.0])


def test_forward_vs_reverse_example_agrees_and_counts_sweeps():
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, str(root / "examples" / "forward_vs_reverse.py")]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    assert "forward mode: 12 sweeps x 25 ops = 300" in out
    assert "reverse mode: 1 sweep  x 25 ops = 25" in out
    # dC/dw1 as the article's reader computed it
    assert "w1      -0.064167904964453" in out
