"""Central differences, written here independently of autodiff.readers.numeric_gradient.

The tests compare the engine's gradients with these numbers, so they must not come
from the code under test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def central_difference(f: Callable[..., float], xs: Sequence[float], i: int) -> float:
    """df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h), with h scaled to |x_i|.

    The error is about h^2 |f'''| / 6 plus rounding of order 1e-16 |f| / h.
    """
    h = 1e-6 * max(1.0, abs(xs[i]))
    up = list(xs)
    down = list(xs)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (up[i] - down[i])


def close(actual: float, expected: float, rel: float, abs_: float = 0.0) -> bool:
    """|actual - expected| <= abs_ + rel * |expected|."""
    return abs(actual - expected) <= abs_ + rel * abs(expected)
