"""examples/newton.py: Newton's method reaches the known minima, quadratically."""

import importlib.util
import math
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "examples" / "newton.py"


@pytest.fixture(scope="module")
def newton():
    spec = importlib.util.spec_from_file_location("newton_example", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quiet(line):
    pass


def test_newton_1d_converges_to_ln_2(newton):
    # f(x) = e^x - 2x:  f'(x) = 0  at  x = ln 2
    iterates = newton.newton_1d(newton.bowl, 2.0, show=quiet)
    assert iterates[-1] == pytest.approx(math.log(2.0), abs=1e-14)
    assert len(iterates) <= 10


def test_newton_1d_error_shrinks_quadratically(newton):
    # Newton's error obeys e_next ~ f'''/(2 f'') e^2 = e^2 / 2 near ln 2
    errors = [abs(x - math.log(2.0)) for x in newton.newton_1d(newton.bowl, 2.0, show=quiet)]
    close = [(e, e_next) for e, e_next in zip(errors, errors[1:], strict=False) if 1e-6 < e < 0.1]
    assert close  # some steps were taken inside the quadratic region
    for e, e_next in close:
        assert e_next <= e * e


def test_newton_on_rosenbrock_reaches_1_1_in_few_steps(newton):
    iterates = newton.newton(newton.rosenbrock, [-1.2, 1.0], show=quiet)
    assert iterates[-1] == pytest.approx([1.0, 1.0], abs=1e-9)
    assert len(iterates) < 20


def test_newton_prints_each_iteration(newton, capsys):
    iterates = newton.newton(newton.rosenbrock, [-1.2, 1.0])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(iterates)
    assert lines[0].split()[0] == "0"


def test_example_main_runs(newton, capsys):
    newton.main()
    out = capsys.readouterr().out
    assert "Rosenbrock" in out and "ln 2" in out


def test_solve_matches_hand_solved_system(newton):
    # 2x + y = 5, x + 3y = 10  ->  x = 1, y = 3
    assert newton._solve([[2.0, 1.0], [1.0, 3.0]], [5.0, 10.0]) == pytest.approx([1.0, 3.0])
