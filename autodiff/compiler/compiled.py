"""compile(f): trace once, then replay the tape as generated code on every call.

``step = compile(f)``; ``step(*args)`` returns f's value as a float and adds
d f / d p into ``p.grad`` for every parameter p, as ``f(*args).backward()`` would,
without building a graph. With ``batch="mean"`` (or ``"sum"``) f is a per-example
function: ``step(X, Y)`` returns the mean (sum) of f over the examples and
accumulates the gradient of that mean (sum).

With ``grad=False`` the step is a compiled forward pass: f may return a Value or a
(nested) list of Values (a model's logits), ``step(*args)`` returns floats of the
same structure and touches no ``.grad``; ``batch="each"`` maps it over the examples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autodiff.compiler import python_backend
from autodiff.compiler.guard import TraceError
from autodiff.compiler.structure import check
from autodiff.compiler.tape import Tape, trace
from autodiff.core.value import Value

BACKENDS = ("python", "numpy")
BATCH_MODES = (None, "mean", "sum")
FORWARD_BATCH_MODES = (None, "each")


class Compiled:
    """A compiled step: call it like f, with numbers instead of Values.

    ``tape`` is the Tape (after the first call), ``source`` the generated Python."""

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
        self.params = None if params is None else list(params)
        self.batch = batch
        self.backend = backend
        self.grad = grad
        self.tape: Tape | None = None
        self.source = ""
        self._replay: Callable[..., float] | None = None

    def __call__(self, *args: Any) -> Any:
        if not self.grad:
            return self._call_forward(args)
        if self.batch is None:
            return self._call_one(args)
        return self._call_batch(args)

    def _call_one(self, args: tuple[Any, ...]) -> float:
        if self.tape is None:
            self._build(trace(self.f, *args, params=self.params))
        assert self.tape is not None and self._replay is not None
        if self.backend == "numpy":
            return self._replay([[a] for a in args], self.tape.params, 1.0)
        flat = check(self.tape.structure, list(args), "compiled call's arguments")
        return self._replay(flat, self.tape.params, 1.0)

    def _call_batch(self, args: tuple[Any, ...]) -> float:
        n = _batch_size(args)
        if self.tape is None:
            self._build(trace(self.f, *[a[0] for a in args], params=self.params))
        assert self.tape is not None and self._replay is not None
        seed = 1.0 / n if self.batch == "mean" else 1.0
        if self.backend == "numpy":
            total = self._replay(args, self.tape.params, seed)
        else:
            structure = self.tape.structure
            examples = [
                check(structure, list(example), f"example {i}")
                for i, example in enumerate(zip(*args, strict=True))
            ]
            total = self._replay(examples, self.tape.params, seed)
        return total / n if self.batch == "mean" else total

    def _call_forward(self, args: tuple[Any, ...]) -> Any:
        """f's results as floats (one per example with batch="each"); no gradients."""
        each = self.batch == "each"
        if each:
            _batch_size(args)
        if self.tape is None:
            example = [a[0] for a in args] if each else list(args)
            self._build(trace(self.f, *example, params=self.params, outputs=True))
        assert self.tape is not None and self._replay is not None
        if self.backend == "numpy":
            if each:
                return self._replay(args, self.tape.params)
            return self._replay([[a] for a in args], self.tape.params)[0]
        structure = self.tape.structure
        if not each:
            return self._replay(
                check(structure, list(args), "compiled call's arguments"), self.tape.params
            )
        examples = [
            check(structure, list(example), f"example {i}")
            for i, example in enumerate(zip(*args, strict=True))
        ]
        return self._replay(examples, self.tape.params)

    def _build(self, tape: Tape) -> None:
        # the tape is kept only once its code is built: a build that fails (an op the
        # numpy backend cannot run) fails the same way again on the next call
        if self.backend == "numpy":
            self._replay, self.source = self._numpy.build(tape, grad=self.grad)
        else:
            batch = self.batch is not None
            self._replay, self.source = python_backend.build(tape, batch=batch, grad=self.grad)
        self.tape = tape

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
