"""Float math that follows IEEE-754 and never raises.

Python's ``math`` module and ``/`` raise on the edges of their domains
(``math.log(0)``, ``1 / 0``, ``math.exp(1000)``). A training loop must not
crash there, so every function here returns what IEEE-754 (and PyTorch) give:
``log(0) = -inf``, ``log(-1) = nan``, ``1 / 0 = inf``, ``exp(1000) = inf``.
"""

from __future__ import annotations

import math

inf = math.inf
nan = math.nan


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == int(y) and int(y) % 2 == 1


def div(a: float, b: float) -> float:
    """a / b, with a / ±0 = ±inf (sign of a times sign of b) and 0 / 0 = nan."""
    if b != 0.0:
        return a / b
    if a == 0.0 or math.isnan(a) or math.isnan(b):
        return nan
    return math.copysign(1.0, a) * math.copysign(1.0, b) * inf


def power(a: float, b: float) -> float:
    """a ** b as C's pow(): 0 ** -1 = inf, (-8) ** 0.5 = nan, overflow = ±inf."""
    try:
        return math.pow(a, b)
    except OverflowError:
        return -inf if a < 0 and _is_odd_integer(b) else inf
    except ValueError:
        if a == 0.0:  # zero to a negative power: a pole
            return math.copysign(inf, a) if _is_odd_integer(b) else inf
        return nan  # negative base, non-integer exponent


def exp(x: float) -> float:
    """e ** x; inf when it overflows."""
    try:
        return math.exp(x)
    except OverflowError:
        return inf


def log(x: float) -> float:
    """Natural log: log(0) = -inf, log(x < 0) = nan."""
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -inf
    return nan


def sqrt(x: float) -> float:
    """Square root: sqrt(x < 0) = nan."""
    return math.sqrt(x) if x >= 0.0 else nan


def sin(x: float) -> float:
    """sin(x); nan for ±inf."""
    return math.sin(x) if math.isfinite(x) else nan


def cos(x: float) -> float:
    """cos(x); nan for ±inf."""
    return math.cos(x) if math.isfinite(x) else nan


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x), written so that neither branch can overflow.

    For x < 0 it uses the equal form e^x / (1 + e^x): sigmoid(-1000) = 0.0, not an
    overflow, and sigmoid(1000) = 1.0.
    """
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    if x < 0.0:
        e = math.exp(x)
        return e / (1.0 + e)
    return nan


def logaddexp(a: float, b: float) -> float:
    """log(e^a + e^b), stably: max(a, b) + log1p(e^-|a - b|), so no e^ overflows.

    As PyTorch's logaddexp: equal infinities give themselves (inf, or -inf where
    a - b would be nan), inf with anything but nan gives inf, nan gives nan.
    """
    if math.isnan(a) or math.isnan(b):
        return nan
    if a == b:  # log(2 e^a) = a + log 2; also a = b = ±inf, where a - b is nan
        return a + math.log1p(1.0)
    return (a if a > b else b) + math.log1p(math.exp(-abs(a - b)))


def relu(x: float) -> float:
    """max(0, x) as PyTorch: nan stays nan and -0.0 stays -0.0 (only x < 0 becomes 0)."""
    return 0.0 if x < 0.0 else x


def sign(x: float) -> float:
    """-1, 0 or 1 (the derivative of abs); 0 at ±0 and at nan, as PyTorch's sgn."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return 0.0
