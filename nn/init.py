"""Initial weights of a neuron: "uniform" (micrograd's), "xavier" or "he".

Every scheme draws one number per input weight, in input order, from ``rng`` (a
``random.Random``) or, when ``rng`` is None, from Python's ``random`` module as
micrograd does. Biases start at 0 and draw nothing.
"""

from __future__ import annotations

import math
import random
from typing import Any

INITS = ("uniform", "xavier", "he")


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


def check_rng(rng: object) -> None:
    """TypeError unless rng is None or a random.Random."""
    if rng is not None and not isinstance(rng, random.Random):
        raise TypeError(f"rng expected a random.Random or None, got {type(rng).__name__}")
