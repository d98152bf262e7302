"""Finding the layers in a tape: sums of ``w * x`` that share their x's become one matmul.

A neuron's pre-activation is a chain of ``+`` over products ``w_i * x_i`` (a
parameter times a value over the batch) and a bias: z = b + sum_i w_i x_i. The
neurons of a layer read the same x's, so over a batch of n examples

    Z = X W^T + b        (X: n x m, W: k x m, Z: n x k)

and reverse mode gives, from G = dL/dZ,

    dL/dW = G^T X,   dL/db = sum over the batch of G,   dL/dX = G W.

``find_layers`` reads these groups off the tape (only its structure: ``+`` and ``*``
are recognised by their symbolic forms from the rule table, so nothing is
re-derived); the numpy backend writes one matmul per group.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autodiff.compiler import symbolic
from autodiff.compiler.tape import Op, Tape


@dataclass
class Layer:
    """Neurons ``roots`` (op output slots) computing ``bias + sum_i weights[i] * xs[i]``."""

    xs: tuple[int, ...]
    roots: list[int] = field(default_factory=list)
    weights: list[list[int]] = field(default_factory=list)  # per root: a param slot per x
    biases: list[int] = field(default_factory=list)  # per root: a param slot (if any)


def _is(op: Op, fn: str) -> bool:
    """Is op's rule ``fn(x0, x1)`` (``add`` or ``mul`` of its two inputs, in order)?"""
    key = (op.rule, fn)
    found = _IS.get(key)
    if found is None:  # once per rule: a tape of 65k ops has a handful of rules
        form = symbolic.forms(op.rule).forward
        found = _IS[key] = (
            form is not None
            and form.fn == fn
            and [a.fn for a in form.args] == ["arg", "arg"]
            and [a.args[0] for a in form.args] == ["x0", "x1"]
        )
    return found


_IS: dict[tuple[object, str], bool] = {}


def find_layers(tape: Tape, vary: list[bool]) -> tuple[list[Layer], set[int]]:
    """(layers of at least two products each, op slots absorbed into them)."""
    producer = {op.out: op for op in tape.ops}
    uses = [0] * tape.n_slots
    for op in tape.ops:
        for s in op.inputs:
            uses[s] += 1
    is_param = [tape.first_param <= i < tape.first_const for i in range(tape.n_slots)]
    results = set(tape.outputs)

    def single_use_op(slot: int, fn: str) -> Op | None:
        op = producer.get(slot)
        ok = op is not None and vary[slot] and uses[slot] == 1 and slot not in results
        return op if ok and _is(op, fn) else None  # type: ignore[arg-type]

    absorbed_into: dict[int, int] = {}  # an inner + of a sum -> the sum it belongs to
    for op in tape.ops:
        if vary[op.out] and _is(op, "add"):
            for s in op.inputs:
                if single_use_op(s, "add") is not None:
                    absorbed_into[s] = op.out
    layers: dict[tuple, Layer] = {}
    absorbed: set[int] = set()
    for op in tape.ops:
        if not (vary[op.out] and _is(op, "add")) or op.out in absorbed_into:
            continue
        terms: list[int] = []
        inner: list[int] = []
        stack = [op.out]
        while stack:  # the leaves of the sum's tree, left to right
            top = producer[stack.pop()]
            inner.append(top.out)
            for s in reversed(top.inputs):
                if absorbed_into.get(s) == top.out:
                    stack.append(s)
                else:
                    terms.append(s)
        products, biases = [], []
        for t in terms:
            m = single_use_op(t, "mul")
            if m is not None and sum(is_param[s] for s in m.inputs) == 1:
                w, x = m.inputs if is_param[m.inputs[0]] else reversed(m.inputs)
                if vary[x]:
                    products.append((w, x, m.out))
                    continue
            if is_param[t]:
                biases.append(t)
                continue
            products = []
            break  # a term of another kind: leave this sum to the elementwise code
        if len(products) < 2 or len(biases) > 1:
            continue
        xs = tuple(x for _, x, _ in products)
        layer = layers.setdefault((xs, len(biases)), Layer(xs))
        layer.roots.append(op.out)
        layer.weights.append([w for w, _, _ in products])
        layer.biases.extend(biases)
        absorbed.update(m for _, _, m in products)
        absorbed.update(s for s in inner if s != op.out)
    return list(layers.values()), absorbed
