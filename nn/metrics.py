"""What a trained classifier predicts, and how often it is right.

Rule. A model with one output predicts the positive class when its output is above
``threshold``, and a label is positive when it is > 0, so both label conventions
work: -1/+1 (hinge) and 0/1 (cross-entropy). ``threshold=None`` picks 0.5 for a
model whose output activation is "sigmoid" (a probability) and 0 for everything
else (scores and logits). A model with several outputs predicts the index of the
largest; its label is a class index (or a one-hot list).

The forward passes record no graph. For 64 samples or more (or once a model has been
compiled) they run compiled (``nn.forward``): traced once, replayed for every sample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from autodiff import Value, no_grad
from nn.forward import is_cached, outputs_or_none

Model = Callable[[Any], Any]
# From this many samples on, tracing the model once costs less than running it eagerly.
COMPILE_FROM = 64


def outputs(model: Model, X: Sequence[Any], compiled: bool | None = None) -> list[Any]:
    """The model's output for every sample as floats: a float per sample for one
    output, a list of floats for several.

    ``compiled``: True runs the compiled forward pass when the model compiles, False
    never does; None (the default) does for ``COMPILE_FROM`` samples or more, or when
    the model was compiled before. Either way the eager pass is the fallback."""
    if compiled or (compiled is None and (len(X) >= COMPILE_FROM or is_cached(model))):
        found = outputs_or_none(model, X)
        if found is not None:
            return found
    with no_grad():
        return [_floats(model(row_values(x))) for x in X]


def predict(model: Model, X: Sequence[Any], threshold: float | None = None) -> list[int]:
    """The predicted class of every sample (see the module for the rule)."""
    if threshold is None:
        threshold = default_threshold(model)
    return [_predicted_class(out, threshold) for out in outputs(model, X)]


def accuracy(
    model: Model, X: Sequence[Any], y: Sequence[Any], threshold: float | None = None
) -> float:
    """Fraction of samples classified right (see the module for the rule)."""
    n = _check_data(X, y, "accuracy")
    if threshold is None:
        threshold = default_threshold(model)
    return _count_correct(outputs(model, X), list(y), threshold) / n


def confusion_matrix(
    model: Model, X: Sequence[Any], y: Sequence[int], classes: int | None = None
) -> list[list[int]]:
    """``m[t][p]``: how many samples of true class t the model predicts as p.

    For class-index labels; ``classes`` defaults to 1 + the largest label or prediction.
    The diagonal holds the right answers: ``sum(m[k][k]) / len(X)`` is the accuracy."""
    _check_data(X, y, "confusion_matrix")
    for label in y:
        if isinstance(label, bool) or not isinstance(label, int) or label < 0:
            raise ValueError(f"confusion_matrix expected class indices >= 0, got {label!r}")
    predicted = predict(model, X)
    if classes is None:
        classes = 1 + max(*y, *predicted)
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ValueError(f"classes expected a positive int, got {classes!r}")
    for kind, labels in (("true label", y), ("prediction", predicted)):
        for i, label in enumerate(labels):
            if label >= classes:
                raise ValueError(
                    f"confusion_matrix: {kind} {label} of sample {i} is not below classes={classes}"
                )
    matrix = [[0] * classes for _ in range(classes)]
    for t, p in zip(y, predicted, strict=True):
        matrix[t][p] += 1
    return matrix


def default_threshold(model: object) -> float:
    """0.5 when the model's output activation is "sigmoid", else 0.0."""
    act = getattr(model, "output_activation", getattr(model, "activation", None))
    return 0.5 if act == "sigmoid" else 0.0


def _count_correct(outputs: list[Any], targets: list[Any], threshold: float) -> int:
    return sum(
        _predicted_class(out, threshold) == _label_class(out, label)
        for out, label in zip(outputs, targets, strict=True)
    )


def _count_correct_floats(outputs: list[Any], targets: list[Any], threshold: float) -> int:
    """_count_correct for outputs that are floats (a compiled forward's): no unwrapping."""
    if outputs and isinstance(outputs[0], list):
        return sum(
            max(range(len(out)), key=out.__getitem__) == _label_class(out, label)
            for out, label in zip(outputs, targets, strict=True)
        )
    return _count_correct(outputs, targets, threshold)


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


def _floats(out: Any) -> Any:
    if isinstance(out, (list, tuple)):
        return [_data(o) for o in out]
    return _data(out)


def row_values(row: Any) -> Any:
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
