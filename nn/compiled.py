"""fit(compile=True): a training step through autodiff.compile instead of the eager graph.

The objective stays the one eager ``fit`` optimises, ``loss([model(x) for x in
batch], targets)``. When that loss is the mean (or the sum) of the same loss on
single samples, as hinge + L2 (a mean) or the quadratic cost (a sum) are, the
step is compiled per sample with ``batch="mean"`` (``"sum"``), on numpy when it
is installed, else on the Python backend; any other loss gets one whole-batch tape
for the Python backend (one per batch size). A loss that cannot be traced (it
branches on its outputs, or takes class indices) trains eagerly; ``path`` says
which path was taken.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import autodiff
from autodiff import TraceError, Value, no_grad


def _numpy_available() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


class CompiledStep:
    """``step(X, y)`` adds d loss / d p to every parameter's grad and returns the loss."""

    def __init__(self, model: Callable[[Any], Any], loss: Callable[..., Value], X: Any, y: Any):
        self.model = model
        self.loss = loss
        self.params = list(model.parameters())  # type: ignore[attr-defined]
        self.mode = _decomposition(model, loss, X, y)
        self.backend = "numpy" if self.mode and _numpy_available() else "python"
        self._steps: dict[int, Any] = {}
        self.path = f"compiled ({self.backend} backend)"

    def _per_sample(self, x: Any, t: Any) -> Value:
        return self.loss([self.model(x)], [t])

    def _whole(self, xs: Any, ts: Any) -> Value:
        return self.loss([self.model(x) for x in xs], list(ts))

    def __call__(self, X: list[Any], y: list[Any]) -> float:
        if self.mode is not None:
            key = 0
            make = lambda: autodiff.compile(  # noqa: E731
                self._per_sample, params=self.params, batch=self.mode, backend=self.backend
            )
        else:
            key = len(X)  # a whole-batch tape has the batch's size built in
            make = lambda: autodiff.compile(self._whole, params=self.params)  # noqa: E731
        if key not in self._steps:
            self._steps[key] = make()
        return self._steps[key](X, y)


def _decomposition(model: Any, loss: Callable[..., Value], X: Any, y: Any) -> str | None:
    """ "mean" or "sum" if loss(batch) is the mean or sum of loss(sample) on a few samples.

    Samples whose loss is 0 tell a mean from a sum, or from a max, no better than none: at
    least two must have a loss other than 0, or the answer is None (the whole-batch tape,
    exact for any loss)."""
    k = min(len(X), 8)
    if k < 2:
        return None
    with no_grad():
        outputs = [model(x) for x in X[:k]]
        whole = loss(outputs, list(y[:k])).data
        singles = [loss([o], [t]).data for o, t in zip(outputs, y[:k], strict=True)]
    if sum(1 for s in singles if s != 0.0) < 2:
        return None
    total = math.fsum(singles)
    scale = max(1e-300, abs(whole), *(abs(s) for s in singles))
    for mode, value in (("mean", total / k), ("sum", total)):
        if abs(whole - value) <= 1e-12 * scale:
            return mode
    return None


def try_compile(model: Any, loss: Callable[..., Value], X: Any, y: Any) -> CompiledStep | None:
    """A CompiledStep whose first call succeeded on the first batch, or None (train eagerly)."""
    if not hasattr(model, "parameters"):
        return None
    step = CompiledStep(model, loss, X, y)
    before = [p.grad for p in step.params]
    try:
        step(list(X[:2]), list(y[:2]))  # trace now: a loss that cannot be traced says so here
    except (TraceError, TypeError, ValueError):
        return None
    finally:
        for p, g in zip(step.params, before, strict=True):
            p.grad = g
    step._steps.pop(2, None)  # a whole-batch tape for 2 samples is not needed again
    return step
