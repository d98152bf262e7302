"""The tape (a Wengert list): a traced function as numbered slots and ops.

``trace(f, *example_args)`` runs ``f`` once on Values and records what it did as a
flat program. Slots ``v0, v1, ...`` hold, in order, the inputs, the parameters
(leaf Values that existed before the trace), the constants (numbers made inside
``f``) and the op outputs, in the engine's topological order. Each op is
``v_out = rule(v_in...)``.

Reverse mode reads the same list backwards: for ``v7 = v3 * v5`` the chain rule
adds v3's share of g7, ``d v7/d v3 * g7 = v5 * g7``, to ``g3`` (g for gradient, the
adjoint of v). The share is the rule's own lambda, read symbolically
(``autodiff.compiler.symbolic``), never written again here. ``print(tape)`` shows
the forward list and the adjoint list: the textbook page of reverse mode.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Sequence
from typing import Any

from autodiff.compiler import guard, symbolic
from autodiff.compiler.guard import (
    Comparison,
    TracedInput,
    TracedParameter,
    TracedValue,
    TraceError,
    untrace,
)
from autodiff.compiler.structure import Structure, flatten, unflatten
from autodiff.core.engine import topological_order
from autodiff.core.modes import _trace_hook, enable_grad, state
from autodiff.core.rules import Rule
from autodiff.core.value import Value, _Constant

_LEAF_KINDS = (Value, _Constant)  # plain leaves (a traced kind is already marked)


class Op:
    """``v[out] = rule(v[inputs])``."""

    __slots__ = ("out", "rule", "inputs")

    def __init__(self, out: int, rule: Rule, inputs: tuple[int, ...]) -> None:
        self.out = out
        self.rule = rule
        self.inputs = inputs


class AdjointOp:
    """One op's step of the adjoint program: its shares, in input order.

    A share is a tuple ``(k, product, template)``: ``g[op.inputs[k]] += product``, the
    share of input ``k`` in the gradient g of the op's output. ``product`` is an
    expression (symbolic.Sym) over the placeholders x0, x1, out and g in the closed
    vocabulary (+ - * neg, the elementary functions, ``div``, the masks
    ``masked_unless_positive`` and ``masked_where_zero``), or None for a custom Rule
    whose lambdas cannot be read: then the share is ``vjp(g, ...)[k]`` (for a rule given
    by derivatives, ``derivatives(...)[k] * g``), a call of the rule's own lambda.
    ``template`` is ``product`` precomputed as text where it
    is plain arithmetic (symbolic.template). Tuples, not objects: a 65k-op tape has
    130k shares and the program is built on every compile (ops whose inputs all need
    a gradient share their rule's list)."""

    __slots__ = ("op", "shares")

    def __init__(self, op: Op, shares: list[tuple[int, Any, Any]]) -> None:
        self.op = op
        self.shares = shares


class Tape:
    """A traced program. Slots: ``inputs`` (flat argument order), ``params``, ``consts``,
    then one per op; ``output`` is the slot of f's result. ``len(tape)`` counts ops."""

    def __init__(
        self,
        structure: Structure,
        n_inputs: int,
        params: list[Value],
        consts: list[float],
        ops: list[Op],
        output: int,
        data: list[float],
        outputs: list[int] | None = None,
        out_structure: Structure = None,
    ) -> None:
        self.structure = structure
        self.n_inputs = n_inputs
        self.params = params
        self.consts = consts
        self.ops = ops
        self.output = output
        self.data = data  # every slot's value in the traced call
        # f's results: one slot (``output``) for a Value, or a (nested) list of slots
        self.outputs = [output] if outputs is None else outputs
        self.out_structure = out_structure  # None: f returned one Value
        # what f compared of its inputs' numbers (``if x.data > 0``): the trace holds for
        # inputs where each comes out the same (checked by compile's step on every call)
        self.comparisons: list[Comparison] = []
        self.n_slots = n_inputs + len(params) + len(consts) + len(ops)

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def first_param(self) -> int:
        return self.n_inputs

    @property
    def first_const(self) -> int:
        return self.n_inputs + len(self.params)

    def kind(self, slot: int) -> str:
        """ "input", "param", "const" or "op"."""
        if slot < self.n_inputs:
            return "input"
        if slot < self.first_const:
            return "param"
        if slot < self.first_const + len(self.consts):
            return "const"
        return "op"

    def needs_grad(self, wrt: str = "params") -> list[bool]:
        """For each slot: does a gradient wrt the params (or the inputs too) flow through it?"""
        first = self.n_inputs if wrt == "params" else 0
        needs = [first <= i < self.first_const for i in range(self.n_slots)]
        for op in self.ops:
            needs[op.out] = any(needs[i] for i in op.inputs)
        return needs

    def varying(self) -> list[bool]:
        """For each slot: does it depend on an input (per-example, in a batch)?"""
        vary = [i < self.n_inputs for i in range(self.n_slots)]
        for op in self.ops:
            vary[op.out] = any(vary[i] for i in op.inputs)
        return vary

    def adjoint_program(
        self, wrt: str = "params", needs: list[bool] | None = None
    ) -> list[AdjointOp]:
        """Reverse mode as a program, derived once from the tape: last op first, every op a
        gradient flows through, with one share per input that needs a gradient. The
        backends and the listing are lowerings of it (each writes the same expressions
        with its own table of how to compute a vocabulary function)."""
        if needs is None:
            needs = self.needs_grad(wrt)
        program = []
        of_rule: dict[Rule, list[Any]] = {}  # a rule's shares, looked up once per tape
        for op in reversed(self.ops):
            if not needs[op.out]:
                continue
            ins = op.inputs
            shares = of_rule.get(op.rule)
            if shares is None:
                shares = of_rule[op.rule] = symbolic.forms(op.rule).shares
            if not (needs[ins[0]] and (len(ins) == 1 or needs[ins[1]])):
                shares = [share for share in shares if needs[ins[share[0]]]]
            program.append(AdjointOp(op, shares))  # the rule's own list when all need it
        return program

    # the listings
    def forward_listing(self) -> list[str]:
        """One line per slot: ``v7 = v3 * v5   # *``."""
        lines = []
        for i in range(self.n_inputs):
            lines.append(f"v{i} = input {self._input_name(i)}")
        for k, p in enumerate(self.params):
            label = f" {p.label}" if p.label else ""
            lines.append(f"v{self.first_param + k} = param{label}  ({p.data!r})")
        for k, c in enumerate(self.consts):
            lines.append(f"v{self.first_const + k} = {symbolic.number(c)}")
        for op in self.ops:
            lines.append(f"{f'v{op.out} = {forward_text(op)}':<28}  # {op.rule.name}")
        if self.out_structure is None:
            lines.append(f"return v{self.output}")
        else:
            names = unflatten(self.out_structure, [f"v{s}" for s in self.outputs])
            lines.append(f"return {str(names).replace(chr(39), '')}")
        return lines

    def adjoint_listing(self) -> list[str]:
        """The chain rule, last op first: ``g3 += v5 * g7``; gradients start at 0."""
        lines = [f"g{self.output} = 1.0"]
        for step in self.adjoint_program(wrt="inputs"):
            op = step.op
            for share in step.shares:
                text = share_text(op, share)
                lines.append(f"{accumulate(op, share[0], text, 'g'):<28}  # {op.rule.name}")
        return lines

    def __str__(self) -> str:
        forward = self.forward_listing()
        adjoint = self.adjoint_listing()
        return "\n".join(
            [f"forward ({len(self)} ops)", *("  " + line for line in forward)]
            + ["adjoint (reverse mode)", *("  " + line for line in adjoint)]
        )

    def __repr__(self) -> str:
        return (
            f"Tape({len(self)} ops, {self.n_inputs} inputs, {len(self.params)} params, "
            f"{len(self.consts)} consts)"
        )

    def _input_name(self, i: int) -> str:
        index: list[str] = []

        def walk(s: Structure, path: str, counter: list[int]) -> bool:
            if s is None:
                if counter[0] == i:
                    index.append(path)
                    return True
                counter[0] += 1
                return False
            return any(walk(c, f"{path}[{j}]", counter) for j, c in enumerate(s))

        walk(self.structure, "args", [0])
        return index[0] if index else "?"


def _leaf_name(v: Value) -> str:
    return repr(v.label) if v.label else f"Value(data={v.data!r}) (unlabelled)"


def slot_names(op: Op, prefix: str = "v") -> dict[str, str]:
    """The rule's placeholders (x0, x1, out) named by the op's slots."""
    names = {f"x{k}": f"{prefix}{s}" for k, s in enumerate(op.inputs)}
    names["out"] = f"{prefix}{op.out}"
    return names


def forward_text(op: Op) -> str:
    form = symbolic.forms(op.rule).forward
    args = ", ".join(f"v{s}" for s in op.inputs)
    if form is None:
        return f"{op.rule.name}({args})"
    return symbolic.render(form, slot_names(op))


def share_text(op: Op, share: tuple[int, Any, Any]) -> str:
    """The listing's lowering of a Share: its expression with vocabulary functions as
    calls (``v5 * g7``, ``(1.0 - v7 * v7) * g7``, ``g7``, ``div(g7, v2)`` for a dividing
    share, ``masked_unless_positive(v0, g7)`` for a masking one): the same
    expression the backends compute, so what is printed is what runs."""
    k, product, _ = share
    g = f"g{op.out}"
    if product is None:
        args = ", ".join(f"v{s}" for s in (*op.inputs, op.out))
        if not op.rule.multiplies:
            return f"vjp_{op.rule.name}({g}, {args})[{k}]"
        return f"d{op.rule.name}[{k}]({args}) * {g}"
    names: dict[str, Any] = dict(slot_names(op), g=g)
    return symbolic.render(product, names)


def accumulate(op: Op, k: int, product: str, prefix: str) -> str:
    """``g3 += v5 * g7`` (``g3 -= g7`` for a product ``-g7``)."""
    target, source = f"{prefix}{op.inputs[k]}", f"{prefix}{op.out}"
    if product == f"-{source}":
        return f"{target} -= {source}"
    return f"{target} += {product}"


def trace(
    f: Callable[..., Any],
    *example_args: Any,
    params: Sequence[Value] | None = None,
    outputs: bool = False,
) -> Tape:
    """Run ``f`` once on Values made from ``example_args`` and return its Tape.

    ``example_args`` are numbers or (nested) lists of numbers. ``params`` lists the
    parameters (each counted once); by default every leaf Value ``f`` reaches that
    existed before the trace. ``outputs=True`` lets f return a (nested) list of Values
    (a forward pass: ``tape.outputs``, ``tape.out_structure``). Raises TraceError where
    replaying the trace would be wrong (see autodiff.compiler.guard): ``f`` reads a traced
    number, reaches a leaf outside ``params``, draws from ``random`` or runs an op under
    no_grad on a traced value; the first such refusal fails the trace even if ``f`` caught
    it.
    """
    if not callable(f):
        raise TypeError(f"trace() expected a function, got {type(f).__name__}")
    if state.tracer is not None:
        raise TraceError("trace() called while already tracing")
    structure, flat = flatten(list(example_args), "trace() argument")
    listed = None if params is None else _unique_params(params)
    inputs = [Value(x) for x in flat]
    made: dict[int, Value] = {}  # leaves made during the trace (constants), by id
    traced: list[Value] = []
    marked: list[tuple[Value, type]] = []  # leaves whose kind changed for the trace

    def mark(v: Value, kind: type) -> None:
        marked.append((v, type(v)))
        v.__class__ = kind

    def hook(out: Value, rule: Rule | None, x: Value | None, y: Value | None) -> None:
        if rule is None:
            made[id(out)] = out
            return
        if not state.recording:
            if any(v is not None and id(v) not in made for v in (x, y)):
                guard.refuse(
                    f"an op under no_grad() at {guard.where_in_user_code()} uses a traced "
                    "value; its result would be frozen into the trace as a constant"
                )
            made[id(out)] = out
            return
        out.__class__ = TracedValue
        traced.append(out)
        if listed is None:  # parameters are the old leaves f reaches: mark them as reached
            for v in (x, y):
                if v is not None and type(v) in _LEAF_KINDS and id(v) not in made:
                    mark(v, TracedParameter)

    for v in inputs:
        mark(v, TracedInput)
    for p in listed or ():
        mark(p, TracedParameter)
    random_before = _random_states()
    guard.begin(inputs)
    try:
        with enable_grad(), _trace_hook(hook):  # a trace records, even if called under no_grad
            result = f(*unflatten(structure, inputs))
    finally:
        poison, comparisons = guard.end()
        untrace(traced)
        for v, kind in reversed(marked):
            v.__class__ = kind
    if poison is not None:
        raise TraceError(f"{poison} (the traced function caught this error and went on)")
    if _random_states() != random_before:
        raise TraceError(
            "the traced function drew random numbers (the random module or numpy.random's "
            "global generator): the trace would replay the same draws on every call; draw "
            "them outside and pass them as arguments"
        )
    if outputs and not isinstance(result, Value):
        out_structure, results = _flatten_values(result)
        tape = _build_tape(results, structure, inputs, made, listed, strict=True)
        tape.out_structure = out_structure
    elif not isinstance(result, Value):
        raise TraceError(f"the traced function must return a Value, got {type(result).__name__}")
    else:
        tape = _build_tape(result, structure, inputs, made, listed, strict=True)
    tape.comparisons = comparisons
    return tape


def _random_states() -> tuple[Any, ...]:
    """The global random generators' states (numpy's only if numpy is imported already):
    compared before and after a trace, they tell whether f drew from them."""
    states: list[Any] = [random.getstate()]
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        _, keys, position, *_ = numpy.random.get_state()
        states.append((keys.tobytes(), position))
    return tuple(states)


def _unique_params(params: Sequence[Value]) -> list[Value]:
    """``params`` as a list of leaf Values, each once (``[w, w]`` is ``[w]``)."""
    if isinstance(params, Value) or not isinstance(params, Sequence):
        raise TypeError(f"params expected a list of Values, got {type(params).__name__}")
    unique: dict[int, Value] = {}
    for p in params:
        if not isinstance(p, Value) or not p.is_leaf:
            raise TypeError(f"params expected leaf Values, got {p!r}")
        unique.setdefault(id(p), p)
    return list(unique.values())


def _flatten_values(result: Any) -> tuple[Structure, list[Value]]:
    """(structure, Values) of f's (nested) list of results; TraceError for anything else."""
    found: list[Value] = []

    def walk(x: Any, where: str) -> Structure:
        if isinstance(x, (list, tuple)):
            return tuple(walk(item, f"{where}[{i}]") for i, item in enumerate(x))
        if not isinstance(x, Value):
            raise TraceError(
                f"the traced function must return a Value or a list of Values; "
                f"{where} is {type(x).__name__}"
            )
        found.append(x)
        return None

    structure = walk(result, "result")
    if not found:
        raise TraceError("the traced function returned an empty list; expected Values")
    return structure, found


def tape_of(root: Value, params: Sequence[Value] | None = None) -> Tape:
    """The Tape of a graph already built (no inputs; its leaves are ``params`` or constants).

    Nothing is replayed from user code here, so no guard is needed: the tape is the
    graph, flattened. ``params=None`` makes every leaf a parameter."""
    if not isinstance(root, Value):
        raise TypeError(f"tape_of() expected a Value, got {type(root).__name__}")
    return _build_tape(root, (), [], {}, None if params is None else _unique_params(params))


def _build_tape(
    root: Value | list[Value],
    structure: Structure,
    inputs: list[Value],
    made: dict[int, Value],
    params: list[Value] | None,
    strict: bool = False,
) -> Tape:
    """The Tape of the graph under ``root`` (or under each of several roots). Leaves that
    are not inputs are the listed ``params`` (all of them, by default) or constants: those
    made in ``f``, and with ``strict`` False those outside ``params``; with ``strict`` such
    a leaf is refused."""
    roots = root if isinstance(root, list) else [root]
    order = topological_order(roots[0])
    if len(roots) > 1:  # several results: each root's order, skipping what is placed
        placed = {id(v) for v in order}
        for r in roots[1:]:
            for v in topological_order(r):
                if id(v) not in placed:
                    placed.add(id(v))
                    order.append(v)
    slot: dict[int, int] = {id(v): i for i, v in enumerate(inputs)}
    listed = None if params is None else {id(p) for p in params}
    param_list: list[Value] = list(params) if params is not None else []
    consts: list[Value] = []
    for v in order:
        if v._rule is not None or id(v) in slot:
            continue
        if id(v) in made:
            consts.append(v)
        elif listed is None:
            param_list.append(v)
        elif id(v) not in listed:
            if strict:
                raise TraceError(
                    f"the traced function reaches the Value {_leaf_name(v)}, which is not in "
                    "params=: the trace would freeze its current number; list it in params "
                    "(then it gets a gradient), or pass it as an argument or a plain number"
                )
            consts.append(v)
    for k, p in enumerate(param_list):
        slot.setdefault(id(p), len(inputs) + k)
    first_const = len(inputs) + len(param_list)
    for k, c in enumerate(consts):
        slot[id(c)] = first_const + k
    ops: list[Op] = []
    data = [v.data for v in inputs] + [p.data for p in param_list] + [c.data for c in consts]
    for v in order:
        if v._rule is None:
            continue
        out = len(data)
        slot[id(v)] = out
        ops.append(Op(out, v._rule, tuple(slot[id(u)] for u in v._prev)))
        data.append(v.data)
    return Tape(
        structure,
        len(inputs),
        param_list,
        [c.data for c in consts],
        ops,
        slot[id(roots[-1])],
        data,
        [slot[id(r)] for r in roots],
    )
