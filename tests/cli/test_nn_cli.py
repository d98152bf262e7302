"""`autodiff train`: end to end, with small data and few epochs."""

import os
import subprocess
import sys

import pytest

from autodiff.frontend.cli import main

SMALL = ["--epochs", "2", "--samples", "40", "--hidden", "4", "--no-progress"]


def test_train_xor_reports_train_and_test_accuracy(capsys):
    assert main(["train", "xor", *SMALL, "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "xor: 30 training and 10 test samples" in out
    assert "train accuracy:" in out
    assert "test accuracy:" in out


def test_train_is_reproducible_by_seed(capsys):
    main(["train", "moons", *SMALL, "--no-plot", "--seed", "4", "--optimizer", "adam"])
    first = capsys.readouterr().out
    main(["train", "moons", *SMALL, "--no-plot", "--seed", "4", "--optimizer", "adam"])
    assert capsys.readouterr().out == first


def test_train_saves_the_decision_boundary(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "xor.png"
    assert main(["train", "xor", *SMALL, "--plot", str(path)]) == 0
    assert path.read_bytes().startswith(b"\x89PNG")
    assert f"decision boundary saved to {path}" in capsys.readouterr().out


def _without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)


def test_plot_without_matplotlib_fails_before_training_with_the_install_command(
    monkeypatch, tmp_path, capsys
):
    _without_matplotlib(monkeypatch)
    path = tmp_path / "b.png"
    assert main(["train", "circles", *SMALL, "--plot", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # not even the header: nothing was trained
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("autodiff train: error: --plot needs matplotlib")
    assert 'pip install "autodiff-scalar[plot]"' in line
    assert not path.exists()


def test_the_default_plot_without_matplotlib_is_skipped_with_a_note(monkeypatch, tmp_path, capsys):
    _without_matplotlib(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "circles", *SMALL]) == 0
    captured = capsys.readouterr()
    assert "test accuracy:" in captured.out
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("autodiff train: no plot: matplotlib is not installed")
    assert list(tmp_path.iterdir()) == []


def test_plot_into_a_missing_folder_fails_before_training_naming_it(tmp_path, capsys):
    path = tmp_path / "new" / "deeper" / "xor.png"
    assert main(["train", "xor", *SMALL, "--plot", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no training happened
    assert captured.err == (
        f"autodiff train: error: cannot write {path}: the folder {path.parent} does not exist\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_plot_into_a_folder_that_cannot_exist_fails_before_training(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    (tmp_path / "file").write_text("")
    path = tmp_path / "file" / "sub" / "b.png"
    assert main(["train", "xor", *SMALL, "--plot", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line == (
        f"autodiff train: error: cannot write {path}: {tmp_path / 'file'} is a file, not a folder"
    )


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--hidden", "16,x"], "--hidden expected positive widths like 16,16, got '16,x'"),
        (["--hidden", "0"], "--hidden expected positive widths"),
        (["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["--lr", "-1"], "--lr must be a positive number, got -1.0"),
        (["--plot", "b.gif"], "--plot b.gif should end in .png, .svg or .pdf"),
        (["--epochs", "x"], "argument --epochs: invalid int value: 'x'"),
    ],
)
def test_bad_options_print_one_line_and_exit_2(extra, message, capsys):
    assert main(["train", "xor", "--no-progress", *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert message in line


def test_python_dash_m_autodiff_train_runs(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run(
        [sys.executable, "-m", "autodiff", "train", "xor", *SMALL, "--no-plot"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout


def test_moons_example_without_matplotlib_stops_before_training(tmp_path):
    blocked = tmp_path / "blocked"
    (blocked / "matplotlib").mkdir(parents=True)
    (blocked / "matplotlib" / "__init__.py").write_text("raise ImportError('not installed')\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run(
        [sys.executable, os.path.join(root, "examples", "moons.py"), "b.png"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), root])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""  # not even the model: nothing was built or trained
    assert result.stderr == (
        "examples/moons.py: matplotlib is not installed; install it with: "
        'pip install "autodiff-scalar[plot]"\n'
    )
    assert not (tmp_path / "b.png").exists()


def test_plot_into_an_unwritable_folder_fails_before_training(tmp_path, capsys, monkeypatch):
    import os

    from autodiff.readers import renderers

    folder = tmp_path / "ro"
    folder.mkdir()
    real = os.access
    # root may write anywhere: pretend the folder is read-only, as it is for a user
    monkeypatch.setattr(
        renderers.os, "access", lambda p, mode: False if str(p) == str(folder) else real(p, mode)
    )
    path = folder / "b.png"
    assert main(["train", "xor", *SMALL, "--plot", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no training happened
    assert captured.err == (
        f"autodiff train: error: cannot write {path}: the folder {folder} is not writable\n"
    )


# autodiff train digits ---------------------------------------------------------------

DIGITS_QUICK = ["train", "digits", "--epochs", "1", "--no-progress"]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One short digits run, its printed lines and the test split it used."""
    import contextlib
    import io

    from nn import load_digits, train_test_split

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(DIGITS_QUICK) == 0
    X, y = load_digits()
    _, _, _, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    return out.getvalue().splitlines(), y_test


def test_train_digits_says_what_it_trains_and_the_path_taken(digits_run):
    lines, _ = digits_run
    assert lines[0] == (
        "digits: 1347 training and 450 test images (8x8); MLP(64 -> 32 relu -> 10 linear); "
        "softmax cross-entropy; adam lr 0.01, 1 epoch, batches of 32"
    )
    assert lines[1] in ("trained: compiled (numpy backend)", "trained: compiled (python backend)")
    assert lines[2].startswith("train accuracy: ")


def test_train_digits_prints_a_confusion_matrix_of_the_test_split(digits_run):
    lines, y_test = digits_run
    start = lines.index("confusion matrix (test images; rows: true digit, columns: predicted):")
    header, *rows = lines[start + 1 : start + 12]
    assert header.split() == [str(k) for k in range(10)]
    matrix = []
    for k, row in enumerate(rows):
        label, *cells = row.split()
        assert label == str(k)
        matrix.append([0 if c == "." else int(c) for c in cells])
    assert [sum(row) for row in matrix] == [y_test.count(k) for k in range(10)]
    right = sum(matrix[k][k] for k in range(10))
    accuracy_line = lines[start - 1]
    assert accuracy_line == f"test accuracy: {right / 450:.1%} (held-out split)"
    assert right / 450 > 0.8  # one epoch already reads most digits


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--samples", "100"], "--samples sets a toy data set's size; digits has its 1,797"),
        (["--plot", "digits.gif"], "--plot digits.gif should end in .png, .svg or .pdf"),
    ],
)
def test_train_digits_refuses_bad_options_before_training(extra, message, capsys):
    assert main([*DIGITS_QUICK, *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert message in line


def test_train_digits_plot_is_saved_where_asked(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib (the plot extra)")
    path = tmp_path / "pictures" / "digits.png"
    path.parent.mkdir()  # a missing folder is an error, as for every output path
    assert main([*DIGITS_QUICK, "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"test digits and their predictions saved to {path}"
    )


def test_train_digits_draws_nothing_unless_asked(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(DIGITS_QUICK) == 0
    assert list(tmp_path.iterdir()) == []


class _Stop(Exception):
    """Raised by a stand-in fit: the test stops before training."""


def test_train_digits_without_numpy_says_the_fast_extra_before_training(monkeypatch, capsys):
    # without numpy the compiled run is the Python backend, several times slower (README:
    # 17 s against 5 s): a learner is told how to get the fast one before waiting for it
    import nn

    def stop(*args, **kwargs):
        raise _Stop  # the hint is checked, not the (slow) training

    monkeypatch.setattr("nn.compiled.numpy_available", lambda: False)
    monkeypatch.setattr(nn, "fit", stop)
    with pytest.raises(_Stop):
        main(["train", "digits", "--no-progress"])
    err = capsys.readouterr().err
    assert err == (
        "autodiff train: numpy is not installed: the compiled run uses the Python backend, "
        'several times slower; pip install "autodiff-scalar[fast]" for the numpy one\n'
    )


def test_train_digits_eager_or_with_numpy_gives_no_hint(monkeypatch, capsys):
    import nn

    def stop(*args, **kwargs):
        raise _Stop

    monkeypatch.setattr(nn, "fit", stop)
    monkeypatch.setattr("nn.compiled.numpy_available", lambda: True)
    with pytest.raises(_Stop):
        main(["train", "digits", "--no-progress"])
    monkeypatch.setattr("nn.compiled.numpy_available", lambda: False)
    with pytest.raises(_Stop):
        main(["train", "digits", "--no-progress", "--eager"])
    assert capsys.readouterr().err == ""


def test_the_header_counts_one_epoch_and_one_sample_per_batch_in_the_singular(capsys):
    argv = ["train", "xor", "--epochs", "1", "--batch-size", "1", "--samples", "40"]
    assert main([*argv, "--hidden", "4", "--no-progress", "--no-plot"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.endswith("sgd lr 0.1, 1 epoch, batches of 1")
