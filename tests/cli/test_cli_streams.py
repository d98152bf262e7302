"""The console script as a user runs it: no traceback whatever happens to its streams.

Each case runs `autodiff` in a subprocess: a reader that goes away (`| head`), Ctrl-C,
a full disk, a terminal that cannot show "·", Python's own warnings, usage errors.
"""

import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).parent / "autodiff"
AUTODIFF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "autodiff"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "always"}


def autodiff(*args, env=None, **streams):
    streams = streams or {"capture_output": True}
    env = {**ENV, **(env or {})}
    return subprocess.run([*AUTODIFF, *args], env=env, text=True, timeout=120, **streams)


def run_into_closed_pipe(*args):
    """Run with stdout a pipe whose reader has already gone: every write fails (EPIPE)."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [*AUTODIFF, *args], env=ENV, stdout=write, stderr=subprocess.PIPE, timeout=120
        )
    finally:
        os.close(write)
    return done.returncode, done.stderr.decode()


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "x", "x=1"],  # fails at the last flush
        ["walkthrough", "--json"],  # fails in the middle, with more to print
        ["walkthrough"],
        ["grad", "--help"],  # argparse prints the help, then exits
        ["--version"],
    ],
)
def test_a_closed_pipe_ends_quietly_with_status_0(args):
    code, err = run_into_closed_pipe(*args)
    assert (code, err) == (0, "")


@pytest.mark.skipif(not (shutil.which("head") and shutil.which("bash")), reason="needs bash, head")
def test_head_takes_the_first_line_and_the_rest_ends_quietly():
    script = shlex.join(AUTODIFF) + ' walkthrough | head -1; echo "status ${PIPESTATUS[0]}"'
    done = subprocess.run(
        ["bash", "-c", script], env=ENV, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.splitlines() == ["=" * 78, "status 0"]
    assert done.stderr == ""


@pytest.mark.parametrize("progress", [False, True])
def test_ctrl_c_during_training_prints_one_line_and_exits_130(progress):
    args = ["train", "moons", "--epochs", "100000", "--no-plot"]
    args += [] if progress else ["--no-progress"]
    child = subprocess.Popen(
        [*AUTODIFF, *args],
        env={**ENV, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().startswith("moons: 150 training")  # training began
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    if progress:  # the bar's line is closed first, so the message has a line of its own
        assert err.splitlines()[-1] == "autodiff train: interrupted"
    else:
        assert err == "autodiff train: interrupted\n"
    assert "accuracy" not in out


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    ("args", "prog"),
    [
        (["grad", "x", "x=1"], "autodiff grad"),
        (["walkthrough"], "autodiff walkthrough"),  # more than one buffer: fails mid-way
        (["--version"], "autodiff"),
        (["--help"], "autodiff"),  # argparse's help: its write error is not swallowed
        (["grad", "--help"], "autodiff"),
    ],
)
def test_a_full_disk_on_stdout_is_one_line_and_status_1(args, prog):
    with open("/dev/full", "w") as full:
        done = autodiff(*args, stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 1
    assert done.stderr == f"{prog}: error: cannot write the output: No space left on device\n"


def test_an_ascii_only_terminal_gets_stars_for_dots():
    done = autodiff("walkthrough", env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0 and done.stderr == ""
    assert "   h1: i = w1*x1 + w3*x2 + b1\n" in done.stdout
    assert "dC/dw5 = di_o1/dw5 * do1/di_o1 * dC/do1 = 0.4134 * 0.2049 * -0.5755" in done.stdout
    assert done.stdout.isascii()


def test_python_syntax_warnings_never_reach_the_terminal():
    done = autodiff("grad", "1in(x)", "x=1")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "autodiff grad: error: column 1: invalid syntax: invalid decimal literal near '1in(x)'\n"
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["grad", "-x**2", "x=3"],
            "autodiff grad: error: unrecognized arguments: -x**2; if EXPR starts with a "
            "minus, put -- before it: autodiff grad -- '-x**2' x=3 "
            "(usage: autodiff grad [options] EXPR [NAME=VALUE ...]; see autodiff grad --help)",
        ),
        (
            ["train", "moons", "--epochs", "many"],
            "autodiff train: error: argument --epochs: invalid int value: 'many' "
            "(usage: autodiff train [options] {moons,circles,xor,digits}; "
            "see autodiff train --help)",
        ),
        (
            ["frobnicate"],
            "autodiff: error: argument COMMAND: invalid choice: 'frobnicate' (choose from "
            "'walkthrough', 'grad', 'graph', 'train', 'trace') "
            "(usage: autodiff [options] COMMAND ...; see autodiff --help)",
        ),
    ],
)
def test_usage_errors_are_one_line_with_the_subcommands_usage(args, line):
    done = autodiff(*args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == line + "\n"


def test_the_suggested_command_for_a_leading_minus_works():
    done = autodiff("grad", "--", "-x**2", "x=3")
    assert done.returncode == 0 and done.stdout == "value = -9.0\nd/dx = -6.0\n"


def test_version_names_the_package_and_python():
    done = autodiff("--version")
    assert done.returncode == 0 and done.stderr == ""
    first = done.stdout.splitlines()[0]
    assert first.startswith("autodiff 0.1.0 (Python 3.")


def test_file_errors_name_the_users_path_not_a_temporary_file(tmp_path):
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "g.dot"  # a folder that cannot be made: "file" is a file
    done = autodiff("grad", "x*y", "x=1", "y=2", "--render", str(target))
    assert done.returncode == 2
    assert done.stdout == ""  # refused before the result is printed
    line = f"autodiff grad: error: cannot write {target}: {target.parent} is a file, not a folder"
    assert done.stderr == line + "\n"


def test_a_closed_stdout_is_one_line_and_exit_1_and_commands_that_do_not_print_run(tmp_path):
    closed = {"capture_output": False, "stderr": subprocess.PIPE, "pass_fds": ()}

    def run(*args):
        return subprocess.run(
            [*AUTODIFF, *args],
            env=ENV,
            text=True,
            timeout=120,
            preexec_fn=lambda: os.close(1),  # started as with >&-
            **closed,
        )

    done = run("grad", "x", "x=1")
    assert done.returncode == 1
    assert (
        done.stderr == "autodiff grad: error: cannot write the output: standard output is closed\n"
    )
    assert run("graph", "x*y", "x=1", "y=2", "-o", str(tmp_path / "g.dot")).returncode == 0
    assert (tmp_path / "g.dot").exists()


def test_a_closed_stderr_keeps_warnings_out_of_the_json_on_stdout():
    done = subprocess.run(
        [*AUTODIFF, "grad", "x*y", "x=1", "y=2", "z=3", "--json"],
        env=ENV,
        capture_output=False,
        stdout=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(2),  # started as with 2>&-
    )
    assert done.returncode == 0
    assert done.stdout == '{"value": 2.0, "gradients": {"x": 2.0, "y": 1.0, "z": 0.0}}\n'
