"""Activation functions by name: "relu", "sigmoid", "tanh", "linear".

Each is the Value method of the same name, so its derivative comes from the
engine's rule table; a callable Value -> Value can be used instead of a name.
"""

from __future__ import annotations

from collections.abc import Callable

from autodiff import Value

Activation = str | Callable[[Value], Value]


def relu(x: Value) -> Value:
    """max(0, x)."""
    return x.relu()


def sigmoid(x: Value) -> Value:
    """1 / (1 + e^-x)."""
    return x.sigmoid()


def tanh(x: Value) -> Value:
    """Hyperbolic tangent."""
    return x.tanh()


def linear(x: Value) -> Value:
    """x itself (no node is added to the graph)."""
    return x


ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "linear": linear,
}


def resolve(activation: Activation) -> Callable[[Value], Value]:
    """The function for an activation name, or the callable itself."""
    if isinstance(activation, str):
        try:
            return ACTIVATIONS[activation]
        except KeyError:
            names = ", ".join(repr(n) for n in ACTIVATIONS)
            raise ValueError(
                f"unknown activation {activation!r}: expected one of {names} or a callable"
            ) from None
    if callable(activation):
        return activation
    raise TypeError(
        f"activation expected a name or a callable Value -> Value, got {type(activation).__name__}"
    )


def name_of(activation: Activation) -> str:
    """The activation's name, for repr: "relu", or the callable's __name__."""
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", type(activation).__name__)
