"""Groups for a drawing, read from a model: each neuron's parameters and the ops it made.

``draw_dot(loss, groups=model)`` boxes each neuron of ``model`` (anything with
``named_parameters()``, e.g. an ``nn`` MLP) with its weights, bias, products, sums and
activation, labelled with the neuron's place (``layers.1.neurons.3``), inside a box for
its layer (``layers.1``). A parameter
named ``layers.1.neurons.3.w.2`` belongs to the owner ``layers.1.neurons.3``: the name
without its list index and attribute (``w.2``, ``b``).

Ops join a group as a neuron computes ``act(b + w0*x0 + w1*x1 + ...)``, in graph order:

- an op with a parameter among its inputs joins that parameter's group (``w*x``);
- a two-input op both of whose inputs are in one open group joins it (the sums);
- a one-input op of an open group's op joins it and closes the group for this output
  (the activation): what uses the neuron's output from outside stays outside.

A neuron without an activation op (linear) stays open, so a one-input op applied to
its output (``out ** 2``) is drawn inside its box.
"""

from __future__ import annotations

import re
from typing import Any

from autodiff.core.value import Value


def owner_of(name: str) -> str:
    """``layers.1.neurons.3.w.2`` -> ``layers.1.neurons.3``; ``b`` (a top-level one) -> ``""``."""
    stripped = re.sub(r"(\.\d+)+\Z", "", name)
    return stripped.rpartition(".")[0]


def enclosing(group: str) -> str | None:
    """The box around a neuron's box: ``layers.1.neurons.3`` -> ``layers.1`` (a name ending
    in an attribute and an index loses them); None for a name with no such ending."""
    outer = re.sub(r"\.[^.]+\.\d+\Z", "", group)
    return outer if outer and outer != group else None


def model_groups(order: list[Value], model: Any) -> dict[str, list[Value]]:
    """{neuron path: its Values in ``order``}, from ``model.named_parameters()``."""
    try:
        named = list(model.named_parameters())
    except Exception as error:
        raise TypeError(
            f"groups= expected a mapping of names to Values or a model with "
            f"named_parameters(), got {type(model).__name__}: {error}"
        ) from None
    group: dict[Value, str] = {}
    for name, p in named:
        if not isinstance(p, Value):
            raise TypeError(f"groups=: the model's parameter {name!r} is not a Value")
        group[p] = owner_of(name) or type(model).__name__
    closed: set[Value] = set()  # outputs of a neuron: its activation
    for v in order:
        if v._rule is None or v in group:
            continue
        inputs = v._prev
        owners = {group[u] for u in inputs if u._rule is None and u in group}
        if len(owners) == 1:
            group[v] = owners.pop()
        elif not owners:
            open_owners = {group.get(u) for u in inputs if u not in closed}
            if len(open_owners) == 1 and None not in open_owners:
                group[v] = open_owners.pop()  # type: ignore[assignment]
                if len(inputs) == 1:
                    closed.add(v)
    groups: dict[str, list[Value]] = {group[p]: [] for _, p in named}  # the model's order
    for v in order:
        if v in group:
            groups[group[v]].append(v)
    return {name: members for name, members in groups.items() if members}
