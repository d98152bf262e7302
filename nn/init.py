"""Initial parameters of a neuron.

Weights: "uniform" (micrograd's), "xavier" or "he". Biases: "zero" (micrograd's
package default; draws nothing) or "uniform" (the micrograd lecture's U(-1, 1)).

Every scheme draws from ``rng`` (a ``random.Random``) or, when ``rng`` is None,
from Python's ``random`` module as micrograd does: one number per input weight, in
input order, then the bias's number if it draws one.
"""

from __future__ import annotations

import math
import random
from typing import Any

INITS = ("uniform", "xavier", "he")
BIAS_INITS = ("zero", "uniform")


def initial_weights(
    init: str, nin: int, fan_out: int = 1, rng: random.Random | None = None
) -> list[float]:
    """``nin`` weights for one neuron.

    - "uniform": U(-1, 1), micrograd's ``random.uniform(-1, 1)``.
    - "xavier": U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio),
      fan_out being the width of the neuron's layer; keeps the variance of
      sigmoid/tanh activations steady from layer to layer.
    - "he": N(0, 2 / fan_in) (He et al.), for ReLU layers.
    """
    source: Any = random if rng is None else rng
    if init == "uniform":
        return [source.uniform(-1, 1) for _ in range(nin)]
    if init == "xavier":
        a = math.sqrt(6.0 / (nin + fan_out))
        return [source.uniform(-a, a) for _ in range(nin)]
    if init == "he":
        sd = math.sqrt(2.0 / nin)
        return [source.gauss(0.0, sd) for _ in range(nin)]
    raise ValueError(f"unknown init {init!r}: expected one of {', '.join(map(repr, INITS))}")


def initial_bias(bias: str, rng: random.Random | None = None) -> float:
    """One neuron's bias.

    - "zero": 0.0, micrograd's package (``nn.py``) default; draws nothing.
    - "uniform": U(-1, 1), ``random.uniform(-1, 1)`` as in the micrograd lecture,
      drawn after the neuron's weights.
    """
    check_bias(bias)
    if bias == "zero":
        return 0.0
    source: Any = random if rng is None else rng
    return source.uniform(-1, 1)


def check_bias(bias: object) -> None:
    """ValueError unless bias is one of BIAS_INITS (checked before anything is drawn)."""
    if not isinstance(bias, str) or bias not in BIAS_INITS:
        names = ", ".join(map(repr, BIAS_INITS))
        raise ValueError(f"unknown bias init {bias!r}: expected one of {names}")


def check_rng(rng: object) -> None:
    """TypeError unless rng is None or a random.Random."""
    if rng is not None and not isinstance(rng, random.Random):
        raise TypeError(f"rng expected a random.Random or None, got {type(rng).__name__}")
