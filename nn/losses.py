"""Loss functions: a Value to call ``.backward()`` on.

Each is written with Value operations, so its derivative comes from the engine's
rule table; only the stable forms of the log-losses branch on data.

``outputs`` and ``targets`` are a single output and its target, or lists of the same
shape (nested lists for several outputs per sample). Reductions:

- ``quadratic``: sum  sum (y - t)^2  (the article's cost, no 1/2)
- ``mse``, ``hinge``, ``binary_cross_entropy``, ``cross_entropy``: mean over elements
  (samples for cross_entropy)
- ``l2(params, alpha)``: alpha * sum p^2, the weight penalty added to micrograd's demo
  loss, kept separate so any loss can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Real
from typing import Any

from autodiff import Value

Scalar = Value | float


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
        if _data(t) not in (-1.0, 1.0):
            raise ValueError(f"hinge expected labels -1 or +1, got {_data(t)!r}")
    return _sum([(1 - t * y).relu() for y, t in pairs]) / len(pairs)


def binary_cross_entropy(logits: Any, targets: Any) -> Value:
    """Binary cross-entropy from logits z, targets t in [0, 1], mean over samples.

    loss = -t log(sigmoid(z)) - (1 - t) log(1 - sigmoid(z)) = softplus(z) - t z,
    d loss/dz = sigmoid(z) - t. softplus(z) = log(1 + e^z) is computed as
    z + log(1 + e^-z) for z >= 0 and log(1 + e^z) for z < 0, so e^ never
    overflows and z = 1000 or -1000 give finite losses and gradients.
    """
    pairs = _pairs(logits, targets, "binary_cross_entropy")
    for _, t in pairs:
        if not 0.0 <= _data(t) <= 1.0:
            raise ValueError(f"binary_cross_entropy expected targets in [0, 1], got {_data(t)!r}")
    return _sum([_softplus(z) - t * z for z, t in pairs]) / len(pairs)


def cross_entropy(logits: Any, target: Any) -> Value:
    """Softmax cross-entropy of a list of logits and the index of the right class.

    loss = -log softmax(z)_k = logsumexp(z) - z_k, d loss/dz_i = softmax(z)_i - [i = k].
    logsumexp(z) = m + log sum_i e^(z_i - m) with m = max z_i taken as a constant, so
    no e^ overflows. For a batch give a list of logit lists and a list of indices:
    the mean over samples.
    """
    if not isinstance(logits, (list, tuple)) or not logits:
        raise TypeError(f"cross_entropy expected a non-empty list of logits, got {logits!r}")
    if not isinstance(logits[0], (list, tuple)):
        return _cross_entropy_one(logits, target)
    if not isinstance(target, (list, tuple)) or len(target) != len(logits):
        got = len(target) if isinstance(target, (list, tuple)) else repr(target)
        raise ValueError(
            f"cross_entropy: {len(logits)} samples of logits need {len(logits)} target "
            f"indices, got {got}"
        )
    losses = [_cross_entropy_one(z, k) for z, k in zip(logits, target, strict=True)]
    return _sum(losses) / len(losses)


def l2(params: Iterable[Value], alpha: float) -> Value:
    """alpha * sum_p p^2: the L2 weight penalty (d/dp = 2 alpha p)."""
    params = list(params)
    if not params:
        raise ValueError("l2 expected at least one parameter")
    return alpha * _sum([p * p for p in params])


def _cross_entropy_one(logits: Sequence[Any], k: object) -> Value:
    zs = [_as_value(z, "cross_entropy logit") for z in logits]
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < len(zs):
        raise ValueError(
            f"cross_entropy target expected a class index in 0..{len(zs) - 1}, got {k!r}"
        )
    m = max(z.data for z in zs)
    logsumexp = _sum([(z - m).exp() for z in zs]).log() + m
    return logsumexp - zs[k]


def _softplus(z: Value) -> Value:
    if z.data >= 0.0:
        return z + (1 + (-z).exp()).log()
    return (1 + z.exp()).log()


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


def _sum(terms: Sequence[Value]) -> Value:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total
