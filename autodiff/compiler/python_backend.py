"""The Python backend: a tape as straight-line Python source, compiled once.

Forward: one line per op, ``v7 = v3 * v5``. Backward: the adjoint list,
``g3 += v5 * g7``, last op first, only for slots a parameter's gradient flows
through. Every float operation is the one the eager engine performs, in the same
order (the same vocabulary functions on floats, the same ``dx * g`` products, the
same accumulation order), so loss and gradients are bit-identical to
``f(...).backward()``. (An intermediate gradient starts as its first term rather
than ``0.0 + term``; that can only change the sign of a zero, which the parameters'
gradients, which start at their current ``.grad``, do not see.)

With ``batch``, the ops that depend on no input (a regulariser) run once, before a
loop over the examples; their gradients are summed over the loop, then
backpropagated once.
"""

from __future__ import annotations

import linecache
import math
import re
import weakref
from collections.abc import Callable
from typing import Any

from autodiff.compiler import symbolic
from autodiff.compiler.tape import Op, Tape
from autodiff.core import floats, rules

# How each vocabulary function is written in Python: the one place to add a function.
# A function not listed is called by name (floats.X, else rules.X): always exact.
INLINE: dict[str, str] = {
    "div": "({0} / {1} if {1} else _f_div({0}, {1}))",  # floats.div's own first branch
    "relu": "(0.0 if {0} < 0.0 else {0})",  # floats.relu: -0.0 and nan pass
    "abs": "abs({0})",
    "masked_unless_positive": "(0.0 if {0} <= 0.0 else {1})",
    "masked_where_zero": "(0.0 if {0} == 0.0 else {1})",
}


def _float_function(name: str) -> Callable[..., Any]:
    fn = getattr(floats, name, None)
    if callable(fn):
        return fn
    return symbolic.VOCABULARY.get(name) or getattr(rules, name)


def _call(fn: str, args: list[str]) -> str:
    if fn == "div" and _nonzero_number(args[1]):
        return f"({_atom(args[0])} / {args[1]})"  # floats.div's own first branch
    template = INLINE.get(fn)
    if template is not None and all(_atom(a) == a for a in args):
        return template.format(*args)
    # an expression used twice by a template would be computed twice: call instead
    return f"_f_{fn}({', '.join(args)})"


def _nonzero_number(text: str) -> bool:
    try:
        return float(text) != 0.0
    except ValueError:
        return False


_MAX_INLINE = 24  # ops folded into one expression (deeper nesting slows Python's compiler)


class _Writer:
    """Source lines of one replay function, and the objects it refers to by name.

    Two shortcuts keep the source short (Python compiles a 65k-op step in about a
    second per 100k lines) without changing a single float operation:
    a value used once and never by the backward pass is written into its user's
    expression (``v9 = v1 * v2 + v3 * v4``), and a gradient that is a copy of
    another (the inputs of ``+``) is that other variable, not a new line."""

    def __init__(
        self,
        tape: Tape,
        vary: list[bool],
        needs: list[bool],
        vector_call: Callable[[Op, str, list[str]], str] | None = None,
    ) -> None:
        self.tape = tape
        # vector_call: how the numpy backend writes a call in an op over the batch
        self.vector = vary if vector_call is not None else [False] * tape.n_slots
        self.vector_call = vector_call
        self.vary = vary
        self.needs = needs
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"inf": floats.inf, "nan": floats.nan}
        for name in symbolic.VOCABULARY:
            self.namespace[f"_f_{name}"] = _float_function(name)
        self.names: dict[int, Any] = {}  # slot -> text, or (text, precedence) if inlined
        for k, c in enumerate(tape.consts):
            self.names[tape.first_const + k] = symbolic.number(c)
        self.size: dict[int, int] = {}  # ops folded into an inlined slot's text
        self.alias: dict[int, str] = {}  # gradient slot -> the variable that holds it
        self.foldable = self._foldable()
        # reverse mode, derived once from the tape: the backward lines lower its steps
        program = tape.adjoint_program(needs=needs) if any(needs) else []
        self.steps = {step.op.out: step for step in program}

    def _foldable(self) -> list[bool]:
        """Slots used by exactly one op (of the same section) and never by the backward pass."""
        tape, needs, vary = self.tape, self.needs, self.vary
        uses = [0] * tape.n_slots
        user_varies = [False] * tape.n_slots
        kept = [False] * tape.n_slots
        for s in tape.outputs:
            kept[s] = True
        for op in tape.ops:
            for s in op.inputs:
                uses[s] += 1
                user_varies[s] = vary[op.out]
            forms = symbolic.forms(op.rule)
            if forms.forward is None:
                kept[op.out] = True
            if not needs[op.out]:
                continue
            slots = (*op.inputs, op.out)  # placeholders x0, (x1,) out by position
            for k, s in enumerate(op.inputs):
                if not needs[s]:
                    continue
                if forms.products is None:
                    for t in slots:
                        kept[t] = True
                else:
                    for position in forms.reads[k]:
                        kept[slots[position]] = True
        first_op = tape.first_const + len(tape.consts)
        return [
            i >= first_op and uses[i] == 1 and not kept[i] and user_varies[i] == vary[i]
            for i in range(tape.n_slots)
        ]

    def v(self, slot: int) -> Any:
        return self.names.get(slot, f"v{slot}")

    def g(self, slot: int) -> str:
        return self.alias.get(slot, f"g{slot}")

    def emit(self, line: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + line)

    def calls(self, op: Op) -> Callable[[str, list[str]], str]:
        if self.vector[op.out]:
            vector_call = self.vector_call
            assert vector_call is not None
            return lambda fn, args: vector_call(op, fn, args)
        return _call

    def forward(self, op: Op, indent: int) -> None:
        forms = symbolic.forms(op.rule)
        form = forms.forward
        if form is None and self.vector[op.out]:
            self.vector_call(op, "", [])  # type: ignore[misc]  # raises, naming the rule
        if form is None:
            fn = f"_F{op.out}"
            self.namespace[fn] = op.rule.forward
            args = ", ".join(self._text(s) for s in op.inputs)
            self.emit(f"v{op.out} = float({fn}({args}))", indent)
            return
        if forms.forward_template is not None:
            text, prec = symbolic.fill(forms.forward_template, self._names(op))
        else:
            text, prec = symbolic.render_with_precedence(form, self._names(op), self.calls(op))
        if self.vector[op.out] and not self._reads_vector(op, form):
            # a forward that is a constant of the batch (x ** 0.0): one entry per example
            text, prec = f"_full(n, {text})", 4
        size = 1 + sum(self.size.get(s, 0) for s in op.inputs)
        if self.foldable[op.out] and size < _MAX_INLINE:
            self.names[op.out] = (text, prec)
            self.size[op.out] = size
        else:
            self.emit(f"v{op.out} = {text}", indent)

    def backward(self, op: Op, started: set[int], indent: int) -> None:
        """The adjoint lines of ``op`` (its step of the tape's adjoint program), lowered to
        Python; ``started`` holds slots whose gradient exists."""
        step = self.steps[op.out]
        g = self.g(op.out)
        products: dict[int, str] = {}
        if step.shares[0][1] is None:  # a custom Rule's lambdas, called as they are
            if self.vector[op.out]:
                self.vector_call(op, "", [])  # type: ignore[misc]  # raises, naming the rule
            fn = f"_D{op.out}"
            self.namespace[fn] = op.rule.vjp
            args = ", ".join(self._text(s) for s in (*op.inputs, op.out))
            self.emit(f"_d = {fn}({g}, {args})", indent)
            products = {k: f"_d[{k}]" for k, _, _ in step.shares}
        else:
            names = self._names(op)
            names["g"] = g  # a name: an atom
            for k, product, template in step.shares:
                if template is not None:
                    text = symbolic.fill(template, names)[0]
                else:
                    text = symbolic.render(product, names, self.calls(op))
                if self.vector[op.out] and "g" not in symbolic.placeholders(product):
                    text = f"_full(n, {text})"  # a masked 0 is still one entry per example
                products[k] = text
        for k, _, _ in step.shares:
            slot = op.inputs[k]
            product = products[k]
            if self.vector[op.out] and not self.vector[slot]:
                # an array over the batch flows into a per-call value: sum over the batch
                product = f"_sum({product})"
            if self.vector[slot] and slot in started and slot not in self.alias:
                # arrays are shared by aliases: never update one in place
                self.emit(f"g{slot} = g{slot} + {product}", indent)
                continue
            if slot in self.alias:  # a copy so far: now a sum of its own
                self.emit(f"g{slot} = {self.alias.pop(slot)} + {product}", indent)
            elif slot not in started:
                started.add(slot)
                if product == g:
                    self.alias[slot] = g
                else:
                    self.emit(f"g{slot} = {product}", indent)
            elif product == f"-{g}":
                self.emit(f"g{slot} -= {g}", indent)
            else:
                self.emit(f"g{slot} += {product}", indent)

    def _reads_vector(self, op: Op, form: symbolic.Sym) -> bool:
        """Does ``form`` read an input of ``op`` that is an array over the batch?"""
        return any(self.vector[op.inputs[int(name[1:])]] for name in symbolic.placeholders(form))

    def _text(self, slot: int) -> str:
        name = self.v(slot)
        return name[0] if isinstance(name, tuple) else name

    def _names(self, op: Op) -> dict[str, Any]:
        get, ins = self.names.get, op.inputs
        names: dict[str, Any] = {"x0": get(ins[0]) or f"v{ins[0]}"}
        if len(ins) == 2:
            names["x1"] = get(ins[1]) or f"v{ins[1]}"
        names["out"] = get(op.out) or f"v{op.out}"
        return names


def _atom(text: str) -> str:
    """``text`` as one operand of ``*``: in parentheses unless it is a name or a call."""
    return text if text.replace("_", "a").replace(".", "a").isalnum() else f"({text})"


def _unpack(targets: list[str], source: str) -> str:
    if len(targets) == 1:
        return f"{targets[0]}, = {source}"
    return f"{', '.join(targets)} = {source}"


def _finite(*xs: float) -> bool:
    return all(map(math.isfinite, xs))


def all_finite(params: list[Any]) -> bool:
    """Every parameter's .grad is a finite number (before a replay writes them)."""
    return all(math.isfinite(p.grad) for p in params)


class StandIn:
    """What a replay reads and writes of a parameter, ``.data`` and ``.grad`` (from 0.0),
    without a Value: replays at parameter values given as an array (value_and_grad)."""

    __slots__ = ("data", "grad")

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad = 0.0


class Unhoisted:
    """A batched replay that runs every op once per example (built on first use): the
    fallback of a hoisted replay whose summed gradients left the finite numbers."""

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.replay: Callable[..., float] | None = None

    def __call__(self, X: list[list[float]], P: list[Any], seed: float) -> float:
        if self.replay is None:
            self.replay, _ = build(self.tape, batch=True, hoist=False)
        return self.replay(X, P, seed)


def generate(tape: Tape, batch: bool, hoist: bool = True) -> tuple[str, dict[str, Any]]:
    """(source, namespace) of ``replay(X, P, seed)``.

    Without batch, ``X`` is the flat list of inputs; with batch, a list of such lists,
    one per example, and ``seed`` weighs each example's loss (1/n for a mean). With
    batch, the ops that depend on no input run once and their gradients are summed
    over the examples before they are backpropagated (``hoist``); if such a sum is
    not finite the call is run again with every op per example (``Unhoisted``)."""
    needs = tape.needs_grad()
    vary = tape.varying() if batch else [False] * tape.n_slots
    if batch and not hoist:  # every op per example, as eager: only leaves are shared
        first_op = tape.first_const + len(tape.consts)
        vary = [v or i >= first_op for i, v in enumerate(vary)]
    w = _Writer(tape, vary, needs)
    params = list(range(tape.first_param, tape.first_const))
    graded = [s for s in params if needs[s]]
    w.lines.append("def replay(X, P, seed):")
    if params:
        w.emit(_unpack([f"v{s}" for s in params], "[p.data for p in P]"))
    if tape.n_inputs and not batch:
        w.emit(_unpack([f"v{i}" for i in range(tape.n_inputs)], "X"))
    fixed = [op for op in tape.ops if not vary[op.out]]
    per_example = [op for op in tape.ops if vary[op.out]]
    for op in fixed:
        w.forward(op, 1)
    started: set[int] = set()
    if graded:
        w.emit(_unpack([f"g{s}" for s in params], "[p.grad for p in P]"))
        started.update(graded)
    out = tape.output
    if batch:
        # gradients of fixed slots are sums over the examples
        feeds = {s for op in per_example for s in op.inputs if not vary[s] and needs[s]}
        if needs[out] and not vary[out]:
            feeds.add(out)
        for s in sorted(feeds - started):
            w.emit(f"g{s} = 0.0")
            started.add(s)
        w.emit("total = 0.0")
        if tape.n_inputs:
            w.emit(f"for {_unpack([f'v{i}' for i in range(tape.n_inputs)], '_x')[:-5]} in X:")
        else:
            w.emit("for _x in X:")
        for op in per_example:
            w.forward(op, 2)
        w.emit(f"total += {w._text(out)}", 2)
        if needs[out]:
            w.emit(f"g{out} = seed" if vary[out] else f"g{out} += seed", 2)
        inner = set(started)
        for op in reversed(per_example):
            if needs[op.out]:
                w.backward(op, inner, 2)
        w.alias.clear()  # copies made inside the loop end with it
        hoisted = sorted(feeds - set(graded))
        if hoisted:
            # sum_i d * g_i = d * sum_i g_i, but the sum alone may overflow where eager's
            # products do not (x * (w * 1e-10) over x = 1e308, 1e308): then run unhoisted
            w.namespace["_finite"] = _finite
            w.namespace["_unhoisted"] = Unhoisted(tape)
            w.emit(f"if not _finite({', '.join(f'g{s}' for s in hoisted)}):")
            w.emit("return _unhoisted(X, P, seed)", 2)
    else:
        hoisted = []
    if not batch and needs[out]:
        w.emit(f"g{out} += seed" if out in started else f"g{out} = seed")
        started.add(out)
    for op in reversed(fixed):
        if needs[op.out]:
            w.backward(op, started, 1)
    if batch and hoisted and graded:
        # a sum moved before a division or a log can still end non-finite where eager's
        # per-example order does not (0/0 = nan in one example, -1e-310/0 = -inf summed):
        # a gradient that leaves the finite numbers here is recomputed in eager's order
        w.emit(f"if not _finite({', '.join(f'g{s}' for s in graded)}) and _all_finite(P):")
        w.emit("return _unhoisted(X, P, seed)", 2)
        w.namespace["_all_finite"] = all_finite
    for s in graded:
        w.emit(f"P[{s - tape.first_param}].grad = g{s}")
    w.emit("return total" if batch else f"return {w._text(out)}")
    return "\n".join(w.lines) + "\n", w.namespace


def results_text(tape: Tape, text: Callable[[int], str]) -> str:
    """f's results as a Python expression: ``v9``, or nested lists ``[v9, [v10, v11]]``."""
    if tape.out_structure is None:
        return text(tape.output)
    slots = iter(tape.outputs)

    def build(s: Any) -> str:
        return text(next(slots)) if s is None else f"[{', '.join(build(c) for c in s)}]"

    return build(tape.out_structure)


def generate_forward(tape: Tape, batch: bool) -> tuple[str, dict[str, Any]]:
    """(source, namespace) of ``forward(X, P)``: f's results as floats, no gradients.

    Without batch, ``X`` is the flat list of inputs; with batch, a list of such lists
    and the result is a list with one result per example."""
    vary = tape.varying() if batch else [False] * tape.n_slots
    w = _Writer(tape, vary, [False] * tape.n_slots)
    params = list(range(tape.first_param, tape.first_const))
    w.lines.append("def forward(X, P):")
    if params:
        w.emit(_unpack([f"v{s}" for s in params], "[p.data for p in P]"))
    if tape.n_inputs and not batch:
        w.emit(_unpack([f"v{i}" for i in range(tape.n_inputs)], "X"))
    for op in tape.ops:
        if not vary[op.out]:
            w.forward(op, 1)
    if not batch:
        w.emit(f"return {results_text(tape, w._text)}")
        return "\n".join(w.lines) + "\n", w.namespace
    w.emit("results = []")
    if tape.n_inputs:
        w.emit(f"for {_unpack([f'v{i}' for i in range(tape.n_inputs)], '_x')[:-5]} in X:")
    else:
        w.emit("for _x in X:")
    for op in tape.ops:
        if vary[op.out]:
            w.forward(op, 2)
    w.emit(f"results.append({results_text(tape, w._text)})", 2)
    w.emit("return results")
    return "\n".join(w.lines) + "\n", w.namespace


_count = [0]


def build(
    tape: Tape, batch: bool, grad: bool = True, hoist: bool = True
) -> tuple[Callable[..., Any], str]:
    """The compiled replay function (``forward`` when not ``grad``) and its source."""
    if grad:
        source, namespace = generate(tape, batch, hoist)
    else:
        source, namespace = generate_forward(tape, batch)
    name = "replay" if grad else "forward"
    parts = [source]
    if not batch and source.count("\n") > CHUNK_LINES:
        parts = chunks(source, CHUNK_LINES)
    return load(parts, namespace, name, "compiled step"), "".join(parts)


# Python's compiler holds the syntax tree of a whole function while it compiles it (about
# 3 KB per line): a function longer than this is compiled as a chain of shorter ones.
CHUNK_LINES = 150_000

_NAME = re.compile(r"\b(?:[vg]\d+|_d)\b")


def chunks(source: str, size: int) -> list[str]:
    """A straight-line ``def f(X, P, seed):`` (no loop) as functions of ``size`` lines
    each, run in turn by ``f``: the same statements in the same order, so the same
    floats; the variables that later parts read are handed on as one tuple."""
    header, *body = source.splitlines()
    signature = header[header.index("(") : header.index(")") + 1]
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    defined_in: list[set[str]] = []
    used_in: list[set[str]] = []
    for piece in pieces:
        defined, used = set(), set()
        for line in piece:
            target, sep, value = line.partition(" = ")
            if sep and "[" not in target and "." not in target:
                defined.update(t.strip() for t in target.split(",") if t.strip())
            used.update(_NAME.findall(value if sep else line))
            if " += " in line or " -= " in line:
                used.update(_NAME.findall(line))
                defined.update(_NAME.findall(line.split("=")[0]))
        defined_in.append(defined)
        used_in.append(used)
    parts, carried = [], []  # carried: the names handed from one part to the next
    later_uses: list[set[str]] = [set() for _ in pieces]
    for i in range(len(pieces) - 2, -1, -1):
        later_uses[i] = later_uses[i + 1] | used_in[i + 1]
    known: set[str] = set()
    for i, piece in enumerate(pieces):
        lines = [f"def _part{i}{signature[:-1]}, _S):"]
        if carried:
            lines.append(f"    {', '.join(carried)}, = _S")
        lines.extend(piece)
        known |= defined_in[i]
        if i < len(pieces) - 1:
            carried = sorted(known & later_uses[i])
            lines.append(f"    return ({', '.join(carried)}{',' if carried else ''})")
        parts.append("\n".join(lines) + "\n")
    args = signature[1:-1]
    main = [header, "    _S = ()"]
    for i in range(len(pieces) - 1):
        main.append(f"    _S = _part{i}({args}, _S)")
    main.append(f"    return _part{len(pieces) - 1}({args}, _S)")
    parts.append("\n".join(main) + "\n")
    return parts


def load(
    source: str | list[str], namespace: dict[str, Any], name: str, kind: str
) -> Callable[..., Any]:
    """Compile ``source`` (or its parts, one by one), run it in ``namespace`` and return
    the function ``name``.

    Each source is put in ``linecache`` under a numbered file name, so tracebacks show
    the generated line, and taken out when the function is collected (a compiled step
    that is dropped leaves nothing behind)."""
    filenames = []
    for part in [source] if isinstance(source, str) else source:
        _count[0] += 1
        filename = f"<autodiff {kind} {_count[0]}>"
        exec(compile(part, filename, "exec"), namespace)
        linecache.cache[filename] = (len(part), None, part.splitlines(True), filename)
        filenames.append(filename)
    fn = namespace[name]
    for filename in filenames:
        weakref.finalize(fn, linecache.cache.pop, filename, None)
    return fn
