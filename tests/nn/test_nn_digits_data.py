"""nn.data.load_digits: the 1,797 8x8 digits shipped inside the package."""

from pathlib import Path

import pytest

from nn.data import DIGITS_FILE, load_digits

# Digits per class in the UCI test set (optdigits.tes), as its documentation lists them
# and as counted in scikit-learn's copy.
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_shape_and_types(digits):
    X, y = digits
    assert len(X) == len(y) == 1797 == sum(CLASS_COUNTS)
    assert all(len(x) == 64 and all(type(p) is float for p in x) for x in X)
    assert all(type(t) is int for t in y)


def test_pixels_are_counts_of_sixteen_scaled_to_the_unit_interval(digits):
    X, _ = digits
    pixels = {p for x in X for p in x}
    assert pixels == {c / 16 for c in range(17)}  # every count 0..16 occurs


def test_class_counts(digits):
    _, y = digits
    assert [y.count(k) for k in range(10)] == CLASS_COUNTS


def test_first_image_is_the_well_known_zero(digits):
    X, y = digits
    assert y[:10] == list(range(10))  # the set opens with one of each digit, in order
    # the first row of the first image, as printed in scikit-learn's documentation
    assert [16 * p for p in X[0][:8]] == [0, 0, 5, 13, 9, 1, 0, 0]


def test_equals_scikit_learn_exactly(digits):
    sklearn_datasets = pytest.importorskip(
        "sklearn.datasets", reason="scikit-learn not installed: the exact comparison needs it"
    )
    X, y = digits
    theirs = sklearn_datasets.load_digits()
    assert (theirs.data / 16.0).tolist() == X
    assert theirs.target.tolist() == y


def test_each_call_returns_fresh_lists(digits):
    X, y = load_digits()
    X[0][0] = 99.0
    y[0] = 7
    assert load_digits()[0][0][0] == 0.0 and load_digits()[1][0] == 0


def test_the_data_file_ships_in_the_wheel():
    root = Path(__file__).resolve().parents[2]
    config = (root / "pyproject.toml").read_text()  # (tomllib is Python 3.11+)
    package_data = config.split("[tool.setuptools.package-data]")[1].split("\n[")[0]
    assert f'"{DIGITS_FILE}"' in package_data and '"DIGITS_LICENSE.txt"' in package_data
    assert (root / "nn" / DIGITS_FILE).stat().st_size < 100_000
