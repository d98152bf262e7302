"""The chain rule, spelled out: every path from an input to the output.

d(root)/d(wrt) is a sum over all paths from ``wrt`` to ``root`` in the graph; each
path contributes the product of its edges' local derivatives:

    d root / d wrt  =  sum over paths  prod over edges (u -> v)  d v / d u

That sum is exactly what ``backward`` computes, but backward shares the work
between paths (each node's gradient is computed once and reused by every path
through it). ``explain`` lists the paths one by one so a reader can check it.
Local derivatives come from the rule table; nothing here re-derives them.

Factors run from one labelled Value to the next (``di/dw · do/di``). Where that would
give two paths the same name (``y = a*a + a`` without labels: three paths all ``dy/da``),
every Value on the paths is named, an unlabelled one by its place in the graph (``v2``,
as in ``graph_facts.value_names``), and the text says what each such name is
(``v2 = a * a``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from autodiff.core.engine import topological_order
from autodiff.core.value import Value
from autodiff.readers.graph_facts import is_hand_written, local_derivatives, value_names


@dataclass(frozen=True)
class Edge:
    """One step of a path: ``output`` = op(..., ``input``, ...), with d output/d input."""

    input: Value
    output: Value
    op: str
    local: float
    hand_written: bool = False  # the op's local derivative is its _backward closure's
    # how backward passes a gradient along this edge, read when the path was found: the
    # op's rule, the input's position, and the op's inputs and output as numbers then
    position: int = field(default=0, repr=False)
    numbers: tuple[float, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Factor:
    """The edges between two named Values, multiplied: d ``top``/d ``bottom``."""

    top: str
    bottom: str
    value: float
    edges: tuple[Edge, ...]

    def __str__(self) -> str:
        return f"d{self.top}/d{self.bottom}"


@dataclass(frozen=True)
class ChainPath:
    """One route from wrt to root; its contribution is the product of its edges."""

    edges: tuple[Edge, ...]
    factors: tuple[Factor, ...]

    @property
    def product(self) -> float:
        return _chain(self.edges)


@dataclass(frozen=True)
class Explanation:
    """d(root)/d(wrt) as a sum of path products. ``total`` equals wrt.grad up to the
    last bits: backward sums at every node, this sums whole paths."""

    root_name: str
    wrt_name: str
    paths: tuple[ChainPath, ...]
    precision: int = field(default=4, compare=False)
    where: tuple[str, ...] = field(default=(), compare=False)  # "v2 = a * a", ...

    @property
    def total(self) -> float:
        return math.fsum(p.product for p in self.paths)

    def format_path(self, path: ChainPath, precision: int | None = None) -> str:
        """'di/dw5 · do/di · dC/do = 0.4134 · 0.2049 · -0.5755 = -0.0488'."""
        p = self.precision if precision is None else precision
        if not path.factors:
            return f"1 ({self.root_name} is {self.wrt_name} itself)"
        (first, *rest) = path.factors
        if not rest and len(self.paths) > 1:
            # one factor from wrt straight to root would read d root/d wrt, the total's own
            # name with another value: name the route by its ops instead
            ops = ", ".join(f"'{e.op}'" for e in first.edges)
            return f"{self.wrt_name} into {self.root_name} through {ops} = {path.product:.{p}f}"
        names = " · ".join(str(f) for f in path.factors)
        values = " · ".join(f"{f.value:.{p}f}" for f in path.factors)
        return f"{names} = {values} = {path.product:.{p}f}"

    def __str__(self) -> str:
        p = self.precision
        head = f"d{self.root_name}/d{self.wrt_name}"
        if not self.paths:
            return f"{head} = 0 ({self.root_name} does not depend on {self.wrt_name})"
        if len(self.paths) == 1:
            (path,) = self.paths
            if len(path.factors) == 1:  # the one factor is the head itself: say it once
                lines = [f"{head} = {path.product:.{p}f}"]
            else:
                lines = [f"{head} = {self.format_path(path)}"]
        else:
            lines = [f"{head} = sum over {len(self.paths)} paths:"]
            lines += [
                f"  path {i + 1}: {self.format_path(path)}" for i, path in enumerate(self.paths)
            ]
            lines.append(f"  total = {self.total:.{p}f}")
        if self.where:
            lines.append("  where " + ", ".join(self.where))
        hand = sorted({e.op for path in self.paths for e in path.edges if e.hand_written})
        for op in hand:
            lines.append(
                f"  ({op!r} was written by hand: its local derivative is what its _backward "
                "closure passes back for an output grad of 1)"
            )
        return "\n".join(lines)


def explain(root: Value, wrt: Value, max_paths: int = 64, precision: int = 4) -> Explanation:
    """Decompose d(root)/d(wrt) into its chain-rule paths, read from the recorded graph.

    Each path's edges carry the op and its local derivative (from the rule table,
    evaluated at the recorded values); edges between named (labelled) Values are
    grouped into factors such as di/dw. Raises ValueError when there are more than
    ``max_paths`` paths, which grow exponentially with depth in some graphs; the
    message gives the count: exact below 2^64 (or max_paths, if larger), and beyond
    that an estimate such as ``about 2.8e4515``.
    """
    if not isinstance(root, Value) or not isinstance(wrt, Value):
        raise TypeError(
            f"explain() expects two Values, got {type(root).__name__} and {type(wrt).__name__}"
        )
    order = topological_order(root)
    cap = max(_EXACT_UP_TO, max_paths + 1)
    count = _count_paths(order, wrt, cap)
    if count > max_paths:
        shown = str(count) if count < cap else f"about {_scientific(_log2_paths(order, wrt))}"
        raise ValueError(
            f"d{_name(root, 'root')}/d{_name(wrt, 'wrt')} has {shown} chain-rule paths, more "
            f"than max_paths={max_paths}; pass a larger max_paths= or explain a smaller graph"
        )
    reaches = {wrt} if count else set()
    for node in order:  # nodes with a path from wrt: only those lie on a path to root
        if any(v in reaches for v in node._prev):
            reaches.add(node)
    consumers: dict[Value, list[tuple[Value, int]]] = {}
    for node in order:
        if node in reaches:
            for i, v in enumerate(node._prev):
                if v in reaches:
                    consumers.setdefault(v, []).append((node, i))
    walked = _walk(wrt, root, consumers)
    names = {v: v.label for v in order if v.label}
    names[root], names[wrt] = _name(root, "root"), _name(wrt, "wrt")
    paths = [ChainPath(edges, _group(edges, wrt, root, names)) for edges in walked]
    where: list[str] = []
    if len({tuple(str(f) for f in path.factors) for path in paths}) < len(paths):
        # two paths would read the same: name every Value on them (v2 = a * a ...)
        everyone = {**value_names(order), **names}
        paths = [ChainPath(edges, _group(edges, wrt, root, everyone)) for edges in walked]
        on_paths = dict.fromkeys(e.output for path in paths for e in path.edges)
        where = [_definition(v, everyone) for v in on_paths if v not in names]
    paths.sort(key=lambda path: [str(f) for f in path.factors])  # o1 before o2: reads naturally
    return Explanation(names[root], names[wrt], tuple(paths), precision, tuple(where))


_INFIX = {"+", "-", "*", "/", "**"}


def _definition(v: Value, names: dict[Value, str]) -> str:
    """'v2 = a * a', 'v3 = tanh(v2)': what an unlabelled Value's name stands for."""
    args = [names.get(u) or repr(u.data) for u in v._prev]
    both = " (one path through each input)" if len(args) == 2 and v._x is v._y else ""
    if len(args) == 2 and v._op in _INFIX:
        return f"{names[v]} = {args[0]} {v._op} {args[1]}{both}"
    return f"{names[v]} = {v._op}({', '.join(args)}){both}"


# Path counts are exact below this and saturate at it, so counting stays linear in
# the graph's size: a chain of n doublings has 2^n paths, and exact n-bit counts at
# every node would make counting quadratic (minutes for a million ops).
_EXACT_UP_TO = 2**64


def _count_paths(order: list[Value], wrt: Value, cap: int) -> int:
    """min(number of paths from wrt to order[-1], cap)."""
    counts = {wrt: 1}
    for node in order:
        n = sum(counts.get(v, 0) for v in node._prev)
        if n:
            counts[node] = min(counts.get(node, 0) + n, cap)
    return counts.get(order[-1], 0)


def _log2_paths(order: list[Value], wrt: Value) -> float:
    """log2 of the number of paths from wrt to order[-1], counted in the log domain.

    log2(2^a + 2^b) = max(a, b) + log2(1 + 2^-(|a - b|)), so no count overflows.
    """
    logs = {wrt: 0.0}
    for node in order:
        for v in node._prev:
            if v in logs:
                a, b = logs[v], logs.get(node, -math.inf)
                hi, lo = max(a, b), min(a, b)
                logs[node] = hi + math.log2(1.0 + 2.0 ** (lo - hi))
    return logs[order[-1]]


def _scientific(log2_count: float) -> str:
    """2^log2_count as '2.8e4515', without ever forming the number."""
    log10 = log2_count * math.log10(2.0)
    exponent = math.floor(log10)
    mantissa = 10.0 ** (log10 - exponent)
    if round(mantissa, 1) >= 10.0:
        mantissa, exponent = 1.0, exponent + 1
    return f"{mantissa:.1f}e{exponent}"


def _local(node: Value, i: int) -> float:
    return local_derivatives(node)[i]


def _walk(start: Value, root: Value, consumers: dict) -> list[tuple[Edge, ...]]:
    """All edge sequences from start to root (iterative; the count was checked first).

    Each stack entry links to the entry it came from, so a step costs O(1) and a
    path's tuple is built once, when it reaches root.
    """
    found = []
    stack: list[tuple[Value, Any]] = [(start, None)]  # (node, (edge, link) or None)
    while stack:
        node, link = stack.pop()
        if node is root:
            edges = []
            while link is not None:
                edge, link = link
                edges.append(edge)
            found.append(tuple(reversed(edges)))
            continue
        for out, i in reversed(consumers.get(node, [])):
            numbers = (*[v.data for v in out._prev], out.data)
            edge = Edge(node, out, out._op, _local(out, i), is_hand_written(out), i, numbers)
            stack.append((out, (edge, link)))
    return found


def _group(
    edges: tuple[Edge, ...], wrt: Value, root: Value, names: dict[Value, str]
) -> tuple[Factor, ...]:
    """Merge runs of edges so that every factor goes from one named Value to the next."""
    factors = []
    bottom = wrt
    run: list[Edge] = []
    for edge in edges:
        run.append(edge)
        if edge.output in names or edge.output is root:
            factors.append(Factor(names[edge.output], names[bottom], _chain(run), tuple(run)))
            bottom = edge.output
            run = []
    return tuple(factors)


def _chain(edges: tuple[Edge, ...] | list[Edge]) -> float:
    """The product of the edges' local derivatives, taken as backward takes it: from the
    output end, each edge passes its input's share of what arrived from above (the op's
    rule says how: d * g, or masked, or divided; see rules.Rule's vjp)."""
    g = 1.0
    for edge in reversed(edges):
        g = edge.output._rule.vjp(g, *edge.numbers)[edge.position]
    return g


def _name(v: Value, fallback: str) -> str:
    return v.label or fallback
