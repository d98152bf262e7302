"""Module: the base class of everything with parameters (Neuron, Layer, MLP, yours).

A Module finds its parameters by walking its own attributes in the order they were
set: a ``Value`` attribute is a parameter, a ``Module`` attribute is a child, and a
list or tuple of them is walked item by item. The path to a parameter is its name,
e.g. ``"layers.0.neurons.1.w.0"``; names are stable, so they can key a saved file.
Each object is walked once (a module that refers to itself, or a child reached twice,
adds nothing the second time), and two different Values whose paths read the same
(``{"0": [v1], "0.0": v2}`` gives ``0.0`` twice) are an error, never a silent loss.

Every parameter of a Neuron, Layer or MLP is labelled with its name when the model is
built (``name_parameters``), so a drawing, a frame or ``explain`` says which weight it is.

Files are JSON (never pickle): a small header plus ``{name: float}``; see
``nn.state_file`` for how they are written and read.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from numbers import Real
from typing import Any

from autodiff import Value
from nn.state_file import read_json_object, write_text_atomically

FORMAT = "autodiff-nn-state"
FORMAT_VERSION = 1


class Module:
    """Base class: parameters(), zero_grad(), state_dict(), save() and load().

    Subclasses only set attributes; attributes whose names start with ``_`` are
    private and never searched for parameters.
    """

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, Value) for every parameter, in attribute order, each Value once.

        A shared Value is one parameter, named by its first path. ValueError if two
        different Values get the same name (keys such as ``"0"`` and ``0``, or a key
        containing a dot that reads like a path).
        """
        seen: set[int] = set()
        owner: dict[str, Value] = {}
        named = []
        for name, p in _walk(self, "", set()):
            if owner.setdefault(name, p) is not p:
                raise ValueError(
                    f"{type(self).__name__}: two different parameters are both named {name!r}; "
                    "rename the attribute or dict key that makes the second path"
                )
            if id(p) not in seen:
                seen.add(id(p))
                named.append((name, p))
        return named

    def name_parameters(self) -> None:
        """Label every parameter with its name, the key it has in a saved file
        (``layers.1.neurons.3.w.2``), so drawings, frames and ``explain`` show it.

        Neuron, Layer and MLP call this when built (an outer module last, so its names
        win); a Module of your own calls it at the end of its ``__init__``.
        """
        for name, p in self.named_parameters():
            p.label = name

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
        leaves a half-written file (nor a temporary one). It gets the permissions
        ``open(path, "w")`` would give it: an existing file keeps its mode, a new one
        gets 0o666 minus the umask; a symlink is followed and stays a link.
        Non-finite parameters (nan, inf) cannot be saved.
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
        write_text_atomically(os.fspath(path), json.dumps(document, indent=1) + "\n")

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Read parameters saved by ``save()`` into this model; returns the model.

        The file's names must match this model's exactly (same architecture);
        otherwise ValueError says which names are missing or unexpected, and the
        model is left unchanged. Every other defect (invalid JSON, duplicate keys,
        a version that is not the integer 1, numbers out of a float's range) is a
        ValueError naming the file, and the key where there is one.
        """
        path = os.fspath(path)
        document = read_json_object(path)
        if document.get("format") != FORMAT or not isinstance(document.get("parameters"), dict):
            raise ValueError(f"{path} is not a saved model (no {FORMAT!r} header)")
        version = document.get("version")
        if type(version) is not int or version != FORMAT_VERSION:
            raise ValueError(
                f"{path}: format version {_short(version)} is not supported "
                f"(expected the integer {FORMAT_VERSION})"
            )
        try:
            self.load_state_dict(document["parameters"])
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: {e}") from None
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.parameters())} parameters)"


def _walk(obj: Any, path: str, visited: set[int]) -> Iterator[tuple[str, Value]]:
    """(path, Value) pairs below obj; containers in ``visited`` are not entered again."""
    if isinstance(obj, Value):
        yield path, obj
        return
    if isinstance(obj, Module):
        items: Any = ((name, a) for name, a in vars(obj).items() if not name.startswith("_"))
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    elif isinstance(obj, Mapping):
        items = obj.items()
    else:
        return  # anything else (numbers, strings, callables) holds no parameters
    if id(obj) in visited:  # a cycle, or a child shared by two attributes
        return
    visited.add(id(obj))
    for key, item in items:
        yield from _walk(item, f"{path}.{key}" if path else str(key), visited)


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
    listed = ", ".join(_short(n, 100) for n in names[:shown])  # a dict key may be anything
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{len(names)} name(s): {listed}{more}"


def _checked_number(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(f"parameter {name!r} expected a number, got {_kind(v)}")
    try:
        x = float(v)
    except OverflowError:  # an int beyond 1.8e308; its digits are never printed
        raise ValueError(f"parameter {name!r} is out of a float's range") from None
    if not math.isfinite(x):
        raise ValueError(f"parameter {name!r} is {x} (not finite)")
    return x


def _kind(x: object) -> str:
    return f"{type(x).__name__} {_short(x)}"


def _short(x: object, limit: int = 40) -> str:
    """repr(x), cut to ``limit`` characters, without ever converting a huge int to text."""
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 64:
        return f"(an integer of {x.bit_length()} bits)"  # str() of a huge int is slow or raises
    try:
        text = repr(x)
    except Exception:  # a container holding such an int, or a broken __repr__
        return "(unprintable)"
    return text if len(text) <= limit else text[: limit - 3] + "..."
