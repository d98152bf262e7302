"""micrograd's way of adding an op: a node built by hand with a ``_backward`` closure.

The lecture writes an op as a method that builds ``out = Value(f(x.data), (x,), 'sin')``
and then sets ``out._backward`` to a closure doing ``x.grad += f'(x) * out.grad``. Here
every other node reads its local derivatives from the rule table, so the closure is kept
in a ``HandWritten`` rule stored in the node's existing ``_rule`` slot (no new slot: a node
stays 112 bytes, and the engine needs no change).

The engine asks a rule for each input's share of the output's gradient g. A closure
does not say it, but it is linear in ``out.grad``: run with ``out.grad = 1`` and every
input's grad at 0, it leaves exactly d(out)/d(input) in each input's grad. ``derivatives``
does that and then puts every grad back; the rule is given by those local derivatives, so
each share is d * g (see ``Rule``). Only numbers come out, so a hand-written node has
first-order derivatives only: graphs of gradients (``create_graph=True``), ``compile``
and ``trace`` need the derivative as an expression, which only a ``Rule`` gives.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from autodiff.core.rules import Rule

if TYPE_CHECKING:
    from autodiff.core.value import Value


class HandWrittenError(RuntimeError):
    """A hand-written node (micrograd's ``_backward`` closure) asked for what only a Rule has."""

    def add_note(self, note: str) -> None:
        """Keep the message one line: it already names the op and what to do."""


def refusal(op: str, what: str) -> HandWrittenError:
    """The one-line refusal for ``what`` on a node whose op ``op`` was written by hand."""
    return HandWrittenError(
        f"op {op!r} was written by hand (a _backward closure), so {what} cannot use it: "
        f"define it as a Rule (autodiff.Rule({op!r}, forward, derivatives)) instead"
    )


class HandWritten(Rule):
    """The rule of one hand-built node: its op's name, and the closure if one was given.

    ``derivatives(*inputs, out)`` runs the closure with ``out.grad = 1`` and the inputs'
    grads at 0, reads d(out)/d(input) from the inputs' grads, and restores every grad.
    """

    __slots__ = ("closure", "_node")

    hand_written = True  # what readers test for: the local derivative is only a closure's

    def __init__(self, name: str, arity: int, node: Value) -> None:
        super().__init__(name, self._no_forward, self._local, arity)
        self.closure: Callable[[], Any] | None = None
        # a weak reference: the node holds this rule, and the pair should not be a cycle
        self._node = weakref.ref(node)

    def _no_forward(self, *inputs: Any) -> float:
        raise refusal(self.name, "compile and trace")

    def _local(self, *args: Any) -> tuple[float, ...]:
        from autodiff.core.value import Value

        node = self._node()
        if any(not isinstance(a, (int, float)) for a in args):
            what = "create_graph=True" if any(isinstance(a, Value) for a in args) else "tracing"
            raise refusal(self.name, f"higher-order derivatives ({what})")
        if self.closure is None:
            raise HandWrittenError(
                f"this node was built by hand with op {self.name!r}, which the rule table does "
                f"not know: give it a _backward closure (out._backward = ...) or make it with a "
                f"Rule (autodiff.Rule({self.name!r}, forward, derivatives))"
            )
        assert node is not None  # the engine is holding it
        inputs = node._prev
        saved_out, saved = node.grad, [v.grad for v in inputs]
        try:
            for v in inputs:
                v.grad = 0.0
            node.grad = 1.0
            self.closure()
            local = [v.grad for v in inputs]
        finally:
            for v, g in zip(inputs, saved, strict=True):
                v.grad = g
            node.grad = saved_out
        if len(inputs) == 2 and inputs[0] is inputs[1]:
            # Value(x.data**2, (x, x), ...): the closure added both uses to one grad
            local[1] = 0.0
        for d in local:
            if isinstance(d, bool) or not isinstance(d, (int, float)):
                raise HandWrittenError(
                    f"the _backward closure of op {self.name!r} left {d!r} in an input's grad; "
                    "expected a number (input.grad += local_derivative * out.grad)"
                )
        return tuple(float(d) for d in local)

    def __repr__(self) -> str:
        return f"HandWritten({self.name!r}, arity={self.arity})"


def is_hand_written(node: Value) -> bool:
    """True if ``node``'s op was written by hand (its derivative is only a closure's)."""
    return isinstance(node._rule, HandWritten)


def set_closure(node: Value, closure: Callable[[], Any]) -> None:
    """``node._backward = closure``: from now on the closure is this node's chain-rule step."""
    if not callable(closure):
        raise TypeError(f"_backward expected a function of no arguments, got {closure!r}")
    rule = node._rule
    if rule is None:  # micrograd's leaves carry `lambda: None`: a leaf has no inputs to feed
        return
    if not isinstance(rule, HandWritten):
        refuse_while_tracing(rule.name)
        rule = HandWritten(rule.name, rule.arity, node)
        node._rule = rule
    rule.closure = closure


def refuse_while_tracing(op: str) -> None:
    """Refuse a hand-written op inside compile/trace: a replay cannot run a closure."""
    from autodiff.core.modes import _modes, state

    if not state.plain and _modes.tracer is not None:
        raise refusal(op, "compile and trace")
