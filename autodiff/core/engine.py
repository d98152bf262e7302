"""Graph traversal and the backward pass. No op is named here: every input's share
of a gradient comes from the op's Rule (see ``autodiff.core.rules``)."""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from typing import Any

from autodiff.core.modes import _recording_derivatives, state
from autodiff.core.value import Value, _Constant, _to_float


def topological_order(root: Value) -> list[Value]:
    """Every Value that ``root`` depends on, inputs before the ops that use them.

    Iterative depth-first search, so a chain of a million ops needs no recursion.
    When a node is first reached it is pushed back under a ``None`` marker, then
    its inputs on top; popping the marker means all of its inputs are placed, so
    the node is placed next. ``root`` comes last.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order() expected a Value, got {type(root).__name__}")
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[Value | None] = [root]
    push, pop, see, place = stack.append, stack.pop, seen.add, order.append
    while stack:
        node = pop()
        if node is None:
            place(pop())
            continue
        if node in seen:
            continue
        see(node)
        push(node)
        push(None)
        x = node._x
        if x is not None:
            if x not in seen:
                push(x)
            y = node._y
            if y is not None and y not in seen:
                push(y)
    return order


_REACHED = object()  # an op's grad during backward: reached in this pass, no gradient yet


def _order(root: Value) -> list[Value]:
    """The ops ``root`` depends on, root first and every op before its inputs (the reverse
    of topological_order, without the leaves), each op's ``grad`` set to _REACHED.

    _REACHED is backward's visited mark and its fresh start at once: an op's gradient is
    recomputed on every call, so its grad slot is free to say "reached in this pass" (no
    set to hash every node into, no extra slot per node). The backward loop assigns the
    first gradient that arrives and adds the rest. Leaves are skipped: they pass nothing on.
    Same depth-first search as topological_order; ``root`` must be an op.
    """
    order: list[Value] = []
    stack: list[Value | None] = [root]
    push, pop, place = stack.append, stack.pop, order.append
    reached = _REACHED  # a local: read several times per node
    try:
        while stack:
            node = pop()
            if node is None:
                place(pop())
                continue
            if node.grad is reached:  # already reached through another path
                continue
            node.grad = reached
            push(node)
            push(None)
            x = node._x
            if x._rule is not None and x.grad is not reached:
                push(x)
            y = node._y
            if y is not None and y._rule is not None and y.grad is not reached:
                push(y)
    except BaseException:  # e.g. KeyboardInterrupt: leave no op marked
        for node in topological_order(root):
            if node.grad is _REACHED:
                node.grad = 0.0
        raise
    order.reverse()
    return order


def zero_grad(values: Iterable[Value]) -> None:
    """Set ``.grad`` of each Value to 0.0 (e.g. parameters before a new step)."""
    for v in values:
        v.grad = 0.0


def backward(root: Value, gradient: float = 1.0, create_graph: bool = False) -> None:
    """Chain rule, output to inputs: fill ``.grad`` of every Value ``root`` depends on.

    For each op, in reverse topological order, each input receives its share of the
    op's output grad g, as the op's rule says (``vjp``: ``d(out)/d(input) * g`` masked
    or divided as PyTorch), summed over every use.
    Leaves accumulate across calls; intermediate Values are recomputed each call.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward() expected a Value, got {type(root).__name__}")
    seed = _seed(gradient)
    if create_graph:
        _store_graph_gradients(root, seed)
        return
    if root._rule is None:
        root.grad += seed
        return
    order = _order(root)  # op grads become _REACHED: "start fresh"
    root.grad = seed
    checking = state.anomaly
    reached = _REACHED  # a local: read once per input in the loop below
    # The fast first-order path: shares evaluated on floats, stored in .grad.
    # A grad still _REACHED has had no gradient yet: assign the first, add the rest.
    node = root
    try:
        for node in order:
            g = node.grad
            x = node._x
            y = node._y
            vjp = node._rule.vjp  # an attribute, then a call: no method lookup
            if y is None:
                (sx,) = vjp(g, x.data, node.data)
                gx = x.grad
                x.grad = sx if gx is reached else gx + sx
            else:
                sx, sy = vjp(g, x.data, y.data, node.data)
                gx = x.grad
                x.grad = sx if gx is reached else gx + sx
                gy = y.grad
                y.grad = sy if gy is reached else gy + sy
            if checking:
                _check_gradients(node, node._prev, [v.grad for v in node._prev], g)
    except BaseException as exc:  # only a custom rule can fail here: say which one
        for v in order:  # ops no gradient reached keep the mark: give them 0.0
            if v.grad is reached:
                v.grad = 0.0
        if not isinstance(exc, Exception):  # KeyboardInterrupt ...
            raise
        args = [v.data for v in node._prev] + [node.data]
        if isinstance(exc, (TypeError, ValueError)):  # most likely the wrong shape
            try:
                _checked(node._rule, node._rule.vjp(1.0, *args), len(args) - 1)
            except TypeError as shape:
                raise shape from exc
            except Exception:
                pass
        if hasattr(exc, "add_note"):  # Python 3.11+
            form = "derivatives" if getattr(node._rule, "multiplies", True) else "vjp"
            exc.add_note(f"(raised by the {form} of op '{node._op}' during backward)")
        raise


def gradients(
    root: Value,
    wrt: Sequence[Value],
    gradient: float | Value = 1.0,
    create_graph: bool = False,
) -> list[Any]:
    """d(root)/d(w) for each w in ``wrt``, leaving every ``.grad`` untouched.

    With ``create_graph=True`` each gradient is a Value whose own graph leads back
    to the inputs, so it can be differentiated again (second derivatives). A ``w``
    that ``root`` does not depend on gets 0.0.
    """
    if not isinstance(root, Value):
        raise TypeError(f"gradients() expected a Value as root, got {type(root).__name__}")
    if isinstance(wrt, Value) or not isinstance(wrt, (list, tuple)):
        raise TypeError(f"gradients() expected a list of Values as wrt, got {type(wrt).__name__}")
    for i, w in enumerate(wrt):
        if not isinstance(w, Value):
            raise TypeError(f"gradients() wrt[{i}] should be a Value, got {type(w).__name__}")
    if isinstance(gradient, Value) and not create_graph:
        gradient = gradient.data
    seed = gradient if isinstance(gradient, Value) else _seed(gradient)
    grads = _propagate(root, seed, create_graph)
    return [grads.get(w, 0.0) for w in wrt]


def _checked(rule: Any, local: Any, n: int) -> Any:
    """The shares, or a clear error if a (custom) rule returned the wrong shape."""
    if isinstance(local, (tuple, list)) and len(local) == n:
        return local
    form = "derivatives" if getattr(rule, "multiplies", True) else "vjp"
    raise TypeError(
        f"{form} of op '{rule.name}' must return a tuple of {n} value(s), "
        f"one per input; got {local!r}"
    )


def _seed(gradient: object) -> float:
    return _to_float(gradient, "backward() gradient")


def _propagate(root: Value, seed: float | Value, create_graph: bool) -> dict[Value, Any]:
    """The general backward pass: a dict of gradients, as floats or as Values."""
    order = topological_order(root)
    if create_graph and not isinstance(seed, Value):
        seed = _Constant(seed)  # a leaf no one differentiates by
    grads: dict[Value, Any] = {root: seed}
    checking = state.anomaly
    with _recording_derivatives() if create_graph else nullcontext():
        for node in reversed(order):
            rule = node._rule
            g = grads.get(node)
            if rule is None or g is None:
                continue
            inputs = node._prev
            if create_graph:  # shares of Values: a graph of the gradient itself
                shares = rule.vjp(g, *inputs, node)
            else:
                shares = rule.vjp(g, *[v.data for v in inputs], node.data)
            for v, share in zip(inputs, _checked(rule, shares, len(inputs)), strict=True):
                grads[v] = grads[v] + share if v in grads else share
            if checking:
                _check_gradients(node, inputs, [grads[v] for v in inputs], g)
    return grads


def _store_graph_gradients(root: Value, seed: float) -> None:
    """backward(create_graph=True): leaves get Value gradients (accumulating); intermediate
    Values get the float, as a Value there would tie the node into a reference cycle
    (node -> grad -> graph -> node) and keep the graph alive after it is dropped.

    A leaf's Value gradient usually leads back to a leaf (d(x*x)/dx = 2x refers to x),
    which is such a cycle; as PyTorch does, warn, saying how to break it."""
    grads = _propagate(root, seed, create_graph=True)
    holders = []
    for node, g in grads.items():
        if node._rule is not None:
            node.grad = _plain(g)
            continue
        if type(node) is _Constant:
            g = _plain(g)
        if type(node.grad) is float and node.grad == 0.0:
            node.grad = g
        else:
            node.grad = node.grad + g
        if isinstance(node.grad, Value):
            holders.append(node)
    cycle = _reference_cycle(holders)
    if cycle:
        warnings.warn(_cycle_message(cycle), UserWarning, stacklevel=_callers_level())


def _reference_cycle(starts: list[Value]) -> list[Value]:
    """The leaves on one chain of references from a Value back to itself, or [] if none.

    A Value refers to its inputs and, when it holds one, to its Value gradient; the
    input edges alone never close a loop, so every cycle passes through a ``.grad``.
    Iterative depth-first search with the usual three colours (unseen, on the path,
    done): reaching a Value that is on the path closes a cycle.
    """
    on_path, done = 1, 2
    colour: dict[Value, int] = {}
    for start in starts:
        if start in colour:
            continue
        colour[start] = on_path
        path, pending = [start], [_references(start)]
        while pending:
            if not pending[-1]:
                colour[path.pop()] = done
                pending.pop()
                continue
            nxt = pending[-1].pop()
            seen = colour.get(nxt)
            if seen is None:
                colour[nxt] = on_path
                path.append(nxt)
                pending.append(_references(nxt))
            elif seen == on_path:
                return [v for v in path[path.index(nxt) :] if v._rule is None]
    return []


def _references(v: Value) -> list[Value]:
    refs = [v.grad] if isinstance(v.grad, Value) else []
    if v._x is not None:
        refs.append(v._x)
        if v._y is not None:
            refs.append(v._y)
    return refs


def _cycle_message(leaves: list[Value]) -> str:
    named = next((i for i, v in enumerate(leaves) if v.label), 0)
    leaves = leaves[named:] + leaves[:named]  # start at a leaf the user named, if any
    names = [v.label or f"Value(data={v.data})" for v in leaves]
    first = names[0]
    through = f", through the .grad of {', '.join(names[1:4])}" if len(names) > 1 else ""
    more = f" and {len(names) - 4} more" if len(names) > 4 else ""
    return (
        f"backward(create_graph=True) made a reference cycle: the gradient graph stored in "
        f"{first}.grad leads back to {first}{through}{more}, so the graph is freed only by the "
        f"garbage collector, not when dropped. When done with the gradient, set "
        f"{first}.grad = 0.0 (autodiff.zero_grad(params) for all); "
        f"autodiff.gradients(y, wrt, create_graph=True) stores nothing and makes no cycle."
    )


def _callers_level() -> int:
    """The stacklevel of the first frame outside autodiff.core: the user's call."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("autodiff.core"):
        frame, level = frame.f_back, level + 1
    return level


def _check_gradients(node: Value, inputs: Any, grads: list[Any], upstream: Any) -> None:
    for i, g in enumerate(grads):
        g = _plain(g)
        if not math.isfinite(g):
            args = ", ".join(repr(v.data) for v in inputs)
            raise FloatingPointError(
                f"backward of op '{node._op}' produced gradient {g} for its input #{i} "
                f"(inputs ({args}), output {node.data}, output grad {_plain(upstream)})"
            )


def _plain(g: Any) -> float:
    return g.data if isinstance(g, Value) else g


def chain_step(node: Value) -> None:
    """One step of the chain rule at ``node``, micrograd's ``_backward``:

        input.grad += share of node.grad    for each input of node's op,

    the shares (d(node)/d(input) * node.grad, masked or divided as the rule says) read
    from the op's rule, evaluated on floats. Nothing for a
    leaf. Calling it for every node in reverse topological order is backward().
    """
    rule = node._rule
    if rule is None:
        return
    g = node.grad
    if isinstance(g, Value):
        raise TypeError(
            f"_backward() is first-order, but the grad of this '{rule.name}' node is a Value "
            "(from create_graph=True); use backward() for graphs of gradients"
        )
    x, y = node._x, node._y
    if y is None:
        (sx,) = _checked(rule, rule.vjp(g, x.data, node.data), 1)
        x.grad += sx
    else:
        sx, sy = _checked(rule, rule.vjp(g, x.data, y.data, node.data), 2)
        x.grad += sx
        y.grad += sy
    if state.anomaly:
        _check_gradients(node, node._prev, [v.grad for v in node._prev], g)
