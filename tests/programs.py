"""Random programs for differential tests: DAGs over the rule table, and layered networks.

A program is data (a list of steps), so one program can be run several ways: eagerly
on Values, traced and compiled, in forward mode, in PyTorch. Everything here uses the
public API only (``Rule`` objects called on Values or numbers, Value's operators and
methods, ``Value.data``), so it keeps working when the compiler's internals change.

The op list is read from the rule table (``autodiff.rules``): a new row is drawn here
with no change to this file. ``x ** k`` with a constant k (``rules.constant_power``) is
drawn as well, with the exponents that matter at the edges (0, negative, fractional).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from autodiff import Rule, Value, rules

# The rows of the rule table, in table order.
TABLE: list[Rule] = [r for r in vars(rules).values() if isinstance(r, Rule)]

# Constant exponents for x ** k: 0 (x^0 = 1, a masking derivative), integers (odd and
# even: signs of poles), negatives (poles at 0), and fractions (nan below 0).
EXPONENTS = (0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5, -0.5, 2.5)

MIN_SUBNORMAL = 5e-324
MIN_NORMAL = 2.2250738585072014e-308
# IEEE edge values: signed zeros, subnormals, the smallest normal, infinities, nan,
# numbers whose products (and sums) overflow or underflow, and a few exact small numbers.
SPECIAL = (
    0.0,
    -0.0,
    MIN_SUBNORMAL,
    -MIN_SUBNORMAL,
    1e-310,
    MIN_NORMAL,
    math.inf,
    -math.inf,
    math.nan,
    1e300,
    -1e300,
    1e308,  # two of them sum to inf: batched sums overflow where each example does not
    -1.7976931348623157e308,  # -max float
    1e-300,
    -1e-300,
    1.0,
    -1.0,
    0.5,
    2.0,
    -3.0,
)
ordinary = st.floats(-4.0, 4.0, allow_nan=False, allow_infinity=False)
numbers = st.one_of(st.sampled_from(SPECIAL), ordinary)

# Value's own spelling of the ops that have an operator (the rest are methods named
# like their rule, or only a Rule call).
OPERATORS: dict[str, Callable[..., Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "neg": operator.neg,
    "abs": abs,
}


@dataclass(frozen=True)
class Step:
    """One op of a program. ``args``: an int picks an earlier node (0 = the newest,
    counted back, modulo the number of nodes so far); a float is a number operand.
    ``spelled``: call the Rule itself, or Value's operator/method for it."""

    rule: Rule
    args: tuple[int | float, ...]
    spelled: str  # "rule" or "operator"

    def __str__(self) -> str:
        args = ", ".join(f"n[-{a + 1}]" if isinstance(a, int) else repr(a) for a in self.args)
        return f"{self.rule.name}({args}) [{self.spelled}]"


@dataclass(frozen=True)
class Program:
    """f(x_0 .. x_{k-1}) over parameters; nodes are the inputs, the parameters, then one
    per step; f returns the last node. ``consts`` are leaves ``Value(c)`` made inside f."""

    n_inputs: int
    params: tuple[float, ...]
    consts: tuple[float, ...]
    steps: tuple[Step, ...]

    def __call__(
        self,
        inputs: Sequence[Value],
        params: Sequence[Value],
        nudge: Callable | None = None,
        calls: list | None = None,
    ) -> Value:
        """Run the program on Values. ``nudge(value)`` may move each op's result;
        ``calls`` (a list) receives each op's (rule, argument floats, for each argument
        whether it depends on an input, the arguments, the output Value)."""
        nodes: list[Value] = [*inputs, *params, *(Value(c) for c in self.consts)]
        varies = [True] * len(inputs) + [False] * (len(nodes) - len(inputs))
        for step in self.steps:
            picked = [-1 - a % len(nodes) if isinstance(a, int) else None for a in step.args]
            args = [a if k is None else nodes[k] for a, k in zip(step.args, picked, strict=True)]
            flags = [k is not None and varies[k] for k in picked]
            if calls is not None:  # (read before the op: a nudge may move it)
                floats = [a.data if isinstance(a, Value) else a for a in args]
            out = apply_step(step, args)
            if calls is not None:
                calls.append((step.rule, floats, flags, args, out))
            if nudge is not None:
                nudge(out)
            nodes.append(out)
            varies.append(any(flags))
        return nodes[-1]

    def rules_used(self) -> set[str]:
        return {s.rule.name for s in self.steps}

    def __str__(self) -> str:
        head = f"inputs {self.n_inputs}, params {self.params}, consts {self.consts}"
        return "\n".join([head, *(f"  {s}" for s in self.steps)])


def apply_step(step: Step, args: list[Any]) -> Value:
    rule = step.rule
    if step.spelled == "operator" and any(isinstance(a, Value) for a in args):
        if rule.name in OPERATORS:
            return OPERATORS[rule.name](*args)
        method = getattr(Value, rule.name, None)
        if callable(method) and rule.arity == 1:
            return method(args[0])
        if rule.name.startswith("**") and rule.arity == 1:  # x ** k, a constant exponent
            return args[0] ** float(rule.name[2:])
    return rule(*args)


def _rule_choices() -> list[Rule]:
    return TABLE + [rules.constant_power(k) for k in EXPONENTS]


@st.composite
def steps(draw: st.DrawFn) -> Step:
    rule = draw(st.sampled_from(_rule_choices()))
    args: list[int | float] = []
    for _ in range(rule.arity):
        if draw(st.integers(0, 4)) == 0:
            args.append(draw(numbers))
        else:
            args.append(draw(st.integers(0, 30)))
    if not any(isinstance(a, int) for a in args):
        args[0] = 0  # at least one Value: the newest node
    return Step(rule, tuple(args), draw(st.sampled_from(["rule", "operator"])))


@st.composite
def programs(draw: st.DrawFn, max_steps: int = 10) -> Program:
    n_inputs = draw(st.integers(1, 3))
    params = tuple(draw(st.lists(numbers, min_size=1, max_size=3)))
    consts = tuple(draw(st.lists(numbers, max_size=1)))
    body = tuple(draw(st.lists(steps(), min_size=1, max_size=max_steps)))
    return Program(n_inputs, params, consts, body)


# Layered networks: the shape the numpy backend fuses into matrix products.


@dataclass(frozen=True)
class Neuron:
    """z = b + sum_j w_j * a_j (+ a skip term a_s) over the first ``reads`` activations
    of its layer's source, then the activation (a unary rule's name, or "linear")."""

    reads: int
    weights: tuple[int, ...]  # a parameter index per read (a repeated index ties weights)
    bias: int | None
    bias_first: bool  # b + w*a + ... (else ... + b)
    weight_left: bool  # w * a (else a * w)
    skip: int | None  # an activation of the source added as it is: a skip connection
    skip_first: bool  # a_s + z (else z + a_s)
    activation: str


@dataclass(frozen=True)
class Network:
    """Layers of neurons over ``n_inputs`` inputs. A layer's source is the previous
    layer's outputs, or (``everything``) the inputs followed by every activation so
    far, inputs listed first; its neurons read a prefix of it, so activations are
    reused by several layers and skip over layers. The loss sums the last layer's
    outputs (squared if ``square``)."""

    n_inputs: int
    params: tuple[float, ...]
    layers: tuple[tuple[Neuron, ...], ...]
    everything: tuple[bool, ...]  # per layer
    square: bool

    def __call__(
        self, inputs: Sequence[Value], params: Sequence[Value], nudge: Callable | None = None
    ) -> Value:
        """The network on Values. ``nudge(value)`` may move each neuron's sum and output
        (an ulp, for the reference's tolerance: a tanh near 1 amplifies one ulp of it)."""
        seen: list[Value] = list(inputs)
        previous: list[Value] = list(inputs)
        for layer, everything in zip(self.layers, self.everything, strict=True):
            source = seen if everything else previous
            previous = [_neuron(n, source, params, nudge) for n in layer]
            seen = seen + previous
        terms = [o * o for o in previous] if self.square else previous
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total


def _neuron(
    n: Neuron, source: list[Value], params: Sequence[Value], nudge: Callable | None = None
) -> Value:
    products = []
    for j in range(n.reads):
        w, a = params[n.weights[j]], source[j]
        products.append(w * a if n.weight_left else a * w)
    z = products[0]
    if n.bias is not None and n.bias_first:
        z = params[n.bias] + z
    for p in products[1:]:
        z = z + p
    if n.bias is not None and not n.bias_first:
        z = z + params[n.bias]
    if n.skip is not None:
        z = source[n.skip] + z if n.skip_first else z + source[n.skip]
    if nudge is not None:
        nudge(z)
    if n.activation == "linear":
        return z
    out = getattr(z, n.activation)()
    if nudge is not None:
        nudge(out)
    return out


@st.composite
def networks(draw: st.DrawFn) -> Network:
    n_inputs = draw(st.integers(1, 4))
    n_params = 0

    def weight() -> int:
        nonlocal n_params
        if n_params and draw(st.integers(0, 5)) == 0:  # now and then a tied weight
            return draw(st.integers(0, n_params - 1))
        n_params += 1
        return n_params - 1

    layers, everything = [], []
    seen, previous = n_inputs, n_inputs
    for _ in range(draw(st.integers(1, 3))):
        everything.append(draw(st.booleans()))
        source = seen if everything[-1] else previous
        width = draw(st.integers(1, 4))
        activation = draw(st.sampled_from(["tanh", "relu", "sigmoid", "linear"]))
        reads = draw(st.integers(1, source))
        bias_first, weight_left = draw(st.booleans()), draw(st.booleans())
        layer = []
        for _ in range(width):
            weights = tuple(weight() for _ in range(reads))
            bias = weight() if draw(st.integers(0, 3)) else None
            skip = draw(st.one_of(st.none(), st.integers(0, source - 1)))
            odd = draw(st.integers(0, 5)) == 0  # now and then a neuron unlike its layer
            layer.append(
                Neuron(
                    reads,
                    weights,
                    bias,
                    bias_first ^ odd,
                    weight_left ^ odd,
                    skip,
                    draw(st.booleans()),
                    activation,
                )
            )
        layers.append(tuple(layer))
        seen += width
        previous = width
    params = draw(st.lists(st.floats(-1.5, 1.5), min_size=n_params, max_size=n_params))
    return Network(n_inputs, tuple(params), tuple(layers), tuple(everything), draw(st.booleans()))
