"""Higher-order derivatives: grad, hessian and Hessian-vector products.

Reverse mode applied to its own output. ``gradients(..., create_graph=True)``
returns each derivative as a Value whose graph leads back to the inputs, so it
can be differentiated again:

    d/dx f          = grad(f)
    d^2/dx^2 f      = grad(grad(f))
    H_ij            = d/dx_j (d f/dx_i)                    (hessian)
    H v             = d/dx (sum_i (d f/dx_i) v_i)          (hvp, reverse-over-reverse)

Two modes, chosen per call. Called with floats, the functions here return
floats: the inputs become fresh leaf Values and only the last backward pass is
first-order. Called with Values (or from inside another grad, e.g. in
``grad(grad(f))`` or when ``f`` itself calls grad), they return Values connected
to the caller's Values, so the result can be differentiated once more.
"""

from __future__ import annotations

import functools
import inspect
import reprlib
import threading
import weakref
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from autodiff.core.engine import gradients
from autodiff.core.modes import enable_grad
from autodiff.core.rules import Rule
from autodiff.core.value import Value, _Constant

# Each differentiated argument enters f through its own identity node, so
# d f/d(argument i) is a partial derivative even when the caller passes the same
# Value twice, or f also closes over it (grad(lambda x: grad(lambda y: x * y)(x))).
_ARGUMENT = Rule("id", lambda x: x, lambda x, out: (1.0,))


class _Tracing(threading.local):
    """How many grad/hessian/hvp calls are evaluating their function right now, in the
    calling thread (another thread's grad(f) must not put this one in Value mode)."""

    depth = 0  # the default each thread starts from


_tracing = _Tracing()


def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The function  x -> d f/d x  (for argument number ``argnums``).

    ``grad(f)`` has f's signature. With float arguments it returns a float; with
    Values (or inside another grad) it returns a Value labelled ``"df/dx"`` whose
    graph can be differentiated again, so ``grad(grad(f))`` is f'' and
    ``grad(grad(grad(f)))`` is f'''. With a tuple ``argnums`` it returns a tuple
    of partial derivatives, one per listed argument. Positional arguments not listed
    that are numbers enter f as constant Values (leaves no gradient is taken for), so
    a function written for Values (``x.exp() * y``) works whatever ``argnums`` is;
    Values and everything else (and keyword arguments) pass through unchanged.

    ``f`` must return a scalar Value, or a number (a constant: every derivative
    is 0.0, or Value(0.0) in Value mode).
    """
    if not callable(f):
        raise TypeError(f"grad() expected a callable, got {_describe(f)}")
    positions, single = _check_argnums(argnums)
    names = _argument_names(f)
    fname = _function_name(f)
    labels = [f"d{fname}/d{_name(names, i)}" for i in positions]

    @functools.wraps(f)
    def derivative(*args: Any, **kwargs: Any) -> Any:
        value_mode = _wants_values(args, kwargs)
        call = list(args)
        wrt = _wrap_arguments(call, positions, value_mode, names, "grad")
        _constant_arguments(call, positions, names)
        out = _evaluate(f, call, kwargs, "grad")
        if value_mode:
            result = _labelled_gradients(out, wrt, fname, labels)
        else:
            result = _float_gradients(out, wrt)
        return result[0] if single else tuple(result)

    # what a grad of this function calls it in its labels: d(df/dx)/dx
    derivative._derivative_name = f"({labels[0]})" if single else ""
    return derivative


def hessian(f: Callable[..., Any]) -> Callable[..., list[list[Any]]]:
    """The function  (x_1 ... x_n) -> H,  H[i][j] = d^2 f/(dx_i dx_j).

    Taken over every positional argument, by reverse-over-reverse: one backward
    pass with ``create_graph=True`` gives the gradient as Values, then one pass per
    gradient entry gives a row. H is symmetric for twice continuously
    differentiable f. Floats in, list of lists of floats out; Values in (or inside
    a grad), Values out.
    """
    if not callable(f):
        raise TypeError(f"hessian() expected a callable, got {_describe(f)}")
    names = _argument_names(f)
    fname = _function_name(f)

    @functools.wraps(f)
    def second_derivatives(*xs: Any) -> list[list[Any]]:
        value_mode = _wants_values(xs, {})
        call = list(xs)
        wrt = _wrap_arguments(call, range(len(xs)), value_mode, names, "hessian")
        out = _evaluate(f, call, {}, "hessian")
        rows = []
        for i, g in enumerate(_graph_gradients(out, wrt)):
            if value_mode:
                labels = [
                    f"d2{fname}/d{_name(names, i)}d{_name(names, j)}" for j in range(len(wrt))
                ]
                rows.append(_labelled_gradients(g, wrt, f"(d{fname}/d{_name(names, i)})", labels))
            else:
                rows.append(_float_gradients(g, wrt))
        return rows

    return second_derivatives


def hvp(f: Callable[..., Any], xs: Sequence[Any], v: Sequence[Any]) -> list[Any]:
    """The Hessian-vector product  H(xs) v,  without forming H.

    Reverse-over-reverse:  (H v)_j = d/dx_j ( sum_i (d f/dx_i) v_i ).  Two backward
    passes whatever the number of inputs. Floats in, list of floats out; Values
    in (in ``xs`` or ``v``, or inside a grad), Values out.
    """
    if not callable(f):
        raise TypeError(f"hvp() expected a callable, got {_describe(f)}")
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence):
        raise TypeError(f"hvp() expected a sequence of inputs xs, got {_describe(xs)}")
    if isinstance(v, (str, bytes)) or not isinstance(v, Sequence):
        raise TypeError(f"hvp() expected a sequence v, got {_describe(v)}")
    if len(v) != len(xs):
        raise ValueError(f"hvp(): v has {len(v)} entries but xs has {len(xs)}; they must match")
    for i, vi in enumerate(v):
        _check_number(vi, f"hvp(): v[{i}]")
    names = _argument_names(f)
    value_mode = _wants_values(tuple(xs) + tuple(v), {})
    call = list(xs)
    wrt = _wrap_arguments(call, range(len(xs)), value_mode, names, "hvp")
    out = _evaluate(f, call, {}, "hvp")
    with enable_grad():
        directional: Any = 0.0
        for g, vi in zip(_graph_gradients(out, wrt), v, strict=True):
            directional = directional + g * vi
    if not value_mode:
        return _float_gradients(directional, wrt)
    # (H v)_j = d(g.v)/dx_j, with g the gradient of f
    labels = [f"d(g.v)/d{_name(names, j)}" for j in range(len(wrt))]
    return _labelled_gradients(directional, wrt, "(g.v)", labels)


def _float_gradients(out: Value | float, wrt: list[Value]) -> list[float]:
    """d out/d w for each w, as floats (a constant ``out`` depends on nothing)."""
    if not isinstance(out, Value):
        return [0.0] * len(wrt)
    return gradients(out, wrt)


def _graph_gradients(out: Value | float, wrt: list[Value]) -> list[Any]:
    """d out/d w for each w, as Values to differentiate again (0.0 where none)."""
    if not isinstance(out, Value):
        return [0.0] * len(wrt)
    return gradients(out, wrt, create_graph=True)


def _labelled_gradients(
    out: Value | float, wrt: list[Value], name: str, labels: list[str]
) -> list[Value]:
    """d out/d w for each w, as Values labelled like "df/dx" for graph renderers."""
    if not isinstance(out, Value):
        return [_labelled(0.0, label) for label in labels]
    seed = _Constant(1.0, label=f"d{name}/d{name}")
    _derivatives.add(seed)
    grads = gradients(out, wrt, seed, create_graph=True)
    return [_labelled(g, label) for g, label in zip(grads, labels, strict=True)]


# The Values grad/hessian/hvp returned as derivatives, so renderers can mark them
# (held weakly: being drawn as a gradient must not keep a graph alive).
_derivatives: weakref.WeakSet[Value] = weakref.WeakSet()


def is_derivative(v: Value) -> bool:
    """True for a Value that grad, hessian or hvp returned (or seeded) as a derivative."""
    return v in _derivatives


def _labelled(g: Any, label: str) -> Value:
    """g as a Value carrying ``label`` (never relabelling a node someone else named)."""
    if not isinstance(g, Value):
        g = Value(g, label=label)  # no path from the root to this input
    elif g.label:  # shared with another derivative (e.g. d(x+y)/dx is d(x+y)/dy)
        with enable_grad():
            g = _ARGUMENT(g)
    g.label = label
    _derivatives.add(g)
    return g


def _wants_values(args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
    """Value mode: a Value among the arguments, or nested inside another grad's f."""
    if _tracing.depth > 0:
        return True
    return any(isinstance(a, Value) for a in args) or any(
        isinstance(a, Value) for a in kwargs.values()
    )


def _wrap_arguments(
    call: list[Any], positions: Sequence[int], value_mode: bool, names: list[str], caller: str
) -> list[Value]:
    """Replace each differentiated argument in ``call`` by the Value to differentiate by."""
    wrt = []
    for i in positions:
        if i >= len(call):
            raise TypeError(
                f"{caller}(): argnums asks for argument {i} but the function was called "
                f"with {len(call)} positional argument(s)"
            )
        a = call[i]
        _check_number(a, f"{caller}(): argument {i}")
        if isinstance(a, Value):
            with enable_grad():
                leaf = _ARGUMENT(a)
            leaf.label = a.label or _name(names, i)
        else:
            leaf = Value(a, label=_name(names, i))
        call[i] = leaf
        wrt.append(leaf)
    return wrt


def _constant_arguments(call: list[Any], positions: Sequence[int], names: list[str]) -> None:
    """Replace each number in ``call`` not differentiated by a constant Value."""
    for i, a in enumerate(call):
        if i in positions or isinstance(a, (bool, Value)) or not isinstance(a, Real):
            continue
        call[i] = _Constant(a, label=_name(names, i))


def _evaluate(f: Callable[..., Any], call: list[Any], kwargs: dict[str, Any], caller: str) -> Any:
    """f(*call, **kwargs), recorded even inside no_grad, and checked to be a scalar."""
    _tracing.depth += 1
    try:
        with enable_grad():
            out = f(*call, **kwargs)
    finally:
        _tracing.depth -= 1
    if isinstance(out, Value):
        return out
    if isinstance(out, Real) and not isinstance(out, bool):
        return float(out)
    raise TypeError(
        f"{caller}(): the function must return a scalar Value or a number, got {_describe(out)}"
    )


def _check_number(a: Any, what: str) -> None:
    if isinstance(a, Value):
        return
    if isinstance(a, bool) or not isinstance(a, Real):
        raise TypeError(f"{what} must be a float or a Value, got {_describe(a)}")


def _check_argnums(argnums: Any) -> tuple[tuple[int, ...], bool]:
    single = not isinstance(argnums, tuple)
    positions = (argnums,) if single else argnums
    if not positions:
        raise ValueError("grad(): argnums is an empty tuple; name at least one argument")
    for i in positions:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(
                f"grad(): argnums must be an int or a tuple of ints, got {_describe(argnums)}"
            )
        if i < 0:
            raise ValueError(f"grad(): argnums must be non-negative, got {i}")
    if len(set(positions)) != len(positions):
        raise ValueError(f"grad(): argnums {argnums} names an argument twice")
    return positions, single


def _argument_names(f: Callable[..., Any]) -> list[str]:
    """Names of f's leading positional parameters, for labels like "df/dx"."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return []
    names = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    return names


def _name(names: list[str], i: int) -> str:
    return names[i] if i < len(names) else f"x{i}"


def _function_name(f: Callable[..., Any]) -> str:
    """f's name in labels: "f" for lambdas, "(df/dx)" for a function made by grad."""
    derived = getattr(f, "_derivative_name", "")
    if derived:
        return derived
    name = getattr(f, "__name__", "")
    return name if name.isidentifier() else "f"


def _describe(x: object) -> str:
    return f"{type(x).__name__} {reprlib.repr(x)}"
