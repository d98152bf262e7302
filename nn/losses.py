"""Loss functions: a Value to call ``.backward()`` on.

Each is written with Value operations, so its derivative comes from the engine's
rule table, and none branches on a value: the log-losses use ``rules.LOGADDEXP``,
log(e^a + e^b) computed stably, so they trace and compile like any other function.

``outputs`` and ``targets`` are a single output and its target, or lists of the same
shape (nested lists for several outputs per sample). Reductions:

- ``quadratic``: sum  sum (y - t)^2  (the article's cost, no 1/2)
- ``mse``, ``hinge``, ``binary_cross_entropy``, ``cross_entropy``: mean over elements
  (samples for cross_entropy)
- ``l2(params, alpha)``: alpha * sum p^2, the weight penalty added to micrograd's demo
  loss, kept separate so any loss can use it.

Each batch loss declares how it reduces (``loss.reduction``, a ``Reduction``): the batch
loss is the mean (or the sum) over samples of ``per_sample(output, target)``, where the
target is given as numbers (``encode_target``: cross_entropy's class index becomes a
one-hot list, so a compiled step takes it as data). ``fit(compile=True)`` reads that
declaration; ``declare`` adds one to your own loss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, TypeVar

from autodiff import Value, rules
from autodiff.compiler import is_tracing

Scalar = Value | float
LossFunction = TypeVar("LossFunction", bound=Callable[..., Value])


def _as_is(target: Any, width: int) -> Any:
    return target


@dataclass(frozen=True)
class Reduction:
    """``loss(outputs, targets) = reduce_i per_sample(outputs[i], encode_target(targets[i], w))``
    with reduce the mean (``over="mean"``) or the sum (``"sum"``) over the samples i and w
    the number of outputs per sample. ``per_sample`` is the same math on one sample (up to
    the rounding of the reduction's order)."""

    over: str
    per_sample: Callable[[Any, Any], Value]
    encode_target: Callable[[Any, int], Any] = _as_is

    def __post_init__(self) -> None:
        if self.over not in ("mean", "sum"):
            raise ValueError(f"Reduction over expected 'mean' or 'sum', got {self.over!r}")
        if not callable(self.per_sample) or not callable(self.encode_target):
            raise TypeError("Reduction per_sample and encode_target must be callables")


def declare(
    over: str,
    per_sample: Callable[[Any, Any], Value],
    encode_target: Callable[[Any, int], Any] = _as_is,
) -> Callable[[LossFunction], LossFunction]:
    """Decorator: ``loss.reduction = Reduction(over, per_sample, encode_target)``.

    Declare only what is true: ``fit(compile=True)`` trains on the per-sample form, so a
    wrong declaration trains a different objective than eager ``fit``. Without one, fit
    compiles the exact whole-batch loss (slower: one tape per batch size)."""
    reduction = Reduction(over, per_sample, encode_target)

    def mark(loss: LossFunction) -> LossFunction:
        loss.reduction = reduction  # type: ignore[attr-defined]
        return loss

    return mark


def reduction_of(loss: object) -> Reduction | None:
    """The loss's declared Reduction, or None (an undeclared loss)."""
    found = getattr(loss, "reduction", None)
    return found if isinstance(found, Reduction) else None


def quadratic(outputs: Any, targets: Any) -> Value:
    """C = sum_j (y_j - t_j)^2, the article's quadratic cost (without the 1/2).

    dC/dy_j = 2 (y_j - t_j).
    """
    return _sum([(y - t) ** 2 for y, t in _pairs(outputs, targets, "quadratic")])


def mse(outputs: Any, targets: Any) -> Value:
    """Mean squared error: (1/n) sum_j (y_j - t_j)^2 over all n outputs."""
    pairs = _pairs(outputs, targets, "mse")
    return _sum([(y - t) ** 2 for y, t in pairs]) / len(pairs)


def hinge(scores: Any, labels: Any) -> Value:
    """Max-margin loss, the mean of micrograd's demo: (1/n) sum_j max(0, 1 - t_j y_j).

    Labels are -1 or +1; the loss is 0 for a sample scored on its label's side
    with a margin of at least 1.
    """
    pairs = _pairs(scores, labels, "hinge")
    for _, t in pairs:
        if _checked_here(t) and _data(t) not in (-1.0, 1.0):
            raise ValueError(f"hinge expected labels -1 or +1, got {_data(t)!r}")
    return _sum([(1 - t * y).relu() for y, t in pairs]) / len(pairs)


def binary_cross_entropy(logits: Any, targets: Any) -> Value:
    """Binary cross-entropy from logits z, targets t in [0, 1], mean over samples.

    loss = -t log(sigmoid(z)) - (1 - t) log(1 - sigmoid(z)) = softplus(z) - t z,
    d loss/dz = sigmoid(z) - t. softplus(z) = log(1 + e^z) = logaddexp(0, z), computed
    as max(0, z) + log1p(e^-|z|), so e^ never overflows and z = 1000 or -1000 give
    finite losses and gradients; nothing branches on z, so it traces.
    """
    pairs = _pairs(logits, targets, "binary_cross_entropy")
    for _, t in pairs:
        if _checked_here(t) and not 0.0 <= _data(t) <= 1.0:
            raise ValueError(f"binary_cross_entropy expected targets in [0, 1], got {_data(t)!r}")
    return _sum([rules.LOGADDEXP(0.0, z) - t * z for z, t in pairs]) / len(pairs)


def cross_entropy(logits: Any, target: Any) -> Value:
    """Softmax cross-entropy of a list of logits and the right class.

    loss = -log softmax(z)_k = logsumexp(z) - z_k, d loss/dz_i = softmax(z)_i - [i = k].
    The target is the class index k, or its one-hot list t (then z_k = sum_i t_i z_i):
    the same formula either way, the index is turned into t first. logsumexp(z) folds
    ``rules.LOGADDEXP`` over the logits, log(e^a + e^b) computed stably, so no e^
    overflows (logits of +-1000 give finite losses and gradients) and no value is read
    to choose a maximum. For a batch give a list of logit lists and a list of targets:
    the mean over samples.
    """
    if not isinstance(logits, (list, tuple)) or not logits:
        raise TypeError(f"cross_entropy expected a non-empty list of logits, got {logits!r}")
    if not isinstance(logits[0], (list, tuple)):
        return _cross_entropy_one(logits, target)
    if not isinstance(target, (list, tuple)) or len(target) != len(logits):
        got = len(target) if isinstance(target, (list, tuple)) else repr(target)
        raise ValueError(
            f"cross_entropy: {len(logits)} samples of logits need {len(logits)} targets, got {got}"
        )
    losses = [_cross_entropy_one(z, k) for z, k in zip(logits, target, strict=True)]
    return _sum(losses) / len(losses)


def l2(params: Iterable[Value], alpha: float) -> Value:
    """alpha * sum_p p^2: the L2 weight penalty (d/dp = 2 alpha p)."""
    params = list(params)
    if not params:
        raise ValueError("l2 expected at least one parameter")
    return alpha * _sum([p * p for p in params])


def one_hot(k: int, classes: int) -> list[float]:
    """[0.0, ..., 1.0 (at k), ..., 0.0]: class index k of ``classes`` as a one-hot list."""
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ValueError(f"one_hot expected a positive number of classes, got {classes!r}")
    if isinstance(k, Value):
        raise TypeError(
            f"a class index that is a Value ({k.data!r}; a traced input?) would be baked into "
            "a compiled tape: give the target as a one-hot list"
        )
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < classes:
        raise ValueError(
            f"cross_entropy target expected a class index in 0..{classes - 1}, got {k!r}"
        )
    return [1.0 if i == k else 0.0 for i in range(classes)]


def _cross_entropy_one(logits: Sequence[Any], target: Any) -> Value:
    zs = [_as_value(z, "cross_entropy logit") for z in logits]
    if isinstance(target, (list, tuple)):
        onehot = _checked_one_hot(target, len(zs))
    else:
        onehot = one_hot(target, len(zs))
    logsumexp = zs[0]
    for z in zs[1:]:
        logsumexp = rules.LOGADDEXP(logsumexp, z)
    # z_k as sum_i t_i z_i: the class enters as data, the same ops for every class
    return logsumexp - _sum([t * z for t, z in zip(onehot, zs, strict=True)])


def _checked_one_hot(target: Sequence[Any], classes: int) -> Sequence[Any]:
    if len(target) != classes:
        raise ValueError(
            f"cross_entropy: a one-hot target of {len(target)} entries for {classes} logits"
        )
    if not all(map(_checked_here, target)):
        return target
    values = [_data(t) for t in target]
    if sorted(values) != [0.0] * (classes - 1) + [1.0]:
        raise ValueError(
            f"cross_entropy expected a one-hot target (one 1, the rest 0), got {values}"
        )
    return target


def _class_target(target: Any, width: int) -> list[float]:
    return list(target) if isinstance(target, (list, tuple)) else one_hot(target, width)


def _pairs(outputs: Any, targets: Any, loss: str) -> list[tuple[Value, Scalar]]:
    """(output, target) for every element of two equally shaped (nested) lists."""
    pairs: list[tuple[Value, Scalar]] = []
    _collect(outputs, targets, loss, "", pairs)
    if not pairs:
        raise ValueError(f"{loss}: no outputs")
    return pairs


def _collect(outputs: Any, targets: Any, loss: str, where: str, pairs: list) -> None:
    if isinstance(outputs, (list, tuple)):
        if not isinstance(targets, (list, tuple)):
            raise ValueError(
                f"{loss}: outputs{where} is a list of {len(outputs)} but targets{where} "
                f"is {targets!r}"
            )
        if len(outputs) != len(targets):
            raise ValueError(
                f"{loss}: {len(outputs)} outputs{where} but {len(targets)} targets{where}"
            )
        for i, (y, t) in enumerate(zip(outputs, targets, strict=True)):
            _collect(y, t, loss, f"{where}[{i}]", pairs)
        return
    if isinstance(targets, (list, tuple)):
        if len(targets) == 1:  # one output, one target in a list
            targets = targets[0]
        else:
            raise ValueError(f"{loss}: a single output{where} but {len(targets)} targets{where}")
    y = _as_value(outputs, f"{loss} output{where}")
    if not isinstance(targets, Value):
        if isinstance(targets, bool) or not isinstance(targets, Real):
            raise TypeError(f"{loss}: target{where} expected a number, got {targets!r}")
        targets = float(targets)
    pairs.append((y, targets))


def _as_value(x: object, what: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{what} expected a Value or a number, got {type(x).__name__}")
    return Value(float(x))


def _data(x: Scalar) -> float:
    return x.data if isinstance(x, Value) else x


def _checked_here(target: Any) -> bool:
    """Whether a loss checks this target's number: always, but for a Value while
    ``compile`` traces (a compiled step's input: comparing its number would be recorded as
    a branch the step must follow, see autodiff's guard). fit checks a data set's targets
    before it compiles."""
    return not (isinstance(target, Value) and is_tracing())


def _sum(terms: Sequence[Value]) -> Value:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


# Each batch loss is the mean (quadratic: the sum) of the same loss on one sample.
quadratic.reduction = Reduction("sum", quadratic)  # type: ignore[attr-defined]
mse.reduction = Reduction("mean", mse)  # type: ignore[attr-defined]
hinge.reduction = Reduction("mean", hinge)  # type: ignore[attr-defined]
binary_cross_entropy.reduction = Reduction("mean", binary_cross_entropy)  # type: ignore[attr-defined]
cross_entropy.reduction = Reduction("mean", cross_entropy, _class_target)  # type: ignore[attr-defined]
