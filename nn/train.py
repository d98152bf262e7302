"""The training loop, fit: batches, steps (eager or compiled), progress and History.

Accuracy is counted as ``nn.metrics`` says (the sign or threshold of one output, the
argmax of several).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

from autodiff import Value, no_grad
from nn import losses
from nn.compiled import ArraySteps, CompiledStep, try_compile
from nn.forward import compiled_forward, outputs_or_none
from nn.metrics import (
    _check_data,
    _count_correct,
    _count_correct_floats,
    accuracy,
    default_threshold,
    outputs,
    row_values,
)
from nn.optim import Optimizer
from nn.progress import EpochProgress

Model = Callable[[Any], Any]
Loss = Callable[[Any, Any], Value]


@dataclass
class History:
    """Per-epoch records of a ``fit`` run.

    ``loss``: the mean of the batch losses, weighted by batch size.
    ``train_accuracy``: measured on each batch's forward pass, before its update
    (as micrograd's demo and Keras do). ``test_accuracy``: on the validation set
    after the epoch (empty without one).
    """

    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    path: str = "eager"  # or "compiled (numpy backend)" / "compiled (python backend)"


def fit(
    model: Model,
    X: Sequence[Any],
    y: Sequence[Any],
    *,
    loss: Loss,
    optimizer: Optimizer,
    epochs: int = 100,
    batch_size: int | None = None,
    validation: tuple[Sequence[Any], Sequence[Any]] | None = None,
    progress: bool = True,
    lr_schedule: Callable[[int], float] | None = None,
    threshold: float | None = None,
    rng: random.Random | None = None,
    compile: bool = False,  # noqa: A002 - the name of autodiff.compile
) -> History:
    """Train ``model`` on inputs ``X`` and targets ``y``; returns the History.

    Each step: forward every sample of a batch, ``L = loss(outputs, targets)``,
    ``optimizer.zero_grad()``, ``L.backward()``, ``optimizer.step()``.
    ``batch_size=None`` uses the whole set (one step per epoch); otherwise the
    samples are shuffled each epoch with ``rng`` (Python's ``random`` if None).
    ``lr_schedule(epoch)`` sets ``optimizer.lr`` before each epoch (epochs count
    from 0). ``progress=False`` hides the progress report (a tqdm.auto bar in a
    terminal or notebook, one line per epoch elsewhere; see ``nn.progress``). See
    the module for accuracy. ``compile=True`` takes each step through
    ``autodiff.compile`` (see ``nn.compiled``): the same objective, without building
    a graph per step; ``History.path`` says which path trained, and a step that
    cannot be compiled warns once with the reason and trains eagerly.
    """
    n = _check_data(X, y, "fit")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs expected an int >= 0, got {epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(f"batch_size expected a positive int or None, got {batch_size!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer expected an nn.optim optimizer, got {type(optimizer).__name__}")
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation expected a pair (X_test, y_test)")
        _check_data(validation[0], validation[1], "fit validation")
    if threshold is None:
        threshold = default_threshold(model)
    _check_loss_accepts(model, X, y, loss)
    size = n if batch_size is None else min(batch_size, n)
    shuffler: Any = random if rng is None else rng

    history = History()
    compiled = try_compile(model, loss, X, y, size) if compile else None
    history.path = compiled.path if compiled is not None else "eager"
    forward = compiled_forward(model) if compiled is not None else None  # for accuracy
    targets = compiled.encode(y) if compiled is not None else None  # once, not per batch
    arrays = None
    if compiled is not None:
        arrays = ArraySteps.or_none(compiled, forward, optimizer, X, y, targets, threshold)
    progress_report = EpochProgress(epochs, enabled=progress)
    try:
        for epoch in range(epochs):
            if lr_schedule is not None:
                optimizer.lr = _scheduled_lr(lr_schedule, epoch)
            order = list(range(n))
            if size < n:
                shuffler.shuffle(order)
            total_loss = 0.0
            correct = 0
            for start in range(0, n, size):
                batch = order[start : start + size]
                if arrays is not None:
                    batch_loss, batch_correct = arrays.step(batch)
                    total_loss += batch_loss * len(batch)
                    correct += batch_correct
                    continue
                xs, ts = [X[i] for i in batch], [y[i] for i in batch]
                if compiled is None:
                    batch_loss, batch_correct = _step(model, xs, ts, loss, optimizer, threshold)
                else:
                    encoded = [targets[i] for i in batch]  # type: ignore[index]
                    batch_loss, batch_correct = _compiled_step(
                        compiled, forward, model, xs, ts, encoded, optimizer, threshold
                    )
                total_loss += batch_loss * len(batch)
                correct += batch_correct
            if arrays is not None:
                arrays.write_back()  # the model as eager's would be after the epoch
            history.loss.append(total_loss / n)
            history.train_accuracy.append(correct / n)
            shown = {"loss": f"{history.loss[-1]:.4f}", "acc": f"{correct / n:.3f}"}
            if validation is not None:
                history.test_accuracy.append(accuracy(model, *validation, threshold=threshold))
                shown["test_acc"] = f"{history.test_accuracy[-1]:.3f}"
            progress_report.done(shown)
    finally:
        if arrays is not None:
            arrays.write_back()  # also when a step raised or Ctrl-C stopped the run
        progress_report.close()
    return history


def _check_loss_accepts(model: Model, X: Sequence[Any], y: Sequence[Any], loss: Loss) -> None:
    """The loss of every sample's output, recording nothing: a bad target (a label the
    loss refuses, a wrong shape) fails here, before any parameter changes. The outputs
    come from a forward pass (compiled for many samples) and enter the loss as Values."""
    with no_grad():
        found = [row_values(out) for out in outputs(model, X)]
        targets = list(y)
        rows = _one_per_kind(found, targets) if loss in _CHECKS_TARGETS_ONLY else None
        if rows is not None and len(rows) < len(targets):
            try:
                loss([found[i] for i in rows], [targets[i] for i in rows])
                return
            except (TypeError, ValueError):
                pass  # the whole set, below, fails with the failing sample's own index
        loss(found, targets)


# nn.losses' own losses, whose checks read only the targets and the outputs' shapes, never
# an output's value: one sample per (output shape, target) shows what the whole set would
# (1,347 digits: 10 evaluations of the loss instead of 1,347)
_CHECKS_TARGETS_ONLY = (losses.quadratic, losses.mse, losses.hinge, losses.binary_cross_entropy,
                        losses.cross_entropy)  # fmt: skip


def _one_per_kind(found: list[Any], targets: list[Any]) -> list[int] | None:
    """The first row of each (output shape, target type, target) kind, or None when a
    target cannot be compared that way (a list: then every row is checked)."""
    first: dict[Any, int] = {}
    for i, (out, t) in enumerate(zip(found, targets, strict=True)):
        key = (len(out) if isinstance(out, (list, tuple)) else None, type(t), t)
        try:
            first.setdefault(key, i)
        except TypeError:  # unhashable
            return None
    return sorted(first.values())


def _scheduled_lr(schedule: Callable[[int], float], epoch: int) -> float:
    lr = schedule(epoch)
    if isinstance(lr, bool) or not isinstance(lr, Real) or not (0 <= lr < math.inf):
        raise ValueError(f"lr_schedule({epoch}) expected a number >= 0, got {lr!r}")
    return float(lr)


def _step(
    model: Model, X: list[Any], y: list[Any], loss: Loss, optimizer: Optimizer, threshold: float
) -> tuple[float, int]:
    """One update on a batch; returns its loss and number right. The batch's graph
    is freed on return, before the next one is built."""
    outputs = [model(row_values(x)) for x in X]
    value = loss(outputs, y)
    if not isinstance(value, Value):
        raise TypeError(f"loss must return a Value, got {type(value).__name__}")
    optimizer.zero_grad()
    value.backward()
    optimizer.step()
    return value.data, _count_correct(outputs, y, threshold)


def _compiled_step(
    step: CompiledStep,
    forward: Any,
    model: Model,
    X: list[Any],
    y: list[Any],
    encoded: list[Any],
    optimizer: Optimizer,
    threshold: float,
) -> tuple[float, int]:
    """_step through a compiled step (``encoded``: y as ``step.encode`` gives it); accuracy
    from the compiled forward pass (nn.forward), or an eager one that records nothing if
    the model's forward does not compile."""
    found = None if forward is None else outputs_or_none(model, X, forward)
    if found is None:
        correct = _count_correct(outputs(model, X, compiled=False), y, threshold)
    else:
        correct = _count_correct_floats(found, y, threshold)
    optimizer.zero_grad()
    value = step.run_encoded(X, encoded)
    optimizer.step()
    return value, correct
