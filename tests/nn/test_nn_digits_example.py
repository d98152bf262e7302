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


def test_the_digits_example_without_matplotlib_trains_and_reports_but_draws_nothing(tmp_path):
    blocked = tmp_path / "blocked"
    (blocked / "matplotlib").mkdir(parents=True)
    (blocked / "matplotlib" / "__init__.py").write_text("raise ImportError('not installed')\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "digits.py"), "page.png"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), str(ROOT)])},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    first, *progress = done.stderr.splitlines()  # then fit's line per epoch (not a tty)
    assert first == (
        "examples/digits.py: no picture: matplotlib is not installed; install it with: "
        'pip install "autodiff-scalar[plot]"'
    )
    assert len(progress) == 20
    lines = done.stdout.splitlines()
    test_accuracy = float(re.fullmatch(r"test accuracy: ([0-9.]+)%", lines[4]).group(1))
    assert test_accuracy >= 95.0
    assert lines[-1].startswith("   9 ")  # the confusion matrix's last row ends the output
    assert not (tmp_path / "page.png").exists()
