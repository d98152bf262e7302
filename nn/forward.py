"""Compiled forward passes of a model: its outputs for many samples without a graph.

``compiled_forward(model)`` is ``autodiff.compile(model, grad=False, batch="each")``
over the model's parameters (numpy backend when numpy is installed, else Python),
traced once per model and kept while the model lives and keeps the same parameters.
It reads the parameters' current values on every call, so it stays right while the
model trains. A model that cannot be traced (its forward pass branches on a value)
gets None, once, and is run eagerly: the outputs are the same, only slower.

The Python backend gives the eager forward pass's floats exactly; numpy's agree
within about 1e-12 of the largest output (sums in another order), which can change
an argmax only between two outputs that close.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import autodiff
from autodiff import TraceError, Value
from nn.compiled import numbers_array, numpy_available

_NOT_TRACEABLE = object()
# model -> (ids of its parameters when traced, the compiled forward or _NOT_TRACEABLE)
_CACHE: weakref.WeakKeyDictionary[Any, tuple[list[int], Any]] = weakref.WeakKeyDictionary()


def compiled_forward(model: Callable[[Any], Any]) -> Callable[[list[Any]], list[Any]] | None:
    """``forward(X)``: the model's outputs for every sample of X, as floats (a float per
    sample for one output, a list for several); None if the model cannot be compiled."""
    parameters = getattr(model, "parameters", None)
    if not callable(parameters):
        return None
    params = list(parameters())
    ids = [id(p) for p in params]
    try:
        hit = _CACHE.get(model)
    except TypeError:  # not weakly referenceable or not hashable: compile nothing
        return None
    if hit is not None and hit[0] == ids:
        return None if hit[1] is _NOT_TRACEABLE else hit[1]
    ref = weakref.ref(model)  # the compiled function must not keep the model alive

    def run(x: Any) -> Any:
        return ref()(x)  # type: ignore[misc]

    backend = "numpy" if numpy_available() else "python"
    forward: Any = autodiff.compile(run, params=params, grad=False, backend=backend, batch="each")
    _CACHE[model] = (ids, forward)
    return forward


def outputs_or_none(
    model: Callable[[Any], Any], X: Sequence[Any], forward: Any = None
) -> list[Any] | None:
    """The compiled forward's outputs for X (``forward``, or the model's from the cache),
    or None when the model does not compile (then remembered, so it is not traced again)."""
    if forward is None:
        forward = compiled_forward(model)
        if forward is None:
            return None
    elif _failed(model):
        return None
    try:
        found = _through_an_array(forward, X)
        if found is not None:
            return found
        try:
            return forward(X if isinstance(X, list) else list(X))
        except TraceError:  # samples holding Values: as numbers
            return forward([_numbers(x) for x in X])
    except (TraceError, TypeError, ValueError):  # eager then runs it, or says what is wrong
        try:
            _CACHE[model] = (_CACHE[model][0], _NOT_TRACEABLE)
        except (KeyError, TypeError):
            pass
        return None


def _through_an_array(forward: Any, X: Sequence[Any]) -> list[Any] | None:
    """The numpy forward's outputs for X read off its array program (``outputs``: the
    same floats, without a program on Values being built too), when X is plain numbers
    and the model returns a Value or a flat list of them; else None."""
    if getattr(forward, "backend", None) != "numpy":
        return None
    tape = forward.tape
    if tape is not None and not _flat(tape.out_structure):
        return None
    rows = numbers_array(X)
    if rows is None:
        return None
    found = forward.outputs(rows).tolist()
    return found if _flat(forward.tape.out_structure) else None


def _flat(structure: Any) -> bool:
    """A single result (None) or a flat list of them: the rows ``outputs`` gives are the
    results as the call on Values gives them."""
    return structure is None or all(s is None for s in structure)


def _failed(model: object) -> bool:
    try:
        hit = _CACHE.get(model)
    except TypeError:
        return False
    return hit is not None and hit[1] is _NOT_TRACEABLE


def is_cached(model: object) -> bool:
    """Whether a compiled forward (or the knowledge that there is none) is kept for model."""
    try:
        return model in _CACHE
    except TypeError:
        return False


def _numbers(x: Any) -> Any:
    """A sample as plain numbers (a compiled call takes numbers, not Values)."""
    if isinstance(x, (list, tuple)):
        return [v.data if isinstance(v, Value) else v for v in x]
    return x.data if isinstance(x, Value) else x
