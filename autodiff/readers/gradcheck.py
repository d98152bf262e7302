"""Gradient checking: backward's gradients against central differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from autodiff.core.engine import gradients
from autodiff.core.value import Value, _to_float


class GradcheckError(AssertionError):
    """Raised by gradcheck when an analytic gradient disagrees with the numeric one."""


def numeric_gradient(
    f: Callable[..., Value | float], xs: Sequence[float], i: int, eps: float = 1e-6
) -> float:
    """Central difference  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)."""
    up = list(xs)
    down = list(xs)
    up[i] += eps
    down[i] -= eps
    return (_evaluate(f, up) - _evaluate(f, down)) / (2.0 * eps)


def gradcheck(
    f: Callable[..., Value | float],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check backward's gradients of a scalar function ``f`` at ``inputs``.

    ``f`` takes one Value per input and returns a Value. For each input i the
    analytic d f/d x_i (from the rule table) must satisfy
    ``|analytic - numeric| <= atol + rtol * |numeric|``, where numeric is the
    central difference with step ``eps``. Returns True when all agree; otherwise
    raises GradcheckError listing every input's two gradients (or returns False
    with ``raise_exception=False``).
    """
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise TypeError(
            f"gradcheck() inputs should be a list of numbers, got {type(inputs).__name__}"
        )
    xs = [_to_float(x, f"gradcheck input #{i}") for i, x in enumerate(inputs)]
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    analytic = gradients(out, leaves)
    rows = []
    ok = True
    for i, a in enumerate(analytic):
        n = numeric_gradient(f, xs, i, eps)
        agree = abs(a - n) <= atol + rtol * abs(n)
        ok = ok and agree
        rows.append(
            f"  input #{i} = {xs[i]!r}: analytic {a!r}, numeric {n!r}"
            f"{'' if agree else '   <-- mismatch'}"
        )
    if ok:
        return True
    if raise_exception:
        raise GradcheckError(
            "gradcheck failed: backward disagrees with central differences\n" + "\n".join(rows)
        )
    return False


def _evaluate(f: Callable[..., Value | float], xs: Sequence[float]) -> float:
    out = f(*[Value(x) for x in xs])
    return out.data if isinstance(out, Value) else float(out)
