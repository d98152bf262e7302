"""compile(f): trace once, then replay the tape as generated code on every call.

``step = compile(f)``; ``step(*args)`` returns f's value as a float and adds
d f / d p into ``p.grad`` for every parameter p, as ``f(*args).backward()`` would,
without building a graph. With ``batch="mean"`` (or ``"sum"``) f is a per-example
function: ``step(X, Y)`` returns the mean (sum) of f over the examples and
accumulates the gradient of that mean (sum).

With ``grad=False`` the step is a compiled forward pass: f may return a Value or a
(nested) list of Values (a model's logits), ``step(*args)`` returns floats of the
same structure and touches no ``.grad``; ``batch="each"`` maps it over the examples.

``step.value_and_grad(*args, theta=theta)`` is the same call with the parameters as
one float64 array (in the order of ``step.parameters``) instead of Values: it returns
``(loss, gradient array)``, the gradient of this call alone, and reads and writes no
Value, so a training loop can keep its parameters in an array for a whole run.
``step.outputs(*args, theta=theta)`` does the same for a ``grad=False`` step and returns
an array (a row per example with ``batch="each"``). The floats are the ones the
Values call gives after ``zero_grad``.

A step runs one call at a time (a lock: a replay reads, adds to and writes back each
``.grad``), checks every argument is a number on both backends, and traces again when
the ``params`` list it was given, or a number ``f``'s own code reads from its closure or
globals, has changed since the trace, or when a comparison ``f`` made of an input's
number comes out otherwise for the new arguments (a batch that splits is refused).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from autodiff.compiler import python_backend
from autodiff.compiler.guard import TraceError
from autodiff.compiler.structure import as_lists, check, flatten
from autodiff.compiler.tape import Tape, _unique_params, trace
from autodiff.core.value import Value

BACKENDS = ("python", "numpy")
BATCH_MODES = (None, "mean", "sum")
FORWARD_BATCH_MODES = (None, "each")


class Compiled:
    """A compiled step: call it like f, with numbers instead of Values.

    ``tape`` is the Tape (after the first call), ``source`` the generated Python (of the
    program built last: the Values one, or value_and_grad's on numpy)."""

    def __init__(
        self,
        f: Callable[..., Value],
        params: Sequence[Value] | None,
        batch: str | None,
        backend: str,
        grad: bool = True,
    ) -> None:
        if not callable(f):
            raise TypeError(f"compile() expected a function, got {type(f).__name__}")
        if not isinstance(grad, bool):
            raise TypeError(f"compile() grad expected True or False, got {grad!r}")
        if grad and batch == "each":
            raise ValueError(
                "compile() batch='each' returns one result per example and needs grad=False"
            )
        if grad and batch not in BATCH_MODES:
            raise ValueError(f"compile() batch expected None, 'mean' or 'sum', got {batch!r}")
        if not grad and batch not in FORWARD_BATCH_MODES:
            raise ValueError(f"compile(grad=False) batch expected None or 'each', got {batch!r}")
        if backend not in BACKENDS:
            raise ValueError(f"compile() backend expected 'python' or 'numpy', got {backend!r}")
        if backend == "numpy":
            from autodiff.compiler import numpy_backend  # raises a clear error without numpy

            self._numpy = numpy_backend
        self.f = f
        # A list the caller passed is kept to see later changes to it (a parameter
        # appended or removed): the step then traces again. Its contents at the trace:
        self.params = None if params is None else _unique_params(params)  # checked here
        self._params_given = params if isinstance(params, list) else None
        self._params_seen = None if params is None else list(params)
        self.batch = batch
        self.backend = backend
        self.grad = grad
        self.tape: Tape | None = None
        self.source = ""
        self._replay: Callable[..., float] | None = None
        self._frozen: list[tuple[Any, str, Any]] = []  # numbers f read outside its arguments
        # One call at a time: a replay reads each parameter's .grad, adds to it and writes
        # it back, so two threads replaying at once would lose one's contribution.
        self._lock = threading.Lock()
        self._array_replay: Callable[..., Any] | None = None  # value_and_grad's, numpy
        # traces of f's other branches (see _follow_comparisons), most recent last
        self._branches: list[tuple[Tape, Any, Any, str]] = []

    def __call__(self, *args: Any) -> Any:
        lock = self._lock
        lock.acquire()  # not `with`: half the cost, on a path of a few microseconds
        try:
            given = self._params_given  # the method's checks inline: a step may take 2 us
            if (given is not None and given != self._params_seen) or self._frozen:
                self._trace_again_if_changed()
            if not self.grad:
                return self._call_forward(args)
            if self.batch is None:
                return self._call_one(args)
            return self._call_batch(args)
        finally:
            lock.release()

    @property
    def parameters(self) -> list[Value]:
        """The parameters in the order ``theta`` lists them (those of the last trace)."""
        if self.tape is None:
            raise TraceError("the step has not traced yet: call it (or value_and_grad) once")
        return list(self.tape.params)

    def value_and_grad(self, *args: Any, theta: Any = None) -> tuple[float, Any]:
        """``(loss, gradient)`` of the call ``step(*args)`` at parameter values ``theta``.

        ``theta``: one number per parameter, in ``step.parameters`` order (a float64
        array; numpy is needed), or None for the parameters' current ``.data``. Returns
        the loss as ``step(*args)`` does and the gradient of that loss as a new float64
        array; no Value is written (nor read, given ``theta``). Arguments may be numpy
        arrays (a batch: one row per example)."""
        if not self.grad:
            raise TypeError("value_and_grad() needs a step compiled with grad=True; use outputs()")
        with self._lock:
            self._trace_again_if_changed()
            arrays = self.backend == "numpy" and self.batch is not None  # its own program
            if self.batch is None:
                args = tuple(as_lists(a) for a in args)
                example = list(args)
            else:
                example = [as_lists(a[0]) for a in _checked_batch(args)[1]]
            self._trace_once(example, outputs=False, arrays=arrays)
            assert self.tape is not None
            if self.tape.comparisons:  # before theta is matched to the parameters
                _no_order_for(theta, self)
                rows = _rows(self.tape, args) if self.batch else [_flat_args(self.tape, args)]
                self._follow_comparisons(rows, example, False, arrays)
            theta = _checked_theta(theta, self.tape.params)
            if arrays:
                return self._value_and_grad_arrays(args, theta)
            stand_ins = _stand_ins(theta)
            if self.batch is None:
                loss = self._call_one(args, stand_ins)
            else:
                loss = self._call_batch(tuple(as_lists(a) for a in args), stand_ins)
            return loss, _grads_of(stand_ins)

    def outputs(self, *args: Any, theta: Any = None) -> Any:
        """f's results as a float64 array at parameter values ``theta`` (see
        ``value_and_grad``): with ``batch="each"`` a row per example (one entry per
        example for a single result), f's results flattened in order."""
        if self.grad:
            raise TypeError("outputs() needs a step compiled with grad=False")
        import numpy as np  # theta is an array: numpy is there

        with self._lock:
            self._trace_again_if_changed()
            each = self.batch == "each"
            if each:
                args = _checked_batch(args)[1]
                example = [as_lists(a[0]) for a in args]
            else:
                args = tuple(as_lists(a) for a in args)
                example = list(args)
            arrays = self.backend == "numpy" and each
            self._trace_once(example, outputs=True, arrays=arrays)
            assert self.tape is not None
            if self.tape.comparisons:  # before theta is matched to the parameters
                _no_order_for(theta, self)
                rows = _rows(self.tape, args) if each else [_flat_args(self.tape, args)]
                self._follow_comparisons(rows, example, True, arrays)
            theta = _checked_theta(theta, self.tape.params)
            if arrays:
                assert self._array_replay is not None
                return self._array_replay(args, theta)
            if each:
                args = tuple(as_lists(a) for a in args)
            found = self._call_forward(args, _stand_ins(theta))
            if self.tape.out_structure is None:  # one result: a number per example
                return np.array(found, dtype=float)
            rows = [_flat(row) for row in found] if each else _flat(found)
            return np.array(rows, dtype=float)

    def _value_and_grad_arrays(self, args: tuple[Any, ...], theta: Any) -> tuple[float, Any]:
        assert self._array_replay is not None
        n = len(args[0])
        seed = 1.0 / n if self.batch == "mean" else 1.0
        total, grads = self._array_replay(args, theta, seed)
        return (total / n if self.batch == "mean" else total), grads

    def _trace_again_if_changed(self) -> None:
        given = self._params_given
        changed = False
        if given is not None and given != self._params_seen:  # identity, one by one
            self._params_seen = list(given)
            self.params = _unique_params(given)
            changed = True  # trace again, with the parameters as they are now
        if self._frozen and _changed(self._frozen):
            changed = True  # a number f read from its closure or globals changed
        if changed:
            self.tape = self._replay = self._array_replay = None
            self._branches = []

    def _trace_once(self, example: list[Any], outputs: bool, arrays: bool = False) -> None:
        """Trace on ``example`` if there is no tape, and build the program this call runs
        (the one on Values, or with ``arrays`` numpy's on a parameter array) if it is not
        built yet: a loop that only ever calls value_and_grad never builds the other."""
        if self.tape is None:
            self._build(trace(self.f, *example, params=self.params, outputs=outputs), arrays)
        elif (self._array_replay if arrays else self._replay) is None:
            self._build(self.tape, arrays)

    def _call_one(self, args: tuple[Any, ...], params: list[Any] | None = None) -> float:
        if self._replay is None:  # no tape yet, or only value_and_grad's program
            self._trace_once(list(args), outputs=False)
        assert self.tape is not None and self._replay is not None
        flat = check(self.tape.structure, list(args), "compiled call's arguments")
        if self.tape.comparisons:
            self._follow_comparisons([flat], list(args), False)
        params = self.tape.params if params is None else params
        if self.backend == "numpy":
            return self._replay([[a] for a in args], params, 1.0)
        return self._replay(flat, params, 1.0)

    def _call_batch(self, args: tuple[Any, ...], params: list[Any] | None = None) -> float:
        n = _batch_size(args)
        if self._replay is None:
            self._trace_once([a[0] for a in args], outputs=False)
        assert self.tape is not None and self._replay is not None
        if self.tape.comparisons:
            example = [as_lists(a[0]) for a in args]
            self._follow_comparisons(_rows(self.tape, args), example, False)
        params = self.tape.params if params is None else params
        seed = 1.0 / n if self.batch == "mean" else 1.0
        if self.backend == "numpy":
            _check_numbers(args)
            total = self._replay(args, params, seed)
        else:
            structure = self.tape.structure
            examples = [
                check(structure, list(example), f"example {i}")
                for i, example in enumerate(zip(*args, strict=True))
            ]
            total = self._replay(examples, params, seed)
        return total / n if self.batch == "mean" else total

    def _call_forward(self, args: tuple[Any, ...], params: list[Any] | None = None) -> Any:
        """f's results as floats (one per example with batch="each"); no gradients."""
        each = self.batch == "each"
        if each:
            _batch_size(args)
        if self._replay is None:
            self._trace_once([a[0] for a in args] if each else list(args), outputs=True)
        assert self.tape is not None and self._replay is not None
        if self.tape.comparisons:
            example = [as_lists(a[0]) for a in args] if each else list(args)
            rows = (
                _rows(self.tape, args)
                if each
                else [check(self.tape.structure, list(args), "compiled call's arguments")]
            )
            self._follow_comparisons(rows, example, True)
        params = self.tape.params if params is None else params
        if self.backend == "numpy":
            _check_numbers(args if each else tuple([a] for a in args))
            if each:
                return self._replay(args, params)
            return self._replay([[a] for a in args], params)[0]
        structure = self.tape.structure
        if not each:
            return self._replay(check(structure, list(args), "compiled call's arguments"), params)
        examples = [
            check(structure, list(example), f"example {i}")
            for i, example in enumerate(zip(*args, strict=True))
        ]
        return self._replay(examples, params)

    def _follow_comparisons(
        self,
        rows: Any,
        example: list[Any],
        outputs: bool,
        arrays: bool = False,
    ) -> None:
        """f compared its inputs' numbers while tracing (``if x.data > 0:``): the tape is
        right for these inputs (``rows``: each example's flat numbers) only where every
        comparison comes out as it did. Where all examples agree on other outcomes, switch
        to the trace of that branch, kept from an earlier call, or trace again (on
        ``example``); a batch whose examples disagree is refused, since one trace follows
        one branch."""
        for _ in range(3):  # the new trace may compare other numbers: check those too
            assert self.tape is not None
            comparisons = self.tape.comparisons
            if not comparisons or _holds(comparisons, rows):
                return
            current = (self.tape, self._replay, self._array_replay, self.source)
            kept = next((b for b in self._branches if _holds(b[0].comparisons, rows)), None)
            if kept is not None:  # a branch traced before
                self._branches.remove(kept)
                self.tape, self._replay, self._array_replay, self.source = kept
                if (self._array_replay if arrays else self._replay) is None:
                    self._build(self.tape, arrays)
            else:
                self._build(trace(self.f, *example, params=self.params, outputs=outputs), arrays)
            self._branches = [*self._branches[-(_BRANCHES - 1) :], current]
        raise TraceError(
            f"f's comparisons of its inputs' numbers came out otherwise after three traces "
            f"(the last: {comparisons[0]}): f is not a function of its arguments alone"
        )

    def _build(self, tape: Tape, arrays: bool = False) -> None:
        # a new tape is kept only once a program of it is built: a build that failed
        # (numpy's NumpyUnsupported) fails again, the same way, on the next call
        if arrays:
            replay, source = self._numpy.build(tape, grad=self.grad, arrays=True)
        elif self.backend == "numpy":
            replay, source = self._numpy.build(tape, grad=self.grad)
        else:
            batch = self.batch is not None
            replay, source = python_backend.build(tape, batch=batch, grad=self.grad)
        if tape is not self.tape:  # a new trace: the old tape's programs are gone
            self._replay = self._array_replay = None
            self._frozen = _numbers_read(self.f)
        if arrays:
            self._array_replay = replay
        else:
            self._replay = replay
        self.tape, self.source = tape, source

    def __repr__(self) -> str:
        ops = "not traced yet" if self.tape is None else f"{len(self.tape)} ops"
        return f"<compiled {getattr(self.f, '__name__', 'f')}: {self.backend}, {ops}>"


def _batch_size(args: tuple[Any, ...]) -> int:
    if not args:
        raise TraceError("a batched step needs at least one argument (a list of examples)")
    sizes = set()
    for i, a in enumerate(args):
        if not isinstance(a, (list, tuple)) or not a:
            got = "an empty one" if isinstance(a, (list, tuple)) else type(a).__name__
            hint = " (a numpy array: pass array.tolist())" if hasattr(a, "tolist") else ""
            raise TraceError(
                f"batched argument {i} expected a non-empty list of examples, got {got}{hint}"
            )
        sizes.add(len(a))
    if len(sizes) != 1:
        raise TraceError(f"batched arguments have different numbers of examples: {sorted(sizes)}")
    return sizes.pop()


def _checked_batch(args: tuple[Any, ...]) -> tuple[int, tuple[Any, ...]]:
    """(n, args) for a batched call whose arguments may be numpy arrays (a row per
    example, numbers only, checked by dtype) or lists of examples (checked as always)."""
    if not args:
        raise TraceError("a batched step needs at least one argument (a list of examples)")
    sizes = set()
    for i, a in enumerate(args):
        kind = getattr(getattr(a, "dtype", None), "kind", None)
        if kind is None:
            _batch_size((a,))
            _check_numbers((a,))
        elif kind not in "fiu" or getattr(a, "ndim", 0) < 1 or len(a) == 0:
            raise TraceError(
                f"batched argument {i} expected an array of numbers with a row per example, "
                f"got dtype {a.dtype} and shape {a.shape}"
            )
        sizes.add(len(a))
    if len(sizes) != 1:
        raise TraceError(f"batched arguments have different numbers of examples: {sorted(sizes)}")
    return sizes.pop(), args


def _checked_theta(theta: Any, params: list[Value]) -> Any:
    """``theta`` as a 1-D float64 array of a number per parameter, or a one-line error;
    None: the parameters' current ``.data``."""
    import numpy as np  # value_and_grad and outputs take arrays: numpy is needed

    count = len(params)
    if theta is None:
        return np.array([p.data for p in params], dtype=float)
    dtype = getattr(theta, "dtype", None)
    if dtype is not None:  # an array: numbers by its dtype
        numbers = dtype.kind in "fiu"
    else:  # a list: numbers one by one (numpy would read "1.5" or True as a number)
        numbers = isinstance(theta, (list, tuple)) and all(map(_is_number, theta))
    array = np.asarray(theta, dtype=float) if numbers else None
    if array is None or array.shape != (count,):
        got = "something that is not numbers" if array is None else f"shape {array.shape}"
        raise TraceError(
            f"theta expected {count} numbers (one per parameter, in step.parameters order), "
            f"got {got}"
        )
    return array


def _rows(tape: Tape, args: tuple[Any, ...]) -> Any:
    """Each example's flat input numbers (for checking f's comparisons of them): a matrix,
    a row per example, when numpy can make one; else a list of lists."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - depends on the environment
        np = None
    if np is not None:
        try:
            return np.hstack([np.asarray(a, dtype=float).reshape(len(a), -1) for a in args])
        except (TypeError, ValueError):
            pass  # ragged or not numbers: the check below names the example
    return [
        check(tape.structure, [as_lists(a) for a in example], f"example {i}")
        for i, example in enumerate(zip(*args, strict=True))
    ]


_BRANCHES = 8  # traces a step keeps of f's branches besides its current one


def _no_order_for(theta: Any, step: Compiled) -> None:
    """Refuse a theta for a step without ``params=`` whose f branches on its inputs: each
    branch's trace may reach the parameters in another order, so theta's has no meaning."""
    if theta is not None and step.params is None:
        raise TraceError(
            "theta lists the parameters in step.parameters order, but this f branches on its "
            "inputs' numbers and each branch may reach them in another order: give compile "
            "params=[...], or pass theta=None to use the parameters' own numbers"
        )


def _holds(comparisons: list[Any], rows: Any) -> bool:
    """Whether every comparison comes out, for every row, as it did in its trace. They are
    in the order f made them: the first that comes out otherwise for all rows is where the
    call leaves that trace's branch, and later ones need not be made; one that comes out
    both ways within the batch, before that, is refused (TraceError)."""
    for c in comparisons:
        outcomes = _outcomes(c, rows)
        split = _first_other(outcomes)
        if split is not None:
            raise TraceError(
                f"f compares {c}, and examples 0 and {split} of this batch come out "
                "differently: one trace follows one branch. Write the choice with ops "
                "(relu, abs, ...), move a check that only validates out of f, call the "
                "step one example at a time, or run f eagerly"
            )
        if bool(outcomes[0]) != c.outcome:
            return False
    return True


def _first_other(outcomes: Any) -> int | None:
    """The index of the first outcome unlike the first one, if any."""
    if hasattr(outcomes, "shape"):
        others = (outcomes != outcomes[0]).nonzero()[0]
        return int(others[0]) if len(others) else None
    return next((i for i, o in enumerate(outcomes) if o != outcomes[0]), None)


def _flat_args(tape: Tape, args: tuple[Any, ...]) -> list[float]:
    return check(tape.structure, list(args), "compiled call's arguments")


def _outcomes(c: Any, rows: Any) -> Any:
    """The comparison's result for each row (a numpy array of them for a matrix)."""
    if hasattr(rows, "shape"):
        other = c.other if c.other_slot is None else rows[:, c.other_slot]
        return c.compare(rows[:, c.slot], other)
    return [c.outcome_at(row) for row in rows]


def _stand_ins(theta: Any) -> list[Any]:
    return [python_backend.StandIn(d) for d in theta.tolist()]


def _grads_of(stand_ins: list[Any]) -> Any:
    import numpy as np

    return np.array([p.grad for p in stand_ins], dtype=float)


def _flat(x: Any) -> list[float]:
    return flatten(x, "a result")[1]


def _numbers_read(f: Callable[..., Any]) -> list[tuple[Any, str, Any]]:
    """(holder, name, value) of every number ``f``'s own code may read from its closure or
    its module's globals: the trace froze each as a constant of the tape. Only ``f``'s own
    names, not those of the functions it calls: what is cheap to watch."""
    code = getattr(f, "__code__", None)
    if code is None:
        return []
    found: list[tuple[Any, str, Any]] = []
    for name, cell in zip(code.co_freevars, f.__closure__ or (), strict=False):
        try:
            value = cell.cell_contents
        except ValueError:  # a cell not filled yet
            continue
        if _is_number_type(type(value)):
            found.append((cell, name, value))
    scope = getattr(f, "__globals__", {})
    for name in code.co_names:
        value = scope.get(name)
        if value is not None and _is_number_type(type(value)):
            found.append((scope, name, value))
    return found


def _changed(frozen: list[tuple[Any, str, Any]]) -> bool:
    """Whether a number in ``frozen`` holds another value now (then the step traces again)."""
    for holder, name, value in frozen:
        if isinstance(holder, dict):
            now = holder.get(name)
        else:
            try:
                now = holder.cell_contents
            except ValueError:
                return True
        if now is not value and now != value:
            return True
    return False


def _check_numbers(args: tuple[Any, ...]) -> None:
    """Every leaf of a batch is a number (not None, a str, bytes or a bool), as the Python
    backend requires; a TraceError names the first that is not, as ``example i[j]...``.

    A column's types are collected as a set, level by level (C loops), so a valid batch
    costs a pass or two; only a batch with a bad element is searched for where it is."""
    for i, column in enumerate(args):
        leaves, types = column, set(map(type, column))
        while types and types <= _LISTS:
            leaves = [x for item in leaves for x in item]
            types = set(map(type, leaves))
        if all(_is_number_type(t) for t in types):
            continue
        for j, example in enumerate(column):
            bad = _first_not_number(example, f"example {j}[{i}]")
            if bad is not None:
                raise TraceError(bad)


_LISTS = {list, tuple}


def _is_number(x: Any) -> bool:
    return _is_number_type(type(x))


def _is_number_type(t: type) -> bool:
    return issubclass(t, Real) and not issubclass(t, bool)


def _first_not_number(x: Any, where: str) -> str | None:
    if isinstance(x, (list, tuple)):
        for k, item in enumerate(x):
            found = _first_not_number(item, f"{where}[{k}]")
            if found is not None:
                return found
        return None
    if _is_number_type(type(x)):
        return None
    return f"{where} expected a number or a list of numbers, got {x!r}"


def compile(  # noqa: A001 - the public name, as torch.compile
    f: Callable[..., Value],
    params: Sequence[Value] | None = None,
    batch: str | None = None,
    backend: str = "python",
    grad: bool = True,
) -> Compiled:
    """Trace ``f`` on its first call and replay the tape on every later call.

    ``f(*args)`` takes Values and returns a scalar Value; the compiled step takes
    numbers or (nested) lists of numbers of the same structure on every call,
    returns the loss as a float and adds d(loss)/d(p) into each parameter's
    ``.grad`` (parameters: ``params``, or every leaf Value f reaches that existed
    before the trace). ``batch="mean"``/``"sum"``: f is per-example and each
    argument is a list of examples. ``backend``: ``"python"`` (generated source,
    bit-identical to eager) or ``"numpy"`` (arrays over the batch; extra ``fast``).

    ``grad=False``: a compiled forward pass. f returns a Value or a (nested) list of
    Values; the step returns floats of that structure and touches no ``.grad``.
    ``batch="each"`` (only with ``grad=False``): each argument is a list of examples
    and the step returns a list with one result per example.
    """
    return Compiled(f, params, batch, backend, grad)
