"""The README's lecture code blocks run as written and print what the README shows."""

import contextlib
import io
import math
import re
from pathlib import Path

import pytest

import autodiff

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def block_after(marker):
    """The ```python block after ``marker``, and the ``` block after it (its output)."""
    rest = README[README.index(marker) :]
    code = re.search(r"```python\n(.*?)```", rest, re.S)
    printed = re.search(r"```\n(.*?)```", rest[code.end() :], re.S)
    return code.group(1), printed.group(1) if printed else None


def run(code):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    return out.getvalue()


def test_the_lecture_training_loop_reproduces_its_printed_losses():
    code, printed = block_after("The\nlecture's training loop then runs unchanged:")
    lines = run(code).splitlines()
    shown = [line for line in printed.splitlines() if line != "..."]
    assert len(lines) == 20
    for line in shown:
        assert line in lines, line


def test_the_sin_exercise_block_prints_micrographs_numbers():
    code, _ = block_after("That works here, with any op name:")
    saved = autodiff.Value.__dict__["sin"]
    try:
        out = run(code)
    finally:
        autodiff.Value.sin = saved
    comment = re.search(r"print\(a.grad, b.grad\)  # (\S+) (\S+),", code)
    assert out.split() == [comment.group(1), comment.group(2)]
    # closed form: f = sin(3b)(ab + b^3) + a + b
    a, b = -4.0, 2.0
    da = math.sin(3 * b) * b + 1
    db = 3 * math.cos(3 * b) * (a * b + b**3) + math.sin(3 * b) * (a + 3 * b * b) + 1
    assert [float(x) for x in out.split()] == pytest.approx([da, db], rel=1e-12)
