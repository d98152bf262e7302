"""Toy data sets: shape, geometry, labels and reproducibility by seed."""

import math

import pytest

from nn import make_circles, make_moons, make_xor, train_test_split

MAKERS = [make_moons, make_circles, make_xor]


@pytest.mark.parametrize("make", MAKERS)
def test_same_seed_same_data_other_seed_other_data(make):
    assert make(50, noise=0.1, seed=3) == make(50, noise=0.1, seed=3)
    assert make(50, noise=0.1, seed=3) != make(50, noise=0.1, seed=4)


@pytest.mark.parametrize("make", MAKERS)
def test_shapes_and_labels(make):
    X, y = make(41, noise=0.05, seed=0)
    assert len(X) == len(y) == 41
    assert all(len(x) == 2 and all(isinstance(c, float) for c in x) for x in X)
    assert set(y) == {0, 1}


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = make_moons(31, seed=1)
    assert y.count(0) == 15 and y.count(1) == 16
    for (a, b), label in zip(X, y, strict=True):
        if label == 0:  # upper: unit circle around (0, 0), y >= 0
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:  # lower: unit circle around (1, 0.5), y <= 0.5
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12
    assert [0.0, 0.5] in [[round(a, 12), round(b, 12)] for a, b in X]  # lower moon's first point


def test_circles_without_noise_have_radius_one_and_factor():
    X, y = make_circles(20, factor=0.3, seed=2)
    for (a, b), label in zip(X, y, strict=True):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.3)


def test_xor_label_is_whether_the_signs_differ():
    X, y = make_xor(100, seed=5)
    assert all(-1.0 <= c <= 1.0 for x in X for c in x)
    assert y == [int((a > 0) != (b > 0)) for a, b in X]


def test_noise_moves_points_off_the_curves():
    clean, _ = make_moons(30, seed=0)
    noisy, _ = make_moons(30, noise=0.2, seed=0)
    assert sorted(map(tuple, clean)) != sorted(map(tuple, noisy))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_moons(0), "n_samples expected a positive int, got 0"),
        (lambda: make_moons(10, noise=-0.1), "noise expected a finite number >= 0"),
        (lambda: make_circles(10, factor=1.5), r"factor expected a number in \(0, 1\)"),
    ],
)
def test_bad_arguments_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_train_test_split_partitions_the_samples_reproducibly():
    X = [[float(i), 0.0] for i in range(20)]
    y = list(range(20))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=1)
    assert len(X_test) == 5 and len(X_train) == 15
    assert sorted(y_train + y_test) == y
    assert all(x[0] == t for x, t in zip(X_train + X_test, y_train + y_test, strict=True))
    assert train_test_split(X, y, test_size=0.25, seed=1) == (X_train, X_test, y_train, y_test)
    assert train_test_split(X, y, test_size=0.25, seed=2)[3] != y_test


def test_train_test_split_count_and_no_shuffle():
    X_train, X_test, y_train, y_test = train_test_split(
        list("abcde"), [1, 2, 3, 4, 5], 2, shuffle=False
    )
    assert (X_train, X_test, y_train, y_test) == (["a", "b", "c"], ["d", "e"], [1, 2, 3], [4, 5])


@pytest.mark.parametrize(
    "args, message",
    [
        (([1, 2], [1]), "2 samples in X but 1 labels"),
        (([1, 2, 3], [1, 2, 3], 1.5), "fraction in \\(0, 1\\) or a count"),
        (([1, 2, 3], [1, 2, 3], 3), "leaves a part empty"),
    ],
)
def test_train_test_split_errors(args, message):
    with pytest.raises(ValueError, match=message):
        train_test_split(*args)
