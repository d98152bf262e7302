"""Data sets: toy 2-D ones made by seed, and the 8x8 handwritten digits shipped inside.

The toy sets each return ``(X, y)``: X a list of ``[x1, x2]`` float pairs, y a list of
labels 0 or 1 (for hinge loss use ``[2 * t - 1 for t in y]``). The same ``seed`` always
gives the same points; ``seed=None`` draws fresh ones. Samples come shuffled.

``load_digits()`` returns the 1,797 images of the UCI handwritten digits test set (the
copy scikit-learn ships), read from a small file inside this package: no network needed.
"""

from __future__ import annotations

import gzip
import math
import random
from collections.abc import Sequence
from importlib import resources
from numbers import Real
from typing import TypeVar

Points = list[list[float]]
T = TypeVar("T")
U = TypeVar("U")


def make_moons(
    n_samples: int = 100, noise: float = 0.0, seed: int | None = None
) -> tuple[Points, list[int]]:
    """Two interleaving half circles.

    Class 0: (cos a, sin a) for a evenly spaced in [0, pi] (n_samples // 2 points);
    class 1: (1 - cos a, 0.5 - sin a) for the rest. Gaussian noise of standard
    deviation ``noise`` is added to every coordinate.
    """
    _check_count(n_samples)
    _check_noise(noise)
    rng = random.Random(seed)
    n_upper = n_samples // 2
    points = [([math.cos(a), math.sin(a)], 0) for a in _angles(n_upper, math.pi, True)]
    points += [
        ([1.0 - math.cos(a), 0.5 - math.sin(a)], 1)
        for a in _angles(n_samples - n_upper, math.pi, True)
    ]
    return _finish(points, noise, rng)


def make_circles(
    n_samples: int = 100, noise: float = 0.0, factor: float = 0.5, seed: int | None = None
) -> tuple[Points, list[int]]:
    """A circle of radius ``factor`` (class 1) inside the unit circle (class 0).

    Points are evenly spaced around each circle, n_samples // 2 on the outer one,
    then noise of standard deviation ``noise`` is added to every coordinate.
    """
    _check_count(n_samples)
    _check_noise(noise)
    if isinstance(factor, bool) or not isinstance(factor, Real) or not 0.0 < factor < 1.0:
        raise ValueError(f"factor expected a number in (0, 1), got {factor!r}")
    rng = random.Random(seed)
    n_outer = n_samples // 2
    points = [([math.cos(a), math.sin(a)], 0) for a in _angles(n_outer, 2 * math.pi, False)]
    points += [
        ([factor * math.cos(a), factor * math.sin(a)], 1)
        for a in _angles(n_samples - n_outer, 2 * math.pi, False)
    ]
    return _finish(points, noise, rng)


def make_xor(
    n_samples: int = 100, noise: float = 0.0, seed: int | None = None
) -> tuple[Points, list[int]]:
    """Points uniform in the square [-1, 1]^2, class 1 where x1 and x2 differ in sign.

    The label is taken before noise of standard deviation ``noise`` is added.
    """
    _check_count(n_samples)
    _check_noise(noise)
    rng = random.Random(seed)
    points = []
    for _ in range(n_samples):
        x1, x2 = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        points.append(([x1, x2], int((x1 > 0.0) != (x2 > 0.0))))
    return _finish(points, noise, rng)


DIGITS_FILE = "digits.u8.gz"  # beside this module; credit and format in DIGITS_LICENSE.txt
_DIGITS_COUNT, _PIXELS = 1797, 64


def load_digits() -> tuple[Points, list[int]]:
    """The 1,797 8x8 handwritten digits: ``(X, y)`` in the data set's own order.

    Each X row is the image's 64 pixels row by row, scaled to [0, 1]: a pixel is the
    count c of "on" pixels in a 4x4 block of the original 32x32 bitmap (0-16), given
    as c / 16. y holds the digits 0-9. Source: "Optical Recognition of Handwritten
    Digits" (E. Alpaydin, C. Kaynak, UCI Machine Learning Repository, 1998), test set,
    CC BY 4.0; the same numbers as scikit-learn's ``load_digits()`` (its ``data / 16``).
    """
    blob = gzip.decompress(resources.files("nn").joinpath(DIGITS_FILE).read_bytes())
    size = _PIXELS + 1
    if len(blob) != _DIGITS_COUNT * size:
        raise ValueError(
            f"{DIGITS_FILE} is damaged: {len(blob)} bytes, expected {_DIGITS_COUNT * size}"
        )
    X = [[c / 16.0 for c in blob[i : i + _PIXELS]] for i in range(0, len(blob), size)]
    y = list(blob[_PIXELS::size])
    return X, y


def train_test_split(
    X: Sequence[T],
    y: Sequence[U],
    test_size: float | int = 0.25,
    seed: int | None = None,
    shuffle: bool = True,
) -> tuple[list[T], list[T], list[U], list[U]]:
    """Split into ``(X_train, X_test, y_train, y_test)``.

    ``test_size`` is a fraction in (0, 1) (the test part has ceil(test_size * n)
    samples) or a count. Without ``shuffle`` the test part is the last samples.
    """
    if len(X) != len(y):
        raise ValueError(f"train_test_split: {len(X)} samples in X but {len(y)} labels in y")
    n = len(X)
    if isinstance(test_size, bool) or not isinstance(test_size, Real):
        raise TypeError(f"test_size expected a fraction or a count, got {test_size!r}")
    if isinstance(test_size, int):
        n_test = test_size
    elif 0.0 < test_size < 1.0:
        n_test = math.ceil(test_size * n)
    else:
        raise ValueError(f"test_size expected a fraction in (0, 1) or a count, got {test_size!r}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"train_test_split: a test part of {n_test} of {n} samples leaves a part empty"
        )
    order = list(range(n))
    if shuffle:
        random.Random(seed).shuffle(order)
    train, test = order[: n - n_test], order[n - n_test :]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


def _angles(n: int, end: float, include_end: bool) -> list[float]:
    """n angles evenly spaced from 0 to ``end``."""
    if n == 1:
        return [0.0]
    steps = n - 1 if include_end else n
    return [end * i / steps for i in range(n)]


def _finish(
    points: list[tuple[list[float], int]], noise: float, rng: random.Random
) -> tuple[Points, list[int]]:
    if noise:
        for x, _ in points:
            x[0] += rng.gauss(0.0, noise)
            x[1] += rng.gauss(0.0, noise)
    rng.shuffle(points)
    return [x for x, _ in points], [label for _, label in points]


def _check_count(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n_samples expected a positive int, got {n!r}")


def _check_noise(noise: object) -> None:
    if isinstance(noise, bool) or not isinstance(noise, Real) or not 0.0 <= noise < math.inf:
        raise ValueError(f"noise expected a finite number >= 0, got {noise!r}")
