"""Module: the base class of everything with parameters (Neuron, Layer, MLP, yours).

A Module finds its parameters by walking its own attributes in the order they were
set: a ``Value`` attribute is a parameter, a ``Module`` attribute is a child, and a
list or tuple of them is walked item by item. The path to a parameter is its name,
e.g. ``"layers.0.neurons.1.w.0"``; names are stable, so they can key a saved file.

Files are JSON (never pickle): a small header plus ``{name: float}``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from numbers import Real
from typing import Any

from autodiff import Value

FORMAT = "autodiff-nn-state"
FORMAT_VERSION = 1


class Module:
    """Base class: parameters(), zero_grad(), state_dict(), save() and load().

    Subclasses only set attributes; attributes whose names start with ``_`` are
    private and never searched for parameters.
    """

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, Value) for every parameter, in attribute order, each Value once."""
        seen: set[int] = set()
        named = []
        for name, p in _walk(self, ""):
            if id(p) not in seen:  # a shared Value is one parameter
                seen.add(id(p))
                named.append((name, p))
        return named

    def parameters(self) -> list[Value]:
        """Every parameter Value, in the order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0 (before the next backward pass)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """``{name: value}`` of every parameter: a snapshot of plain floats."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from ``state`` (as returned by ``state_dict()``).

        Everything is checked before anything is assigned: the names must be exactly
        the model's and every value a finite number, otherwise ValueError (or
        TypeError) names what is wrong and the model is left unchanged.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict expected a mapping of names to floats, got {_kind(state)}"
            )
        named = self.named_parameters()
        _check_names([name for name, _ in named], state)
        values = [_checked_number(name, state[name]) for name, _ in named]
        for (_, p), v in zip(named, values, strict=True):
            p.data = v

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the parameters to ``path`` as JSON, atomically.

        The file is written next to ``path`` and renamed over it, so a crash never
        leaves a half-written file. Non-finite parameters (nan, inf) cannot be saved.
        """
        state = self.state_dict()
        for name, v in state.items():
            if not math.isfinite(v):
                raise ValueError(f"cannot save: parameter {name!r} is {v} (not finite)")
        document = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model": type(self).__name__,
            "parameters": state,
        }
        _write_atomically(os.fspath(path), json.dumps(document, indent=1) + "\n")

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Read parameters saved by ``save()`` into this model; returns the model.

        The file's names must match this model's exactly (same architecture);
        otherwise ValueError says which names are missing or unexpected, and the
        model is left unchanged.
        """
        path = os.fspath(path)
        with open(path, encoding="utf-8") as f:
            try:
                document = json.load(f)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
                raise ValueError(f"{path} is not a saved model: invalid JSON ({e})") from None
        if (
            not isinstance(document, dict)
            or document.get("format") != FORMAT
            or not isinstance(document.get("parameters"), dict)
        ):
            raise ValueError(f"{path} is not a saved model (no {FORMAT!r} header)")
        if document.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"{path}: format version {document.get('version')!r} is not supported "
                f"(expected {FORMAT_VERSION})"
            )
        try:
            self.load_state_dict(document["parameters"])
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueError(f"{path}: {e}") from None
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.parameters())} parameters)"


def _walk(obj: Any, path: str) -> Iterator[tuple[str, Value]]:
    if isinstance(obj, Value):
        yield path, obj
    elif isinstance(obj, Module):
        for name, attr in vars(obj).items():
            if not name.startswith("_"):
                yield from _walk(attr, f"{path}.{name}" if path else name)
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _walk(item, f"{path}.{i}" if path else str(i))
    elif isinstance(obj, Mapping):
        for key, item in obj.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    # anything else (numbers, strings, callables) holds no parameters


def _check_names(expected: list[str], state: Mapping[str, Any]) -> None:
    missing = [name for name in expected if name not in state]
    known = set(expected)
    unexpected = [name for name in state if name not in known]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {_some(missing)}")
        if unexpected:
            parts.append(f"unexpected {_some(unexpected)}")
        raise ValueError(
            f"state does not match the model ({len(expected)} parameters): " + "; ".join(parts)
        )


def _some(names: list[str], shown: int = 3) -> str:
    listed = ", ".join(repr(n) for n in names[:shown])
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{len(names)} name(s): {listed}{more}"


def _checked_number(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(f"parameter {name!r} expected a number, got {_kind(v)}")
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"parameter {name!r} is {v} (not finite)")
    return v


def _kind(x: object) -> str:
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _write_atomically(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
