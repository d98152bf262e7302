"""Forward mode against reverse mode on the article's 2-2-2 network.

The cost C(w1..w8, b1..b4) has 12 inputs and one output. Forward mode (dual
numbers, autodiff.jvp) gives the derivative of C along one direction per sweep,
so the full gradient takes 12 sweeps, one per parameter. Reverse mode (backward)
gives all 12 in one sweep back over the same tape. That asymmetry, many inputs and
one loss, is why backpropagation is reverse mode.

    python examples/forward_vs_reverse.py
"""

from __future__ import annotations

import autodiff
from nn.article import BIASES, INPUT, PARAMETERS, TARGET, WEIGHTS

NAMES = list(PARAMETERS)  # w1..w4 b1 b2 w5..w8 b3 b4, the article's order


def cost(*theta):
    """The article's network, its 12 parameters as arguments: C = sum_j (o_j - t_j)^2."""
    p = dict(zip(NAMES, theta, strict=True))
    x1, x2 = INPUT
    h1 = (p["w1"] * x1 + p["w3"] * x2 + p["b1"]).sigmoid()
    h2 = (p["w2"] * x1 + p["w4"] * x2 + p["b2"]).sigmoid()
    o1 = (p["w5"] * h1 + p["w7"] * h2 + p["b3"]).sigmoid()
    o2 = (p["w6"] * h1 + p["w8"] * h2 + p["b4"]).sigmoid()
    return (o1 - TARGET[0]) ** 2 + (o2 - TARGET[1]) ** 2


def initial_parameters() -> list[float]:
    values = []
    for layer, neuron, *rest in PARAMETERS.values():
        values.append(WEIGHTS[layer][neuron][rest[0]] if rest else BIASES[layer][neuron])
    return values


def main() -> None:
    theta = initial_parameters()
    tape = autodiff.trace(cost, *theta)
    n = len(theta)

    # forward mode: one sweep per basis direction e_k
    forward = []
    for k in range(n):
        direction = [1.0 if j == k else 0.0 for j in range(n)]
        forward.append(autodiff.jvp(cost, theta, direction)[1])

    # reverse mode: one sweep back
    params = [autodiff.Value(t) for t in theta]
    c = cost(*params)
    c.backward()
    reverse = [p.grad for p in params]

    print(f"C = {c.data!r}; the tape has {len(tape)} ops")
    print(f"{'':4}{'forward mode':>22}{'reverse mode':>22}")
    for name, a, b in zip(NAMES, forward, reverse, strict=True):
        print(f"{name:4}{a:22.15f}{b:22.15f}")
    print(f"forward mode: {n} sweeps x {len(tape)} ops = {n * len(tape)} local derivative steps")
    print(f"reverse mode: 1 sweep  x {len(tape)} ops = {len(tape)} local derivative steps")
    print(
        f"largest difference: {max(abs(a - b) for a, b in zip(forward, reverse, strict=True)):.1e}"
    )


if __name__ == "__main__":
    main()
