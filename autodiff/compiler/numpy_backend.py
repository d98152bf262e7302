"""The numpy backend: one per-example tape replayed over a whole batch at once.

Every slot that depends on an input becomes an array with one entry per example;
slots that do not (parameters, a regulariser) stay Python floats, computed once per
call by the Python backend's code. The generated code is the Python backend's,
with each vocabulary function written as its numpy counterpart below (the
branching ones as ``where`` selections) and each gradient that flows from the
batch into a per-call value summed over the batch:
``d/dw sum_i f(x_i, w) = sum_i (df/dw)_i``. Neurons that sum ``w * x`` over the
same x's become one matrix product per layer (``autodiff.compiler.fusion``).

Results agree with the eager engine up to rounding: sums run in another order
and numpy's ``exp``/``log``/``tanh``/``power`` may differ from ``math``'s in the
last bit. A rule numpy cannot run (a custom Rule whose lambdas cannot be read
symbolically, or a vocabulary function missing below) raises
``NumpyUnsupported`` naming it; use ``backend="python"`` for it.

Needs the optional extra ``fast`` (``pip install "autodiff-scalar[fast]"``).
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Callable
from typing import Any

try:
    import numpy as np
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'backend="numpy" needs numpy: pip install "autodiff-scalar[fast]" (or use backend="python")'
    ) from exc

from autodiff.compiler import python_backend, symbolic
from autodiff.compiler.fusion import Layer, find_layers
from autodiff.compiler.guard import TraceError
from autodiff.compiler.structure import Structure, as_lists, check, unflatten
from autodiff.compiler.tape import Op, Tape


class NumpyUnsupported(TraceError):
    """The tape uses an op the numpy backend cannot run."""


def _sigmoid(x: Any) -> Any:
    e = np.exp(-np.abs(x))  # never overflows: the two stable forms of floats.sigmoid,
    return np.where(x >= 0.0, 1.0, e) / (1.0 + e)  # 1 / (1 + e) and e / (1 + e)


# The vocabulary in numpy, the one place to add a function (IEEE results, no warnings:
# replays run under np.errstate(all="ignore")).
NUMPY: dict[str, Callable[..., Any]] = {
    "div": np.divide,
    "power": np.power,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "abs": np.abs,
    "sign": lambda x: np.where(x > 0.0, 1.0, np.where(x < 0.0, -1.0, 0.0)),  # 0 at ±0, nan
    "sigmoid": _sigmoid,
    "relu": lambda x: np.where(x < 0.0, 0.0, x),  # -0.0 and nan pass, as floats.relu
    "logaddexp": np.logaddexp,  # floats.logaddexp's formula and edges
    "exponent_slope": lambda a, b, out: np.where((a == 0.0) & (b >= 0.0), 0.0, out * np.log(a)),
    # the masks: exactly 0.0 where they block, whatever g is
    "masked_unless_positive": lambda x, g: np.where(x <= 0.0, 0.0, g),
    "masked_where_zero": lambda k, y: np.where(k == 0.0, 0.0, y),
}


def _vector_call(op: Op, fn: str, args: list[str]) -> str:
    forms = symbolic.forms(op.rule)
    if forms.forward is None or forms.products is None:
        raise NumpyUnsupported(
            f"op {op.rule.name!r} cannot run in the numpy backend ({forms.why}); "
            'use backend="python"'
        )
    if fn in NUMPY:
        return f"_n_{fn}({', '.join(args)})"
    # no numpy lowering: the float function itself, entry by entry (exact, slower)
    return f"_each(_f_{fn}, {', '.join(args)})"


_UFUNCS: dict[Any, Any] = {}


def _each(fn: Callable[..., float], *args: Any) -> Any:
    """``fn`` on floats applied entry by entry over arrays (np.frompyfunc): a vocabulary
    function numpy has no lowering for runs exactly, as the Python backend runs it."""
    ufunc = _UFUNCS.get(fn)
    if ufunc is None:
        ufunc = _UFUNCS[fn] = np.frompyfunc(fn, len(args), 1)
    return np.asarray(ufunc(*args), dtype=float)


def _shape(structure: Structure, where: str) -> tuple[int, ...]:
    """The array shape of one example's argument (its nested lists must be regular)."""
    if structure is None:
        return ()
    shapes = {_shape(c, where) for c in structure}
    if len(shapes) != 1:
        raise NumpyUnsupported(f"{where} is ragged; the numpy backend needs regular lists")
    return (len(structure), *shapes.pop())


class _Inputs:
    """Arguments (each a list of examples) as one matrix per argument: a row per example,
    a column per input slot of the argument (its numbers flattened in order)."""

    def __init__(self, structure: Structure) -> None:
        self.shapes = [_shape(s, f"argument {i}") for i, s in enumerate(structure)]
        self.widths = [math.prod(shape) for shape in self.shapes]

    def __call__(self, args: Any) -> list[Any]:
        if len(args) != len(self.shapes):
            raise TraceError(f"expected {len(self.shapes)} arguments, got {len(args)}")
        matrices: list[Any] = []
        for i, (a, shape) in enumerate(zip(args, self.shapes, strict=True)):
            try:
                arr = np.asarray(a, dtype=float)
            except (ValueError, TypeError):
                raise TraceError(
                    f"argument {i} has a different structure than the traced call "
                    "(or is not numbers)"
                ) from None
            if arr.shape[1:] != shape:
                raise TraceError(
                    f"argument {i} has a different structure than the traced call: each "
                    f"example should have shape {shape}, got {arr.shape[1:]}"
                )
            # C order, as stacking the columns gave: BLAS rounds a product of another
            # layout differently, and the floats would depend on how the caller's array lies
            matrices.append(np.ascontiguousarray(arr.reshape(len(arr), -1)))
        return matrices


def generate(tape: Tape, grad: bool = True, arrays: bool = False) -> tuple[str, dict[str, Any]]:
    """(source, namespace) of ``replay(A, P, seed)`` over a batch; returns the sum.

    Without ``grad``: ``forward(A, P)``, f's results for each example (a list).

    With ``arrays`` the parameters come as one float64 array ``theta`` (in the tape's
    order) instead of Values, and no Value is read or written: ``replay(A, theta, seed)``
    returns ``(sum, gradient array)`` (the gradients of this call alone, as after
    ``zero_grad``), ``forward(A, theta)`` an array with a row per example. The code
    is the same as with Values but for where parameters come from and go to, so the
    floats are the same."""
    needs = tape.needs_grad() if grad else [False] * tape.n_slots
    vary = tape.varying()
    w = python_backend._Writer(tape, vary, needs, vector_call=_vector_call)
    w.namespace.update({f"_n_{name}": fn for name, fn in NUMPY.items()}, _each=_each)
    w.namespace.update(_sum=lambda a: float(np.add.reduce(a)), _full=np.full, _stack=np.stack)
    w.namespace.update(_inputs=_Inputs(tape.structure), _array=np.array, _zeros=np.zeros)
    layers, absorbed = _layers_of(tape, vary)
    first_root = {min(layer.roots): (k, layer) for k, layer in enumerate(layers)}
    roots = {r for layer in layers for r in layer.roots}
    activations = _activations(tape, vary, layers)
    w.matrix, w.column = {}, {}  # slot -> the matrix (and column) holding its value
    w.width = {}  # matrix name -> its number of columns
    grouped = {a for group in activations.values() for a in group[1]}
    for layer in layers:
        for x in layer.xs:
            w.foldable[x] = False  # a layer's inputs are stacked into a matrix by name
    params = list(range(tape.first_param, tape.first_const))
    graded = [s for s in params if needs[s]]
    out = tape.output
    P = "theta" if arrays else "P"
    w.lines.append(f"def replay(A, {P}, seed):" if grad else f"def forward(A, {P}):")
    if tape.n_inputs:
        _read_inputs(w, w.namespace["_inputs"])
    w.emit("n = len(A[0]) if A else 1")  # no arguments: a batch of one
    if arrays:
        w.emit("_pd = theta")
        w.emit(_PARAMS_READ)  # the parameters read one by one: filled in by _read_params
        if grad:
            w.emit("_gP = _zeros(len(theta))")
    else:
        if params:
            w.emit(python_backend._unpack([f"v{s}" for s in params], "[p.data for p in P]"))
        if layers:
            w.emit(f"_pd = _array([{', '.join(f'v{s}' for s in params)}])")
            w.emit("_gP = _zeros(len(P))")
    fixed = [op for op in tape.ops if not vary[op.out]]
    batched = [op for op in tape.ops if vary[op.out]]
    for op in fixed + batched:
        if op.out in roots and op.out in first_root:
            _layer_forward(w, *first_root[op.out], activations)
        elif op.out not in absorbed and op.out not in roots and op.out not in grouped:
            w.forward(op, 1)
    if not grad:
        _return_results(w, tape, vary, arrays)
        return _read_params(w.lines, tape, arrays), w.namespace
    started: set[int] = set()
    if graded:
        if arrays:  # a parameter's gradient starts at 0.0, as after zero_grad
            w.emit(_GRADS_START)  # filled in by _read_params
        else:
            w.emit(python_backend._unpack([f"g{s}" for s in params], "[p.grad for p in P]"))
        started.update(graded)
    feeds = {s for op in batched for s in op.inputs if not vary[s] and needs[s]}
    feeds -= {s for layer in layers for row in layer.weights for s in row}
    feeds -= {s for layer in layers for s in layer.biases}
    for s in sorted(feeds - started):
        w.emit(f"g{s} = 0.0")
        started.add(s)
    if vary[out]:
        w.emit(f"total = _sum({w._text(out)})")
        if needs[out]:
            w.emit(f"g{out} = _full(n, seed)")
            started.add(out)
    else:
        w.emit(f"total = n * {w._text(out)}")
        if needs[out]:
            w.emit(f"g{out} {'+=' if out in started else '='} n * seed")
            started.add(out)
    hoisted = sorted(feeds - set(graded))
    elsewhere = absorbed | roots | grouped  # written by the layers' code
    for op in reversed(fixed + batched):
        if op is (fixed[-1] if fixed else None) and hoisted:
            # the batch's gradients of per-call slots are summed before they are
            # backpropagated; if a sum is not finite, run every op per example instead
            # (the Python backend's Unhoisted), as eager would
            w.namespace.update(_finite=python_backend._finite, _unhoisted=_Exact(tape, arrays))
            w.emit(f"if not _finite({', '.join(f'g{s}' for s in hoisted)}):")
            w.emit(f"return _unhoisted(A, {P}, seed)", 2)
        if op.out in roots and op.out in first_root:
            _layer_backward(w, *first_root[op.out], started, activations)
        elif needs[op.out] and op.out not in elsewhere:
            w.backward(op, started, 1)
    if arrays:
        _return_gradients(w, tape, graded)
        return _read_params(w.lines, tape, arrays), w.namespace
    if layers:
        w.emit("_gP = _gP.tolist()")
    fused = {s for layer in layers for row in layer.weights for s in row}
    fused |= {s for layer in layers for s in layer.biases}
    finals = []
    for s in graded:
        k = s - tape.first_param
        finals.append((k, f"g{s} + _gP[{k}]" if s in fused else f"g{s}"))
    if finals:
        # sums over the batch taken before a division, a log or another path's sum can
        # end non-finite where eager's per-example order does not (a bias's summed paths
        # overflowing to -inf and +inf: nan, where eager gives inf); such a gradient is
        # recomputed in eager's order, by the Python backend's exact replay
        w.emit(f"_G = [{', '.join(text for _, text in finals)}]")
        w.emit("if not _finite(*_G) and _all_finite(P):")
        w.emit("return _unhoisted(A, P, seed)", 2)
        w.namespace.setdefault("_unhoisted", _Exact(tape))  # the hoisting check's, if any
        w.namespace.update(_finite=python_backend._finite, _all_finite=python_backend.all_finite)
        for j, (k, _) in enumerate(finals):
            w.emit(f"P[{k}].grad = _G[{j}]")
    w.emit("return total")
    return _read_params(w.lines, tape, arrays), w.namespace


# tape -> its layers: a step's Values replay and its array replay read them off one tape
_LAYERS: weakref.WeakKeyDictionary[Tape, tuple[list[Layer], set[int]]] = weakref.WeakKeyDictionary()


def _layers_of(tape: Tape, vary: list[bool]) -> tuple[list[Layer], set[int]]:
    found = _LAYERS.get(tape)
    if found is None:
        found = _LAYERS[tape] = find_layers(tape, vary)
    return found


class _Exact:
    """The Python backend's replay with every op per example, on the numpy arguments.

    With ``arrays`` it takes the parameters as an array and returns ``(sum, gradients)``
    like the array replay: stand-ins for the Values carry them through."""

    def __init__(self, tape: Tape, arrays: bool = False) -> None:
        self.structure = tape.structure
        self.replay = python_backend.Unhoisted(tape)
        self.arrays = arrays

    def __call__(self, args: Any, params: Any, seed: float) -> Any:
        examples = [
            check(self.structure, [as_lists(a) for a in example], f"example {i}")
            for i, example in enumerate(zip(*args, strict=True))
        ]
        if not self.arrays:
            return self.replay(examples, params, seed)
        stand_ins = [python_backend.StandIn(d) for d in params.tolist()]
        total = self.replay(examples, stand_ins, seed)
        return total, np.array([p.grad for p in stand_ins], dtype=float)


# Placeholder lines of an array replay: which parameters the code reads one by one (not
# through the layers' matrices) is known only once all of it is written.
_PARAMS_READ = "#params-read"
_GRADS_START = "#grads-start"
_NAME = re.compile(r"\b([vg])(\d+)\b")


def _names_used(lines: list[str], tape: Tape) -> tuple[list[int], list[int]]:
    """Parameter slots whose value (``v``) and whose gradient (``g``) the lines name."""
    first, end = tape.first_param, tape.first_const
    used: dict[str, set[int]] = {"v": set(), "g": set()}
    for line in lines:
        for kind, number in _NAME.findall(line):
            if first <= int(number) < end:  # only parameters: a 1M-op tape has 2M names
                used[kind].add(int(number))
    params = range(first, end)
    return [s for s in params if s in used["v"]], [s for s in params if s in used["g"]]


def _read_params(lines: list[str], tape: Tape, arrays: bool) -> str:
    """The source, without unused lines; an array replay's placeholders replaced by the
    reads it needs."""
    lines = _without_unused(lines)
    if not arrays:
        return "\n".join(lines) + "\n"
    body = [line for line in lines if line.strip() not in (_PARAMS_READ, _GRADS_START)]
    values, grads = _names_used(body, tape)
    index = [s - tape.first_param for s in values]
    everyone = len(index) == tape.first_const - tape.first_param
    read = "theta.tolist()" if everyone else f"theta[{index}].tolist()"
    out = []
    for line in lines:
        if line.strip() == _PARAMS_READ:
            if values:
                out.append("    " + python_backend._unpack([f"v{s}" for s in values], read))
        elif line.strip() == _GRADS_START:
            if grads:
                out.append(f"    {' = '.join(f'g{s}' for s in grads)} = 0.0")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _return_gradients(w: Any, tape: Tape, graded: list[int]) -> None:
    """An array replay's end: the gradients summed one by one join the layers' array."""
    _, grads = _names_used([line for line in w.lines if line.strip() != _GRADS_START], tape)
    own = [s for s in grads if s in set(graded)]
    if own:
        index = [s - tape.first_param for s in own]
        w.emit(f"_gP[{index}] += _array([{', '.join(f'g{s}' for s in own)}])")
    # as the Values replay: a gradient that left the finite numbers is recomputed in
    # eager's per-example order (every gradient starts at 0.0 here: all finite before)
    w.namespace.setdefault("_unhoisted", _Exact(tape, arrays=True))
    w.namespace["_all_finite_array"] = _all_finite_array
    w.emit("if not _all_finite_array(_gP):")
    w.emit("return _unhoisted(A, theta, seed)", 2)
    w.emit("return total, _gP")


def _all_finite_array(a: Any) -> bool:
    return bool(np.isfinite(a).all())


def _return_results(w: Any, tape: Tape, vary: list[bool], arrays: bool = False) -> None:
    """One result per example: arrays become lists, per-call floats are repeated.

    With ``arrays``: one array, an entry per example for a single result, else a row of
    the (flattened) results per example."""
    columns = [w._text(s) if vary[s] else f"_full(n, {w._text(s)})" for s in tape.outputs]
    if arrays:
        single = tape.out_structure is None
        w.emit(f"return {columns[0] if single else '_stack([' + ', '.join(columns) + '], 1)'}")
        return
    if tape.out_structure is None:
        w.emit(f"return {columns[0]}.tolist()")
        return
    w.namespace["_results"] = _Results(tape.out_structure)
    w.emit(f"return _results(_stack([{', '.join(columns)}], 1).tolist())")


class _Results:
    """Rows of the results' matrix (one per example) as f's nested lists."""

    def __init__(self, structure: Structure) -> None:
        self.structure = structure
        self.flat = all(s is None for s in structure)  # a plain list: rows as they are

    def __call__(self, rows: list[list[float]]) -> list[Any]:
        if self.flat:
            return rows
        return [unflatten(self.structure, row) for row in rows]


def _activations(tape: Tape, vary: list[bool], layers: list[Layer]) -> dict[int, Any]:
    """Per layer index: (rule, outputs) when every neuron feeds only one op of the same
    unary rule (its activation), which then runs once on the layer's matrix Z."""
    consumers: dict[int, list[Op]] = {}
    for op in tape.ops:
        for s in op.inputs:
            consumers.setdefault(s, []).append(op)
    groups = {}
    for k, layer in enumerate(layers):
        users = [consumers.get(r, []) for r in layer.roots]
        if not all(len(u) == 1 and len(u[0].inputs) == 1 and vary[u[0].out] for u in users):
            continue
        rules_used = {u[0].rule for u in users}
        if len(rules_used) != 1 or set(tape.outputs) & {u[0].out for u in users}:
            continue
        rule = rules_used.pop()
        forms = symbolic.forms(rule)
        if forms.forward is None or forms.products is None:
            continue
        if "x0" not in symbolic.placeholders(forms.forward):
            continue  # a constant forward (x ** 0.0) is no matrix: leave it to the elementwise code
        groups[k] = (rule, [u[0].out for u in users])
    return groups


def _read_inputs(w: Any, inputs: _Inputs) -> None:
    """``_M0, _M1, ... = _inputs(A)`` and each input slot as a column of its argument's
    matrix (``v3 = _M0[:, 3]``; a layer reads the matrix itself, and a column no line
    reads is dropped by ``_without_unused``)."""
    names = [f"_M{a}" for a in range(len(inputs.widths))]
    w.emit(python_backend._unpack(names, "_inputs(A)"))
    slot = 0
    for name, width in zip(names, inputs.widths, strict=True):
        w.width[name] = width
        for j in range(width):
            w.emit(f"v{slot} = {name}[:, {j}]")
            w.matrix[slot], w.column[slot] = name, j
            slot += 1


def _gathered(w: Any, slots: tuple[int, ...] | list[int]) -> tuple[str, list[int]] | None:
    """(matrix, columns) when every slot is a column of one matrix (in any order)."""
    matrices = {w.matrix.get(s) for s in slots}
    if len(matrices) != 1 or None in matrices:
        return None
    return matrices.pop(), [w.column[s] for s in slots]


_VIEW = re.compile(r"^ +(v\d+) = _[A-Z]\w*\[:, \d+\]$")  # `v3 = _M0[:, 3]`: a column
_V_NAME = re.compile(r"\bv\d+\b")


def _without_unused(lines: list[str]) -> list[str]:
    """The lines without the column views (``v3 = _M0[:, 3]``, an input's or a layer's
    output's column) that no other line reads: a layer that uses the whole matrix
    needs none of them. Only views are dropped, and a view has no side effect."""
    views = {}
    for i, line in enumerate(lines):
        m = _VIEW.match(line)
        if m is not None:
            views[m.group(1)] = i
    if not views:
        return lines
    read = set()
    for i, line in enumerate(lines):
        for name in _V_NAME.findall(line):
            if name in views and views[name] != i:
                read.add(name)
    dropped = {i for name, i in views.items() if name not in read}
    return [line for i, line in enumerate(lines) if i not in dropped]


def _columns_of(w: Any, slots: tuple[int, ...] | list[int]) -> str | None:
    """The matrix whose columns, all of them in order, are these slots' values, if any."""
    matrices = {w.matrix.get(s) for s in slots}
    if len(matrices) == 1 and all(w.column.get(s) == j for j, s in enumerate(slots)):
        name = matrices.pop()
        if name is not None and w.width[name] == len(slots):  # not a prefix of the columns
            return name
    return None


def _layer_forward(w: Any, k: int, layer: Layer, activations: dict[int, Any]) -> None:
    """Z = X W^T + b, one column per neuron (and the layer's activation on all of Z)."""
    first = w.tape.first_param
    w.namespace[f"_Wi{k}"] = np.array([[s - first for s in row] for row in layer.weights])
    same = _columns_of(w, layer.xs)
    gathered = _gathered(w, layer.xs)
    if same is not None:
        w.emit(f"_X{k} = {same}")
    elif gathered is not None:  # the columns of one matrix in another order: one gather
        name, columns = gathered
        w.namespace[f"_Xi{k}"] = np.array(columns)
        w.namespace["_contiguous"] = np.ascontiguousarray  # a gather is in Fortran order
        w.emit(f"_X{k} = _contiguous({name}[:, _Xi{k}])")
    else:
        w.emit(f"_X{k} = _stack([{', '.join(w._text(x) for x in layer.xs)}], 1)")
    w.emit(f"_W{k} = _pd[_Wi{k}]")
    bias = ""
    if layer.biases:
        w.namespace[f"_bi{k}"] = np.array([s - first for s in layer.biases])
        bias = f" + _pd[_bi{k}]"
    w.emit(f"_Z{k} = _X{k} @ _W{k}.T{bias}")
    if k in activations:
        rule, outs = activations[k]
        names = {"x0": f"_Z{k}"}
        form = symbolic.forms(rule).forward
        w.emit(f"_A{k} = {symbolic.render(form, names, _matrix_call(rule))}")
        w.width[f"_A{k}"] = len(outs)
        for j, a in enumerate(outs):
            w.emit(f"v{a} = _A{k}[:, {j}]")
            w.matrix[a], w.column[a] = f"_A{k}", j
        return
    for j, r in enumerate(layer.roots):
        w.emit(f"v{r} = _Z{k}[:, {j}]")


def _matrix_call(rule: Any) -> Any:
    return lambda fn, args: _vector_call(_AnyOp(rule), fn, args)


class _AnyOp:
    def __init__(self, rule: Any) -> None:
        self.rule = rule


def _layer_backward(
    w: Any, k: int, layer: Layer, started: set[int], activations: dict[int, Any]
) -> None:
    """dW = G^T X, db = sum of G over the batch, dX = G W; G holds the neurons' gradients."""
    if k in activations:  # G = the activation's share of dL/dA, on Z
        rule, outs = activations[k]
        grads = [w.g(a) if a in started else "_full(n, 0.0)" for a in outs]
        same = _matrix_of_columns(w, grads)
        w.emit(f"_GA{k} = {same or '_stack([' + ', '.join(grads) + '], 1)'}")
        (product,) = symbolic.forms(rule).products
        names = {"x0": f"_Z{k}", "out": f"_A{k}", "g": f"_GA{k}"}
        w.emit(f"_G{k} = {symbolic.render(product, names, _matrix_call(rule))}")
    else:
        grads = [w.g(r) if r in started else "_full(n, 0.0)" for r in layer.roots]
        w.emit(f"_G{k} = _stack([{', '.join(grads)}], 1)")
    unique = len({s for row in layer.weights for s in row}) == sum(map(len, layer.weights))
    if unique:
        w.emit(f"_gP[_Wi{k}] += _G{k}.T @ _X{k}")
    else:
        w.namespace["_add_at"] = np.add.at
        w.emit(f"_add_at(_gP, _Wi{k}, _G{k}.T @ _X{k})")
    if layer.biases and len(set(layer.biases)) == len(layer.biases):
        w.emit(f"_gP[_bi{k}] += _G{k}.sum(0)")
    elif layer.biases:
        w.namespace["_add_at"] = np.add.at
        w.emit(f"_add_at(_gP, _bi{k}, _G{k}.sum(0))")
    if not any(w.needs[x] for x in layer.xs):
        return
    w.emit(f"_D{k} = _G{k} @ _W{k}")
    w.width[f"_D{k}"] = len(layer.xs)
    for i, x in enumerate(layer.xs):
        if not w.needs[x]:
            continue
        column = f"_D{k}[:, {i}]"
        if x in w.alias:
            w.emit(f"g{x} = {w.alias.pop(x)} + {column}")
        elif x in started:
            w.emit(f"g{x} = g{x} + {column}")
        else:
            w.alias[x] = column  # a column of dX, named where it is used
            started.add(x)


def _matrix_of_columns(w: Any, grads: list[str]) -> str | None:
    """``_D3`` if the gradients are ``_D3[:, 0]``, ``_D3[:, 1]``, ... all its columns in order."""
    head = grads[0].split("[")[0]
    if w.width.get(head) == len(grads) and all(g == f"{head}[:, {j}]" for j, g in enumerate(grads)):
        return head
    return None


def build(tape: Tape, grad: bool = True, arrays: bool = False) -> tuple[Callable[..., Any], str]:
    """The compiled replay over a batch (run without floating-point warnings) and its source.

    Without ``grad``: ``run(args, params)``, f's results for each example. With
    ``arrays``, ``params`` is a float64 array (see ``generate``)."""
    source, namespace = generate(tape, grad, arrays)
    replay = python_backend.load(source, namespace, "replay" if grad else "forward", "numpy step")

    if not grad:

        def forward(args: Any, params: list[Any]) -> list[Any]:
            with np.errstate(all="ignore"):
                return replay(args, params)

        return forward, source

    def run(args: Any, params: list[Any], seed: float) -> float:
        with np.errstate(all="ignore"):
            return replay(args, params, seed)

    return run, source
