"""examples/digits.py runs top to bottom and reads the unseen digits well."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_digits_example_trains_reports_and_draws(tmp_path):
    pytest.importorskip("matplotlib", reason="the example draws a picture (the plot extra)")
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "digits.py"), "page.png"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "1347 training images, 450 test images, 8x8 pixels each"
    assert lines[2].startswith("trained: compiled")
    test_accuracy = float(re.fullmatch(r"test accuracy: ([0-9.]+)%", lines[4]).group(1))
    assert test_accuracy >= 95.0
    assert len([line for line in lines if re.match(r"^ {3}\d ", line)]) == 10  # matrix rows
    assert (tmp_path / "page.png").read_bytes()[:4] == b"\x89PNG"
    assert lines[-1] == "test digits and their predictions saved to page.png"
