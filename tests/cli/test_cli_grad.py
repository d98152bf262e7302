"""`autodiff grad` and `autodiff graph`: output, JSON, errors as one line, files."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from graphs import needs_graphviz

from autodiff.frontend.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_grad_prints_the_value_and_each_derivative(capsys):
    code, out, err = run(capsys, "grad", "x*y + x", "x=2", "y=3")
    assert code == 0 and err == ""
    # f = xy + x = 8, df/dx = y + 1 = 4, df/dy = x = 2
    assert out.splitlines() == ["value = 8.0", "d/dx = 4.0", "d/dy = 2.0"]


def test_grad_json_is_exactly_value_and_gradients_in_the_order_given(capsys):
    code, out, _ = run(capsys, "grad", "tanh(w*x + b)", "x=2", "w=0.5", "b=-1", "--json")
    assert code == 0
    report = json.loads(out)
    assert list(report) == ["value", "gradients"]
    assert list(report["gradients"]) == ["x", "w", "b"]
    # tanh(0) = 0 and 1 - tanh(0)^2 = 1: d/dx = w, d/dw = x, d/db = 1
    assert report == {"value": 0.0, "gradients": {"x": 0.5, "w": 2.0, "b": 1.0}}


def test_grad_json_writes_non_finite_numbers_as_strings(capsys):
    code, out, _ = run(capsys, "grad", "log(x)", "x=0", "--json")
    assert code == 0
    assert json.loads(out) == {"value": "-Infinity", "gradients": {"x": "Infinity"}}
    assert json.loads(out, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))


def test_grad_warns_about_an_unused_variable_and_reports_zero(capsys):
    code, out, err = run(capsys, "grad", "x*x", "x=3", "z=1", "--json")
    assert code == 0
    assert json.loads(out) == {"value": 9.0, "gradients": {"x": 6.0, "z": 0.0}}
    assert "warning: z does not appear" in err and len(err.splitlines()) == 1


def test_an_expression_starting_with_minus_goes_after_double_dash(capsys):
    code, out, _ = run(capsys, "grad", "--", "-x**2", "x=3")
    assert code == 0 and out.splitlines() == ["value = -9.0", "d/dx = -6.0"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["x.real", "x=1"], "attribute access"),
        (["x*y", "x=1"], "'y': no value given"),
        (["x*y", "x=1", "y"], "not NAME=VALUE"),
        (["x", "x=1", "x=2"], "x is given twice"),
        (["x", "x=one"], "'one' is not a number"),
        (["foo(x)", "x=1"], "unknown function 'foo'"),
        (["x +* 2", "x=1"], "invalid syntax"),
        (["__import__('os').system('echo hacked')"], "only the functions"),
        (["(lambda: 1)()"], "lambda"),
        (["[x for x in (1,)]"], "comprehension"),
        (["x[0]", "x=1"], "subscripting"),
    ],
)
def test_grad_errors_are_one_line_and_exit_2(capsys, argv, words):
    code, out, err = run(capsys, "grad", *argv)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("autodiff grad: error: ") and words in err


def test_grad_runs_nothing_from_a_hostile_expression(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, _ = run(capsys, "grad", "__import__('pathlib').Path('MARKER').touch()")
    assert code == 2 and list(tmp_path.iterdir()) == []


def test_grad_without_an_expression_is_a_one_line_usage_error(capsys):
    code, out, err = run(capsys, "grad")
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("autodiff grad: error: the following arguments are required: EXPR")
    assert "usage: autodiff grad [options] EXPR [NAME=VALUE ...]" in line


@needs_graphviz
def test_grad_render_and_frames_write_files(capsys, tmp_path):
    svg, frames = tmp_path / "g.svg", tmp_path / "frames"
    code, out, err = run(
        capsys, "grad", "x*y + x", "x=2", "y=3", "--render", str(svg), "--frames", str(frames)
    )
    assert code == 0 and out.startswith("value = 8.0")
    assert svg.read_text().lstrip().startswith("<?xml") and "grad 4.0000" in svg.read_text()
    assert (frames / "index.html").exists()
    assert sorted(p.name for p in frames.iterdir()) == ["index.html"]  # one page, no frames
    # x, y, x*y, x*y + x, and the forward pass
    assert (frames / "index.html").read_text().count('"head":"Step ') == 5
    assert str(svg) in err and "index.html" in err


def test_grad_render_with_an_unknown_format_is_one_line(capsys, tmp_path):
    code, out, err = run(capsys, "grad", "x", "x=1", "--render", str(tmp_path / "g.bmp"))
    assert code == 2 and out.startswith("value = 1.0")
    assert len(err.splitlines()) == 1 and "cannot tell the format" in err


def test_graph_writes_the_drawing_after_backward(capsys, tmp_path):
    path = tmp_path / "g.dot"
    code, out, err = run(capsys, "graph", "x*y + x", "x=2", "y=3", "-o", str(path))
    assert code == 0 and out == "" and str(path) in err
    source = path.read_text()
    assert "rankdir=LR" in source and "grad 4.0000" in source and "grad 2.0000" in source


def test_graph_options(capsys, tmp_path):
    path = tmp_path / "g.gv"
    code, _, _ = run(
        capsys,
        "graph",
        "x*y",
        "x=2",
        "y=3",
        "-o",
        str(path),
        "--rankdir",
        "TB",
        "--no-grad",
        "--precision",
        "1",
        "--local",
    )
    source = path.read_text()
    assert code == 0 and "rankdir=TB" in source and "grad" not in source
    assert "data 6.0" in source and "local 3.0" in source


def test_graph_refuses_too_many_nodes_with_advice(capsys, tmp_path):
    code, _, err = run(
        capsys, "graph", "x+x+x+x", "x=1", "-o", str(tmp_path / "g.svg"), "--max-nodes", "3"
    )
    assert code == 2 and "--max-nodes" in err and len(err.splitlines()) == 1


@needs_graphviz
def test_graph_svg_is_drawn(capsys, tmp_path):
    path = tmp_path / "g.svg"
    code, _, _ = run(capsys, "graph", "exp(x)", "x=0", "-o", str(path), "--color-grad")
    assert code == 0 and "<svg" in path.read_text() and "grad 1.0000" in path.read_text()


def test_missing_graphviz_is_one_line_naming_both_ways_to_install_it(tmp_path):
    env = {**os.environ, "AUTODIFF_GRAPHVIZ": "none", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "autodiff", "graph", "x*y", "x=2", "y=3", "-o", "g.svg"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "Graphviz" in line and "apt-get install graphviz" in line and "g.dot" in line
    assert "pip install graphviz-pure" in line
    assert "Traceback" not in done.stderr
    assert (tmp_path / "g.dot").exists() and not (tmp_path / "g.svg").exists()


def test_grad_values_match_the_closed_form_for_a_neuron(capsys):
    code, out, _ = run(
        capsys,
        "grad",
        "tanh(x1*w1 + x2*w2 + b)",
        "x1=2",
        "x2=0",
        "w1=-3",
        "w2=1",
        "b=6.8813735870195432",
        "--json",
    )
    report = json.loads(out)
    # the article's neuron: o = 0.7071, do/dn = 1 - o^2 = 0.5
    assert report["value"] == pytest.approx(math.sqrt(0.5), rel=1e-9)
    expected = {"x1": -1.5, "x2": 0.5, "w1": 1.0, "w2": 0.0, "b": 0.5}
    assert report["gradients"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert code == 0


def test_rankdir_reaches_the_drawing_of_grad_and_walkthrough(capsys, tmp_path):
    path = tmp_path / "g.dot"
    code, _, _ = run(capsys, "grad", "x*y", "x=2", "y=3", "--render", str(path), "--rankdir", "TB")
    assert code == 0 and "rankdir=TB" in path.read_text()
    walk = tmp_path / "walk.gv"
    code, _, _ = run(capsys, "walkthrough", "--render", str(walk), "--rankdir", "BT")
    assert code == 0 and "rankdir=BT" in walk.read_text() and ">w5</" in walk.read_text()


def test_grad_max_nodes_limits_its_drawing_and_its_advice_is_its_own_flag(capsys, tmp_path):
    path = tmp_path / "g.dot"
    # x + x + x + x: x and three sums, 4 values
    code, _, err = run(capsys, "grad", "x+x+x+x", "x=1", "--render", str(path), "--max-nodes", "3")
    assert code == 2 and not path.exists()
    (line,) = err.splitlines()
    assert "more than 3 values" in line and line.endswith(
        "(here: --max-nodes N, or 0 for no limit)"
    )
    code, _, _ = run(capsys, "grad", "x+x+x+x", "x=1", "--render", str(path), "--max-nodes", "4")
    assert code == 0 and path.exists()


def test_grad_frames_beyond_200_values_advise_grad_max_nodes(capsys, tmp_path):
    frames = tmp_path / "frames"
    code, out, err = run(capsys, "grad", "+".join(["x"] * 201), "x=1", "--frames", str(frames))
    assert code == 2 and out == "value = 201.0\nd/dx = 201.0\n"
    (line,) = err.splitlines()
    assert line.startswith("autodiff grad: error: the graph has more than 200 values")
    assert "autodiff graph" not in line and "(here: --max-nodes N" in line
    assert not frames.exists()


def test_negative_max_nodes_is_a_usage_error_without_the_minus_hint(capsys):
    code, _, err = run(capsys, "grad", "x", "x=1", "--max-nodes", "-1")
    assert code == 2
    (line,) = err.splitlines()
    assert "argument --max-nodes: expected a whole number >= 0, got '-1'" in line
    assert "starts with a minus" not in line


def test_graph_file_errors_name_the_users_path(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "g.dot"
    code, _, err = run(capsys, "graph", "x", "x=1", "-o", str(target))
    assert code == 2
    reason = f"{target.parent} is a file, not a folder"
    assert err == f"autodiff graph: error: cannot write {target}: {reason}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["grad", "x", "x=1", "--render", ""],
        ["grad", "x", "x=1", "--frames", " "],
        ["walkthrough", "--render", ""],
        ["graph", "x", "x=1", "-o", ""],
        ["train", "moons", "--plot", ""],
    ],
)
def test_an_empty_output_path_is_refused_not_ignored(argv, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "expected a file or folder name, got an empty one" in err


def test_file_errors_are_said_once_naming_what_is_wrong(capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    code, _, err = run(capsys, "grad", "x*y", "x=1", "y=2", "--frames", str(afile))
    assert code == 2
    assert err.count("cannot write") == 1 and "is a file, not a folder" in err
    assert "File exists" not in err
    missing = tmp_path / "nonexistent" / "dir" / "g.svg"
    code, _, err = run(capsys, "grad", "x", "x=1", "--render", str(missing))
    assert code == 2
    assert err == (
        f"autodiff grad: error: cannot write {missing}: the folder {missing.parent} "
        "does not exist\n"
    )
    assert not (tmp_path / "nonexistent").exists()


def test_every_output_path_is_checked_before_anything_is_written(capsys, tmp_path):
    svg = tmp_path / "g.svg"
    code, _, err = run(
        capsys, "grad", "x", "x=1", "--render", str(svg), "--frames", str(tmp_path / "no" / "f")
    )
    assert code == 2 and "does not exist" in err
    assert not svg.exists()  # the drawing was not made before the bad folder was seen


def test_a_library_message_naming_the_path_is_not_repeated(capsys, tmp_path, monkeypatch):
    from autodiff.frontend import cli

    def read_only(*args, **kwargs):
        raise OSError(30, f"cannot write {tmp_path / 'g.svg'}: Read-only file system")

    monkeypatch.setattr(cli, "render", read_only)
    code, _, err = run(capsys, "grad", "x", "x=1", "--render", str(tmp_path / "g.svg"))
    assert code == 2
    assert (
        err == f"autodiff grad: error: cannot write {tmp_path / 'g.svg'}: Read-only file system\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["grad", "x*y", "x=1", "y=2", "--render", "{missing}"],
        ["grad", "x*y", "x=1", "y=2", "--frames", "{afile}"],
        ["walkthrough", "--render", "{missing}"],
        ["walkthrough", "--frames", "{afile}"],
    ],
)
def test_a_bad_output_path_is_refused_before_any_result_is_printed(argv, capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    paths = {"missing": str(tmp_path / "no" / "g.svg"), "afile": str(afile)}
    code, out, err = run(capsys, *(arg.format(**paths) for arg in argv))
    # a refused command prints no result above its error: a script reading stdout gets nothing
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "cannot write" in err
