"""Newton's method, with the second derivatives taken by autodiff.

Newton's method minimizes f by jumping to the minimum of its local quadratic
model at each step:

    1-D:  x  <-  x - f'(x) / f''(x)
    n-D:  x  <-  x - H(x)^-1 grad f(x)

Near a minimum with f'' > 0 (H positive definite) the error squares at every
step, so a handful of iterations reach full float precision. f' is grad(f),
f'' is grad(grad(f)) and H is hessian(f): reverse mode applied to its own output.

Run:  python examples/newton.py
"""

from __future__ import annotations

import math
from collections.abc import Callable

from autodiff import Value, grad, hessian


def bowl(x: Value) -> Value:
    """f(x) = e^x - 2x.  f'(x) = e^x - 2,  f''(x) = e^x > 0:  one minimum, at x = ln 2."""
    return x.exp() - 2.0 * x


def rosenbrock(x: Value, y: Value) -> Value:
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2: a curved valley, minimum 0 at (1, 1)."""
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def newton_1d(
    f: Callable[[Value], Value],
    x: float,
    tol: float = 1e-12,
    max_steps: int = 50,
    show: Callable[[str], None] = print,
) -> list[float]:
    """Minimize f from x by x <- x - f'(x)/f''(x); every iterate, first to last.

    Stops once |f'(x)| <= tol; raises if f'' vanishes or max_steps pass first.
    """
    df = grad(f)
    d2f = grad(df)
    iterates = [x]
    for step in range(max_steps + 1):
        slope, curvature = df(x), d2f(x)
        show(
            f"{step:3d}  x = {x:+.15f}   f(x) = {_at(f, [x]):+.15f}"
            f"   f'(x) = {slope:+.3e}   f''(x) = {curvature:.3e}"
        )
        if abs(slope) <= tol:
            return iterates
        if curvature == 0.0:
            raise ZeroDivisionError(f"f''({x!r}) = 0: the Newton step is undefined")
        x = x - slope / curvature
        iterates.append(x)
    raise RuntimeError(f"Newton's method did not converge in {max_steps} steps")


def newton(
    f: Callable[..., Value],
    point: list[float],
    tol: float = 1e-10,
    max_steps: int = 50,
    show: Callable[[str], None] = print,
) -> list[list[float]]:
    """Minimize f from point by x <- x - H(x)^-1 grad f(x); every iterate, first to last.

    Plain Newton: no line search, so f may rise on the way (it does on
    Rosenbrock) while the iterates still home in on a stationary point. Stops
    once every |df/dx_i| <= tol.
    """
    n = len(point)
    gradient = grad(f, argnums=tuple(range(n)))
    curvature = hessian(f)
    iterates = [list(point)]
    for step in range(max_steps + 1):
        g = list(gradient(*point))
        coords = ", ".join(f"{p:+.12f}" for p in point)
        show(
            f"{step:3d}  x = ({coords})   f(x) = {_at(f, point):.6e}"
            f"   |grad f| = {math.hypot(*g):.3e}"
        )
        if max(abs(gi) for gi in g) <= tol:
            return iterates
        step_ = _solve(curvature(*point), [-gi for gi in g])
        point = [p + d for p, d in zip(point, step_, strict=True)]
        iterates.append(point)
    raise RuntimeError(f"Newton's method did not converge in {max_steps} steps")


def _at(f: Callable[..., Value], xs: list[float]) -> float:
    return f(*[Value(x) for x in xs]).data


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """x with a x = b, by Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [list(row) + [bi] for row, bi in zip(a, b, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if m[pivot][col] == 0.0:
            raise ZeroDivisionError("the Hessian is singular: the Newton step is undefined")
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            factor = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= factor * m[col][c]
    x = [0.0] * n
    for r in reversed(range(n)):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def main() -> None:
    print("Newton's method on f(x) = e^x - 2x from x = 2 (minimum at ln 2):")
    x = newton_1d(bowl, 2.0)[-1]
    print(f"     x* = {x:.15f}, ln 2 = {math.log(2.0):.15f}\n")

    print("Newton's method on the Rosenbrock function from (-1.2, 1) (minimum at (1, 1)):")
    p = newton(rosenbrock, [-1.2, 1.0])[-1]
    print(f"     x* = ({p[0]:.15f}, {p[1]:.15f})")


if __name__ == "__main__":
    main()
