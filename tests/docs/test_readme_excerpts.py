"""The README's printed excerpts are the programs' real output, so they cannot drift.

Every fenced block of README.md whose first line is `$ autodiff ...` is a transcript:
each `$` line is run (in a subprocess, in an empty folder), and the lines under it must
be lines of that command's output (stdout, then stderr), verbatim and in order. A line
`...` marks lines left out; lines not separated by one must follow each other directly.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autodiff.readers import drawing

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_SCRIPT = Path(sys.executable).parent / "autodiff"
AUTODIFF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "autodiff"]
ELISION = "..."


def transcripts(text):
    """(command, shown lines, README line number) for each `$ autodiff` of each block."""
    found = []
    for block in re.finditer(r"^```[a-z]*\n(.*?)^```", text, flags=re.M | re.S):
        lines = block.group(1).splitlines()
        if not lines or not lines[0].startswith("$ autodiff"):
            continue
        first_line = text.count("\n", 0, block.start(1)) + 1
        for number, line in enumerate(lines, first_line):
            if line.startswith("$ "):
                found.append((line[2:], [], number))
            else:
                found[-1][1].append(line)
    return found


TRANSCRIPTS = transcripts(README.read_text(encoding="utf-8"))


def appears_in_order(shown, output):
    """Whether the shown lines are output lines in order, runs without `...` contiguous."""
    runs, run = [], []
    for line in shown:
        if line.strip() == ELISION:
            runs.append(run)
            run = []
        else:
            run.append(line)
    runs.append(run)
    start = 0
    for run in filter(None, runs):
        at = next((i for i in range(start, len(output)) if output[i : i + len(run)] == run), None)
        if at is None:
            return False
        start = at + len(run)
    return True


def test_the_readme_has_the_walkthrough_and_grad_transcripts():
    commands = [command for command, _, _ in TRANSCRIPTS]
    assert "autodiff walkthrough" in commands
    assert sum(c.startswith("autodiff grad") for c in commands) >= 4
    (walkthrough,) = [shown for command, shown, _ in TRANSCRIPTS if command == commands[0]]
    assert commands[0] == "autodiff walkthrough"
    assert len([line for line in walkthrough if line != ELISION]) >= 20


def test_the_check_itself_catches_drift():
    output = ["a", "b", "c", "d"]
    assert appears_in_order(["a", "...", "c", "d"], output)
    assert not appears_in_order(["a", "c"], output)  # not adjacent
    assert not appears_in_order(["c", "...", "a"], output)  # out of order
    assert not appears_in_order(["b "], output)  # verbatim, spaces included


@pytest.mark.parametrize(
    ("command", "shown"),
    [(command, shown) for command, shown, _ in TRANSCRIPTS],
    ids=[f"README.md:{number}" for _, _, number in TRANSCRIPTS],
)
def test_readme_transcript_is_real_output(command, shown, tmp_path):
    argv = shlex.split(command)
    draws = argv[1] == "graph" or "--render" in argv or "--frames" in argv
    if draws and shutil.which("dot") is None and getattr(drawing, "renderer", None) is None:
        pytest.skip("draws a graph, and Graphviz is not available here")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    done = subprocess.run(
        [*AUTODIFF, *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    output = (done.stdout + done.stderr).splitlines()
    if not shown:  # a command shown without output must at least succeed
        assert done.returncode == 0, done.stderr
    assert appears_in_order(shown, output), "\n".join(["README:", *shown, "output:", *output])
