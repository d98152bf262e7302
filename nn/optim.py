"""Optimisers: turn each parameter's ``.grad`` into a change of its ``.data``.

Updates work on plain floats under ``autodiff.no_grad()``: a step adds nothing to
any graph. Set ``optimizer.lr`` between steps to follow a schedule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real
from typing import Any

from autodiff import Value, no_grad

try:  # updates on arrays (the `fast` extra): the same floats as the loops, faster
    import numpy as _np
except ImportError:  # pragma: no cover - depends on the environment
    _np = None

# From this many parameters on, SGD and Adam update on arrays: below it the loop is as fast.
ARRAYS_FROM = 256


class Optimizer:
    """Holds the parameters; ``zero_grad()`` clears their gradients, ``step()`` updates."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = _checked_params(params)
        self.lr = _non_negative(lr, "lr")

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its ``.grad``."""
        with no_grad():
            if _np is not None and len(self.params) >= ARRAYS_FROM:
                self._update_arrays(_grad_array(self.params))
            else:
                self._update(_grads(self.params))

    def _update(self, grads: list[float]) -> None:
        raise NotImplementedError

    def _update_arrays(self, grads: Any) -> None:
        """``_update`` on a float64 array of the gradients: the same floats, elementwise."""
        self._update(grads.tolist())

    def moved(self, data: Any, grads: Any) -> Any:
        """The parameters' values after one ``step()``, from float64 arrays of their values
        and gradients (in ``self.params`` order), as a new array; no Value is read or
        written, and the optimiser's state (its step count, momentum) advances as
        ``step()`` advances it. For a training loop that keeps the parameters in an
        array (``fit(compile=True)``); SGD and Adam have it (see ``has_array_form``)."""
        raise NotImplementedError(f"{type(self).__name__} has no array form of its step")

    def _write_data(self, data: Any) -> None:
        """Set each parameter's ``.data`` from a float64 array (one per parameter)."""
        for p, d in zip(self.params, data.tolist(), strict=True):
            p.data = d

    def _data_array(self) -> Any:
        assert _np is not None
        return _np.array([p.data for p in self.params], dtype=float)


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's form.

    g = grad + weight_decay * p;  v = momentum * v + g (v = g on the first step);
    p <- p - lr * v. With momentum 0 and weight_decay 0 this is exactly the
    article's eq 1, p <- p - lr * dC/dp.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _non_negative(momentum, "momentum")
        self.weight_decay = _non_negative(weight_decay, "weight_decay")
        self._velocity: Any = None  # a list, or an array on the array path

    def _update(self, grads: list[float]) -> None:
        if self.weight_decay:
            grads = [
                g + self.weight_decay * p.data for g, p in zip(grads, self.params, strict=True)
            ]
        if self.momentum:
            if self._velocity is None:
                self._velocity = list(grads)
            else:
                mu = self.momentum
                velocity = _as_list(self._velocity)  # a list again after the array path
                self._velocity = [mu * v + g for v, g in zip(velocity, grads, strict=True)]
            grads = self._velocity
        lr = self.lr
        for p, g in zip(self.params, grads, strict=True):
            p.data = p.data - lr * g

    def _update_arrays(self, grads: Any) -> None:
        self._write_data(self.moved(self._data_array(), grads))

    def moved(self, data: Any, grads: Any) -> Any:
        """The loop above on arrays: each element gets the same IEEE operations in the
        same order, so the same floats."""
        assert _np is not None
        if self.weight_decay:
            grads = grads + self.weight_decay * data
        if self.momentum:
            if self._velocity is None:
                self._velocity = grads.copy()
            else:
                self._velocity = self.momentum * _np.asarray(self._velocity, dtype=float) + grads
            grads = self._velocity
        return data - self.lr * grads


class Adam(Optimizer):
    """Adam (Kingma and Ba), PyTorch's form. At step t, for each parameter:

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas expected a pair (b1, b2), got {betas!r}")
        b1, b2 = (_non_negative(b, f"betas[{i}]") for i, b in enumerate(betas))
        if b1 >= 1.0 or b2 >= 1.0:
            raise ValueError(f"betas expected values in [0, 1), got {tuple(betas)!r}")
        self.betas = (b1, b2)
        self.eps = _non_negative(eps, "eps")
        self.t = 0
        self._m: Any = [0.0] * len(self.params)  # a list, or an array on the array path
        self._v: Any = [0.0] * len(self.params)

    def _corrections(self) -> tuple[float, float]:
        """Count the step; the bias corrections 1 - b1^t and 1 - b2^t."""
        b1, b2 = self.betas
        self.t += 1
        return 1.0 - b1**self.t, 1.0 - b2**self.t

    def _update(self, grads: list[float]) -> None:
        b1, b2 = self.betas
        correction1, correction2 = self._corrections()
        lr, eps = self.lr, self.eps
        m, v = _as_list(self._m), _as_list(self._v)  # lists again after the array path
        self._m, self._v = m, v
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            m[i] = b1 * m[i] + (1.0 - b1) * g
            v[i] = b2 * v[i] + (1.0 - b2) * (g * g)
            denominator = math.sqrt(v[i] / correction2) + eps
            # v = 0 means every gradient so far was 0, so m = 0 too: no move (eps may be 0)
            move = (m[i] / correction1) / denominator if denominator != 0.0 else 0.0
            p.data = p.data - lr * move

    def _update_arrays(self, grads: Any) -> None:
        self._write_data(self.moved(self._data_array(), grads))

    def moved(self, data: Any, g: Any) -> Any:
        """The loop above on arrays: each element gets the same IEEE operations in the
        same order (numpy's sqrt is correctly rounded, as math.sqrt), so the same floats."""
        np = _np
        assert np is not None
        b1, b2 = self.betas
        correction1, correction2 = self._corrections()
        m = b1 * np.asarray(self._m, dtype=float) + (1.0 - b1) * g
        v = b2 * np.asarray(self._v, dtype=float) + (1.0 - b2) * (g * g)
        self._m, self._v = m, v
        denominator = np.sqrt(v / correction2) + self.eps
        with np.errstate(all="ignore"):  # where it is 0 the loop moves by 0, as where() does
            move = np.where(denominator != 0.0, (m / correction1) / denominator, 0.0)
        return data - self.lr * move


def has_array_form(optimizer: Optimizer) -> bool:
    """Whether ``optimizer.moved`` makes the update its ``step()`` makes: the class that
    defines ``moved`` also defines the step it mirrors (a subclass that changes ``_update``
    or ``step`` but inherits ``moved`` would be trained by the wrong rule)."""
    cls = type(optimizer)
    owner = next(c for c in cls.__mro__ if "moved" in c.__dict__)
    mirrored = ("step", "_update", "_update_arrays", "zero_grad")
    return owner is not Optimizer and all(getattr(cls, m) is getattr(owner, m) for m in mirrored)


def _grads(params: list[Value]) -> list[float]:
    grads = [p.grad for p in params]
    if set(map(type, grads)) == {float}:  # the common case, without a call per parameter
        return grads
    return [_grad(p) for p in params]


def _as_list(xs: Any) -> list[float]:
    """Floats as a list (an array's as Python floats, not numpy scalars)."""
    return xs if isinstance(xs, list) else xs.tolist()


def _grad_array(params: list[Value]) -> Any:
    """The gradients as a float64 array, read in one pass (a Value's, after
    create_graph=True, by its data)."""
    assert _np is not None
    grads = [p.grad for p in params]
    try:
        return _np.array(grads, dtype=float)
    except TypeError:  # pragma: no cover - numpy converts a Value through __float__
        return _np.array(_grads(params), dtype=float)


def _grad(p: Value) -> float:
    g = p.grad
    return g.data if isinstance(g, Value) else float(g)  # a Value after create_graph=True


def _checked_params(params: Iterable[Value]) -> list[Value]:
    if isinstance(params, Value):
        raise TypeError("optimizer expected an iterable of parameters, got a single Value")
    if hasattr(params, "parameters") and callable(params.parameters):
        raise TypeError(
            f"optimizer expected parameters, got a {type(params).__name__}: pass model.parameters()"
        )
    params = list(params)
    if not params:
        raise ValueError("optimizer got an empty parameter list")
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"optimizer parameter #{i} expected a Value, got {type(p).__name__}")
        if id(p) in seen:
            raise ValueError(f"optimizer parameter #{i} appears more than once")
        seen.add(id(p))
    return params


def _non_negative(x: object, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(x) or x < 0:
        raise ValueError(f"{what} expected a finite number >= 0, got {x!r}")
    return float(x)
