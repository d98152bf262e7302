"""fit(compile=True): a training step through autodiff.compile instead of the eager graph.

The objective stays the one eager ``fit`` optimises, ``loss([model(x) for x in
batch], targets)``. How it is compiled depends on what the loss declares
(``nn.losses.Reduction``), never on its numbers:

- a declared loss (every loss in ``nn.losses``) is the mean or the sum of a
  per-sample loss, so the step is that per-sample function compiled with
  ``batch="mean"`` (``"sum"``): one tape for any batch, on the numpy backend when
  numpy is installed (else, or for an op numpy cannot run, the Python backend). Its
  targets go in as data, encoded by the declaration (a class index as a one-hot list);
- an undeclared loss, e.g. ``hinge(...) + l2(...)`` written in a lambda, is traced
  whole: one tape per batch size, on the Python backend (bit-identical to eager).

A step that cannot be traced (the loss or model branches on a value, or takes class
indices as traced Values) warns once with the reason and trains eagerly; ``path``
says which path was taken.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import autodiff
from autodiff import TraceError, Value, no_grad
from nn.losses import reduction_of


def numpy_available() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


class CompiledStep:
    """``step(X, y)`` adds d loss / d p to every parameter's grad and returns the loss.

    ``width``: the model's number of outputs per sample (for encoding targets)."""

    def __init__(
        self,
        model: Callable[[Any], Any],
        loss: Callable[..., Value],
        width: int,
        backend: str | None = None,
    ) -> None:
        self.model = model
        self.loss = loss
        self.width = width
        self.params = list(model.parameters())  # type: ignore[attr-defined]
        self.reduction = reduction_of(loss)
        if backend is None:
            backend = "numpy" if self.reduction is not None and numpy_available() else "python"
        self.backend = backend
        self._steps: dict[int | None, Any] = {}  # None: the per-sample step; else batch size
        self.path = f"compiled ({self.backend} backend)"

    def _per_sample(self, x: Any, t: Any) -> Value:
        assert self.reduction is not None
        return self.reduction.per_sample(self.model(x), t)

    def _whole(self, xs: Any, ts: Any) -> Value:
        return self.loss([self.model(x) for x in xs], list(ts))

    def __call__(self, X: list[Any], y: list[Any]) -> float:
        return self.run_encoded(X, self.encode(y))

    def encode(self, y: Sequence[Any]) -> list[Any]:
        """The targets as the step takes them (a declared loss's encoding, e.g. a class
        index as a one-hot list); fit encodes a data set once, not every batch."""
        if self.reduction is None:
            return list(y)
        encode, width = self.reduction.encode_target, self.width
        return [encode(t, width) for t in y]

    @property
    def per_sample_step(self) -> Any:
        """The compiled per-sample step (an ``autodiff.compile`` step), once traced; None
        for an undeclared loss (traced whole, per batch size)."""
        return self._steps.get(None) if self.reduction is not None else None

    def probe(self, X: list[Any], y: list[Any]) -> None:
        """Trace and build the step on a few samples; parameters and gradients are left as
        they are. On numpy the program built is the one fit's array steps run
        (``value_and_grad``), so the one on Values is never built unless it is used."""
        xs = numbers_array(X) if self.reduction is not None and self.backend == "numpy" else None
        if xs is None:
            self(X, y)
            return
        import numpy as np

        step = self._per_sample_step()
        step.value_and_grad(xs, np.array(self.encode(y), dtype=float))

    def _per_sample_step(self) -> Any:
        assert self.reduction is not None
        if None not in self._steps:
            self._steps[None] = autodiff.compile(
                self._per_sample,
                params=self.params,
                batch=self.reduction.over,
                backend=self.backend,
            )
        return self._steps[None]

    def run_encoded(self, X: list[Any], targets: list[Any]) -> float:
        """``step(X, y)`` with targets already encoded by ``encode``."""
        if self.reduction is not None:
            return self._per_sample_step()(X, targets)
        size = len(X)  # a whole-batch tape has the batch's size built in
        if size not in self._steps:
            self._steps[size] = autodiff.compile(self._whole, params=self.params)
        return self._steps[size](X, targets)


class ArraySteps:
    """fit's compiled steps with the parameters in one float64 array for the whole run.

    A step through Values moves every parameter attribute by attribute several times
    (the replay reads ``.data`` and writes ``.grad``, the optimiser reads both and writes
    ``.data``, ``zero_grad`` clears ``.grad``): for 2,410 parameters most of a step. Here
    the compiled step takes and returns arrays (``value_and_grad``), the optimiser
    updates the array (``optimizer.moved``) and the Values get the array back by
    ``write_back``: after every epoch and when the run ends or stops. The floats are
    the ones the Values path gives: the same generated code, the same update."""

    def __init__(self, step: Any, forward: Any, optimizer: Any, X: Any, y: Any, targets: Any,
                 threshold: float) -> None:  # fmt: skip
        import numpy as np

        self.step_fn, self.forward, self.optimizer = step, forward, optimizer
        self.X = X
        self.targets = targets
        self.y, self.threshold = list(y), threshold
        self.params = step.parameters
        self.theta = np.array([p.data for p in self.params], dtype=float)
        self.grads: Any = None  # the last step's, written to .grad with the data
        self.classes: Any = None  # each sample's class, for several outputs (see _correct)
        self._np = np

    @classmethod
    def or_none(cls, compiled: CompiledStep, forward: Any, optimizer: Any, X: Any, y: Any,
                targets: Any, threshold: float) -> ArraySteps | None:  # fmt: skip
        """ArraySteps when the step compiled per sample on numpy, the model's forward pass
        compiled on numpy over the same parameters, the optimiser has an array form
        (``nn.optim.has_array_form``) and every input is a plain number; else None (then
        fit steps through the Values, with the same results, slower)."""
        from nn.optim import has_array_form

        step = compiled.per_sample_step
        if step is None or step.backend != "numpy" or not has_array_form(optimizer):
            return None
        if forward is None or forward.backend != "numpy" or forward.tape is None:
            return None
        params = step.parameters
        if forward.parameters != params or optimizer.params != params:
            return None  # not the same parameters, in the same order, throughout
        X = numbers_array(X)
        if X is None:
            return None
        import numpy as np

        return cls(step, forward, optimizer, X, y, np.array(targets, dtype=float), threshold)

    def step(self, batch: list[int]) -> tuple[float, int]:
        """One update on the samples ``batch`` (indices); its loss and number right."""
        from nn.metrics import _count_correct_floats

        xs, ts = self.X[batch], self.targets[batch]
        found = self.forward.outputs(xs, theta=self.theta)  # before the update
        correct = self._correct(found, batch)
        if correct is None:
            labels = [self.y[i] for i in batch]
            correct = _count_correct_floats(found.tolist(), labels, self.threshold)
        loss, self.grads = self.step_fn.value_and_grad(xs, ts, theta=self.theta)
        self.theta = self.optimizer.moved(self.theta, self.grads)
        return loss, correct

    def _correct(self, found: Any, batch: list[int]) -> int | None:
        """How many of a batch of several outputs each ``nn.metrics`` counts right (the
        argmax is the label's class), on the array; None where the count is left to
        nn.metrics: one output, or an output that is nan or infinite (where numpy's argmax
        and Python's max disagree on which one is largest)."""
        np = self._np
        if found.ndim != 2 or not np.isfinite(found).all():
            return None
        if self.classes is None:
            from nn.metrics import _label_class

            row = found[0].tolist()
            self.classes = np.array([_label_class(row, label) for label in self.y])
        return int((found.argmax(1) == self.classes[batch]).sum())

    def write_back(self) -> None:
        """Each parameter's ``.data`` from the array, and its ``.grad`` from the last step
        (as ``step()`` leaves them)."""
        for p, d in zip(self.params, self.theta.tolist(), strict=True):
            p.data = d
        if self.grads is not None:
            for p, g in zip(self.params, self.grads.tolist(), strict=True):
                p.grad = g


def numbers_array(X: Any) -> Any:
    """X as a float64 array when every sample is a number or a flat list of numbers (not
    bools, Values or text); else None."""
    import numpy as np

    rows = list(X)
    if rows and all(isinstance(x, (list, tuple)) for x in rows):
        leaves: Any = [v for x in rows for v in x]
        if len(set(map(len, rows))) != 1:
            return None
    else:
        leaves = rows
    if not set(map(type, leaves)) <= {float, int}:
        return None
    return np.array(rows, dtype=float)


def output_width(model: Callable[[Any], Any], x: Any) -> int:
    """How many outputs the model gives for one sample (1 for a single Value)."""
    with no_grad():
        out = model(_as_values(x))
    return len(out) if isinstance(out, (list, tuple)) else 1


def _as_values(x: Any) -> Any:
    """A sample's inputs as Values (a sample may hold Values already)."""
    if isinstance(x, (list, tuple)):
        return [v if isinstance(v, Value) else Value(v) for v in x]
    return x if isinstance(x, Value) else Value(x)


def try_compile(
    model: Any, loss: Callable[..., Value], X: Any, y: Any, size: int
) -> CompiledStep | None:
    """A CompiledStep that has traced on the first batch, or None after one warning that
    says why (then fit trains eagerly). Gradients are left as they were."""
    if not hasattr(model, "parameters"):
        _warn("the model has no parameters() to compile against")
        return None
    params = list(model.parameters())
    before = [p.grad for p in params]
    width = output_width(model, X[0])
    step = CompiledStep(model, loss, width)
    # the per-sample tape fits every batch: trace it on two samples; a whole-batch
    # tape is traced for the first batch's size, the one most steps take
    n = 2 if step.reduction is not None else size
    try:
        try:
            step.probe(list(X[:n]), list(y[:n]))
        except TraceError as error:  # numpy cannot run an op: the Python backend can
            if step.backend != "numpy" or type(error).__name__ != "NumpyUnsupported":
                raise
            step = CompiledStep(model, loss, width, backend="python")
            step.probe(list(X[:n]), list(y[:n]))
    except (TraceError, TypeError, ValueError) as error:
        reason = " ".join(str(error).split())
        if not isinstance(error, TraceError):  # the guard names the line itself
            reason += f" (at {_user_line(error)})"
        _warn(reason)
        return None
    finally:
        for p, g in zip(params, before, strict=True):
            p.grad = g
    return step


# the folders of autodiff and of nn (this file's): frames there are not the user's
_LIBRARY = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep for path in (autodiff.__file__, __file__)
)


def _user_line(error: BaseException) -> str:
    """``file:line`` of the innermost frame of the error outside autodiff and nn."""
    where = "<unknown>"
    for frame in traceback.extract_tb(error.__traceback__):
        if not os.path.abspath(frame.filename).startswith(_LIBRARY):
            where = f"{frame.filename}:{frame.lineno}"
    return where


def _warn(reason: str) -> None:
    # stacklevel 4: _warn, try_compile, fit, the user's call of fit
    warnings.warn(f"fit(compile=True) trains eagerly: {reason}", UserWarning, stacklevel=4)
