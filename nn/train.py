"""Training loop with a progress bar (fit) and classification accuracy.

Accuracy rule. A model with one output predicts the positive class when its output
is above ``threshold``, and a label is positive when it is > 0, so both label
conventions work: -1/+1 (hinge) and 0/1 (cross-entropy). ``threshold=None`` picks
0.5 for a model whose output activation is "sigmoid" (a probability) and 0 for
everything else (scores and logits). A model with several outputs predicts the
index of the largest; its label is a class index (or a one-hot list).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

from tqdm import tqdm

from autodiff import Value, no_grad
from nn.compiled import CompiledStep, try_compile
from nn.optim import Optimizer

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
    from 0). ``progress=False`` hides the tqdm bar. See the module for accuracy.
    ``compile=True`` takes each step through ``autodiff.compile`` (see
    ``nn.compiled``): the same objective, without building a graph per step;
    ``History.path`` says which path trained.
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
    compiled = try_compile(model, loss, X, y) if compile else None
    history.path = compiled.path if compiled is not None else "eager"
    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not progress)
    for epoch in bar:
        if lr_schedule is not None:
            optimizer.lr = _scheduled_lr(lr_schedule, epoch)
        order = list(range(n))
        if size < n:
            shuffler.shuffle(order)
        total_loss = 0.0
        correct = 0
        for start in range(0, n, size):
            batch = order[start : start + size]
            xs, ts = [X[i] for i in batch], [y[i] for i in batch]
            if compiled is None:
                batch_loss, batch_correct = _step(model, xs, ts, loss, optimizer, threshold)
            else:
                batch_loss, batch_correct = _compiled_step(
                    compiled, model, xs, ts, optimizer, threshold
                )
            total_loss += batch_loss * len(batch)
            correct += batch_correct
        history.loss.append(total_loss / n)
        history.train_accuracy.append(correct / n)
        shown = {"loss": f"{history.loss[-1]:.4f}", "acc": f"{correct / n:.3f}"}
        if validation is not None:
            history.test_accuracy.append(accuracy(model, *validation, threshold=threshold))
            shown["test_acc"] = f"{history.test_accuracy[-1]:.3f}"
        bar.set_postfix(shown)
    bar.close()
    return history


def _check_loss_accepts(model: Model, X: Sequence[Any], y: Sequence[Any], loss: Loss) -> None:
    """One forward pass over every sample, recording nothing: a bad target (a label the
    loss refuses, a wrong shape) fails here, before any parameter changes."""
    with no_grad():
        loss([model(x) for x in X], list(y))


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
    outputs = [model(_row_values(x)) for x in X]
    value = loss(outputs, y)
    if not isinstance(value, Value):
        raise TypeError(f"loss must return a Value, got {type(value).__name__}")
    optimizer.zero_grad()
    value.backward()
    optimizer.step()
    return value.data, _count_correct(outputs, y, threshold)


def _compiled_step(
    step: CompiledStep,
    model: Model,
    X: list[Any],
    y: list[Any],
    optimizer: Optimizer,
    threshold: float,
) -> tuple[float, int]:
    """_step through a compiled step; accuracy from a forward pass that records nothing."""
    with no_grad():
        correct = _count_correct([model(_row_values(x)) for x in X], y, threshold)
    optimizer.zero_grad()
    value = step(X, y)
    optimizer.step()
    return value, correct


def accuracy(
    model: Model, X: Sequence[Any], y: Sequence[Any], threshold: float | None = None
) -> float:
    """Fraction of samples classified right (see the module for the rule)."""
    n = _check_data(X, y, "accuracy")
    if threshold is None:
        threshold = default_threshold(model)
    with no_grad():
        outputs = [model(_row_values(x)) for x in X]
    return _count_correct(outputs, list(y), threshold) / n


def default_threshold(model: object) -> float:
    """0.5 when the model's output activation is "sigmoid", else 0.0."""
    act = getattr(model, "output_activation", getattr(model, "activation", None))
    return 0.5 if act == "sigmoid" else 0.0


def _count_correct(outputs: list[Any], targets: list[Any], threshold: float) -> int:
    return sum(
        _predicted_class(out, threshold) == _label_class(out, label)
        for out, label in zip(outputs, targets, strict=True)
    )


def _predicted_class(out: Any, threshold: float) -> int:
    """1 or 0 for one output (above threshold or not); the argmax for several."""
    if isinstance(out, (list, tuple)):
        return _argmax([_data(o) for o in out])
    return int(_data(out) > threshold)


def _label_class(out: Any, label: Any) -> int:
    if isinstance(out, (list, tuple)):
        if isinstance(label, (list, tuple)):
            return _argmax([_data(t) for t in label])
        return label
    return int(_data(label) > 0)


def _argmax(xs: list[float]) -> int:
    return max(range(len(xs)), key=xs.__getitem__)


def _data(x: Any) -> float:
    return x.data if isinstance(x, Value) else x


def _row_values(row: Any) -> Any:
    """A sample's inputs as Values, each wrapped once per forward pass."""
    if isinstance(row, (list, tuple)):
        return [v if isinstance(v, Value) else Value(v) for v in row]
    return row if isinstance(row, Value) else Value(row)


def _check_data(X: Any, y: Any, who: str) -> int:
    for name, seq in (("X", X), ("y", y)):
        if isinstance(seq, (str, bytes, Real, Value)) or not hasattr(seq, "__len__"):
            raise TypeError(f"{who}: {name} expected a list of samples, got {type(seq).__name__}")
    if len(X) != len(y):
        raise ValueError(f"{who}: {len(X)} samples in X but {len(y)} targets in y")
    if len(X) == 0:
        raise ValueError(f"{who}: no samples")
    return len(X)
