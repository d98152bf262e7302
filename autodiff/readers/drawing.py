"""Draw a computation graph with Graphviz: every Value's data and gradient, every op.

``draw_dot(root)`` returns a ``graphviz.Digraph`` (it displays inline in Jupyter);
``render(root, "graph.svg")`` writes it with the real Graphviz ``dot`` program.

Each Value is one box (label, data, grad); each operation is one small ellipse between
its inputs and its output. Leaves (inputs, parameters, constants) are blue, gradient
nodes built by ``backward(create_graph=True)`` (labels like "dy/dx") are amber.
Labels are HTML-like Graphviz labels, so any user text is escaped as XML and ``dot``
never sees a special character. Node ids come from the traversal order, so the same
graph always gives the same DOT text, byte for byte.
"""

from __future__ import annotations

import html
import math
import os
import shutil
import signal
import subprocess
import tempfile
import warnings
from collections.abc import Container, Iterable, Mapping
from pathlib import Path
from typing import Any

import graphviz

from autodiff.core.engine import topological_order
from autodiff.core.higher import is_derivative
from autodiff.core.value import Value

DEFAULT_MAX_NODES = 2000
"""Graphs with more Values than this are refused: ``dot`` would take minutes."""

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
"""File extensions ``render`` understands, and the Graphviz output format of each."""

RANKDIRS = ("LR", "RL", "TB", "BT")

_LEAF_FILL = "#dbeafe"
_NODE_FILL = "#ffffff"
_GRADIENT_FILL = "#fef3c7"
_HIGHLIGHT_FILL = "#fde047"
_OP_FILL = "#f3f4f6"
_POSITIVE = (37, 99, 235)
_NEGATIVE = (220, 38, 38)
_NAN_FILL = "#d1d5db"
_CLUSTER_FILL = "#f9fafb"
_CLUSTER_LINE = "#9ca3af"


class GraphvizError(RuntimeError):
    """Graphviz's ``dot`` failed to draw a graph."""


class GraphvizNotFound(GraphvizError):
    """Graphviz's ``dot`` program is not installed (the DOT source was saved instead).

    ``saved_to`` is where the DOT source was written.
    """

    def __init__(self, message: str, saved_to: Path | None = None) -> None:
        super().__init__(message)
        self.saved_to = saved_to


class GraphTooLarge(ValueError):
    """A graph with more Values than ``max_nodes``."""


def draw_dot(
    root: Value,
    rankdir: str = "LR",
    precision: int = 4,
    show_grad: bool = True,
    *,
    color_grad: bool = False,
    show_local: bool = False,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    groups: Mapping[str, Iterable[Value]] | None = None,
) -> graphviz.Digraph:
    """The graph of ``root`` and every Value it depends on, as a ``graphviz.Digraph``.

    rankdir     layout direction: "LR" (inputs left, output right), "TB", "RL", "BT".
    precision   decimals shown for data and grad ("data 0.7071 | grad 0.5000").
    show_grad   show each Value's ``.grad`` (call ``root.backward()`` first).
    color_grad  tint each grad cell by its sign (blue +, red -) and its size
                relative to the largest gradient shown.
    show_local  write on each input -> op edge the op's local derivative
                d(output)/d(input), read from the op's rule, never re-derived.
    max_nodes   refuse (GraphTooLarge) a graph with more Values than this; None: no limit.
    groups      {"h1": [Values], ...}: draw each group's Values, with the ops that made
                them, inside a box labelled with its name (a neuron, a layer, the loss).
    """
    order = _values(root, max_nodes)
    return _build(
        order,
        rankdir=rankdir,
        precision=precision,
        show_grad=show_grad,
        color_grad=color_grad,
        show_local=show_local,
        groups=groups,
    )


def render(root: Value, path: str | os.PathLike[str], **draw_options: Any) -> Path:
    """Draw ``root``'s graph into ``path``; the format comes from the extension.

    ``.svg .png .pdf`` are written by Graphviz's ``dot``; ``.dot .gv`` are the DOT
    source itself. ``draw_options`` are those of ``draw_dot``. If ``dot`` is not
    installed the DOT source is saved next to ``path`` (same name, ``.dot``) and
    GraphvizNotFound is raised, saying where it is and how to install Graphviz.
    """
    path = Path(path)
    fmt = _format_of(path)
    source = draw_dot(root, **draw_options).source
    _write_graph(source, fmt, path)
    return path


def _write_graph(source: str, fmt: str, path: Path) -> None:
    """Write DOT ``source`` to ``path`` as ``fmt`` ("svg", "png", "pdf" or "dot").

    The file appears complete or not at all (written aside, then renamed).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        _write_text(path, source)
        return
    dot = shutil.which("dot")
    if dot is None:
        saved = path.with_suffix(".dot")
        _write_text(saved, source)
        raise GraphvizNotFound(_missing_dot(path, saved, fmt, "was not written"), saved)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".{fmt}")
    os.close(fd)
    try:
        try:
            done = subprocess.run(
                [dot, f"-T{fmt}", "-o", temporary],
                input=source.encode("utf-8"),
                capture_output=True,
                check=False,
            )
        except OSError as error:  # found on PATH but not runnable
            saved = path.with_suffix(".dot")
            _write_text(saved, source)
            raise GraphvizNotFound(
                _missing_dot(path, saved, fmt, f"was not written ({error})"), saved
            ) from None
        message = done.stderr.decode("utf-8", errors="replace").strip()
        if done.returncode < 0:  # killed by a signal: dot itself crashed
            raise GraphvizError(
                f"Graphviz's dot crashed ({_signal_name(-done.returncode)}) while laying out "
                f"{path.name}; dense graphs (one Value used by many ops) can do this: "
                "draw a smaller expression or save the .dot file and try another layout"
            )
        if done.returncode != 0:
            first = message.splitlines()[0] if message else "no message"
            raise GraphvizError(f"Graphviz's dot failed (exit {done.returncode}): {first}")
        _publish(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    if message:
        warnings.warn(f"Graphviz's dot: {message}", RuntimeWarning, stacklevel=3)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _missing_dot(path: Path, saved: Path, fmt: str, consequence: str) -> str:
    return _not_found_message(
        f"{path} {consequence}; the DOT source was saved to {saved}",
        f"run again, or run: dot -T{fmt} {saved} -o {path}",
    )


def _not_found_message(what_happened: str, then: str) -> str:
    """The one-line explanation given when Graphviz's ``dot`` is missing."""
    return (
        f"Graphviz's `dot` program was not found on PATH, so {what_happened}. Install "
        f"Graphviz (Debian/Ubuntu: apt-get install graphviz, macOS: brew install graphviz, "
        f"others: https://graphviz.org/download/) and {then}"
    )


def _format_of(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(FORMATS)
        raise ValueError(f"cannot tell the format of {str(path)!r}: use an extension of {known}")
    return fmt


def _values(root: Value, max_nodes: int | None) -> list[Value]:
    """Every Value of the graph, inputs first; GraphTooLarge beyond ``max_nodes``."""
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value to draw, got {type(root).__name__}")
    if max_nodes is not None:
        if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
            raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
        if _count_up_to(root, max_nodes) > max_nodes:
            raise GraphTooLarge(
                f"the graph has more than {max_nodes} values, too many to lay out quickly; "
                f"pass max_nodes= a larger number (or None) to draw it anyway, "
                f"or draw a smaller expression"
            )
    return topological_order(root)


def _count_up_to(root: Value, limit: int) -> int:
    """The number of Values in the graph, counting no further than limit + 1."""
    seen = {root}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if child not in seen:
                seen.add(child)
                if len(seen) > limit:
                    return len(seen)
                stack.append(child)
    return len(seen)


def _check_options(rankdir: str, precision: int) -> None:
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 17:
        raise ValueError(f"precision must be an int from 0 to 17, got {precision!r}")


def _build(
    order: list[Value],
    *,
    rankdir: str,
    precision: int,
    show_grad: bool,
    color_grad: bool,
    show_local: bool,
    grads: Mapping[Value, Any] | None = None,
    visible: Container[Value] | None = None,
    highlight: Value | None = None,
    groups: Mapping[str, Iterable[Value]] | None = None,
) -> graphviz.Digraph:
    """The Digraph of the Values in ``order`` (inputs first).

    ``grads`` replaces ``.grad`` as the gradients shown; ``visible`` limits which of
    them are readable: the others are drawn in the box's own colour, so every frame
    of a sequence keeps the same layout. ``highlight`` marks one Value and its op.
    ``groups`` draws named sets of Values inside labelled boxes (see ``_clusters``).
    """
    _check_options(rankdir, precision)
    graph = graphviz.Digraph(
        name="autodiff",
        graph_attr={"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.4"},
        node_attr={"fontname": "Helvetica,Arial,sans-serif", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica,Arial,sans-serif", "fontsize": "9", "arrowsize": "0.7"},
    )
    ids = _node_ids(order)
    clusters = _clusters(graph, order, groups or {})
    grad_of = (lambda v: v.grad) if grads is None else grads.get
    scale = _largest(grad_of(v) for v in order if visible is None or v in visible)
    for v in order:
        readable = show_grad and (visible is None or v in visible)
        home = clusters.get(v, graph)  # a node is in the cluster where it is declared
        home.node(
            ids[v],
            label=_box(
                v,
                precision,
                show_grad,
                readable,
                grad_of(v),
                scale if color_grad else 0.0,
                v is highlight,
                stacked=bool(clusters),
            ),
            shape="none",
            margin="0",
        )
        if v._rule is None:
            continue
        op = ids[v] + "op"
        fill = _HIGHLIGHT_FILL if v is highlight else _OP_FILL
        home.node(
            op,
            label=f"<{_escape(v._op)}>",
            shape="ellipse",
            style="filled",
            fillcolor=fill,
            fontsize="10",
            margin="0.04,0.02",
            height="0.3",
        )
        locals_ = _local_derivatives(v) if show_local else None
        for i, child in enumerate(v._prev):
            attrs = {"penwidth": "2"} if v is highlight else {}
            if locals_ is not None:
                attrs["label"] = f"<local {_number(locals_[i], precision)}>"
                attrs["fontcolor"] = "#4b5563"
            graph.edge(ids[child], op, **attrs)
        graph.edge(op, ids[v])
    for cluster in dict.fromkeys(clusters.values()):  # each once, in the groups' order
        graph.subgraph(cluster)
    return graph


def _node_ids(order: list[Value]) -> dict[Value, str]:
    """Each Value's DOT node name ("v3"; its op is "v3op"), from its place in ``order``."""
    return {v: f"v{i}" for i, v in enumerate(order)}


def _clusters(
    graph: graphviz.Digraph, order: list[Value], groups: Mapping[str, Iterable[Value]]
) -> dict[Value, graphviz.Digraph]:
    """The labelled cluster (a Graphviz subgraph, drawn as a box) of each grouped Value.

    ``groups`` maps a name ("h1") to the Values drawn inside a box of that name, each
    with the op that produced it. A Value may be in one group at most, and every Value
    listed must belong to the graph being drawn.
    """
    in_graph = set(order)
    home: dict[Value, graphviz.Digraph] = {}
    owner: dict[Value, str] = {}
    for k, (name, members) in enumerate(groups.items()):
        if not isinstance(name, str):
            raise TypeError(f"group names must be str, got {name!r}")
        cluster = graphviz.Digraph(
            name=f"cluster_{k}",
            graph_attr={
                "label": f"<<B>{_escape(name)}</B>>",
                "labeljust": "l",
                "fontname": "Helvetica,Arial,sans-serif",
                "fontsize": "14",
                "style": "rounded,filled",
                "color": _CLUSTER_LINE,
                "fillcolor": _CLUSTER_FILL,
            },
        )
        for v in members:
            if not isinstance(v, Value):
                raise TypeError(f"group {name!r} lists {v!r}; expected Values of the graph")
            if v not in in_graph:
                raise ValueError(f"group {name!r} lists {_describe(v)}, which is not in the graph")
            if v in owner and owner[v] != name:
                raise ValueError(f"{_describe(v)} is in two groups, {owner[v]!r} and {name!r}")
            owner[v] = name
            home[v] = cluster
    return home


def _describe(v: Value) -> str:
    return f"the Value {v.label!r}" if v.label else f"a Value with data {v.data!r}"


def _box(
    v: Value,
    precision: int,
    show_grad: bool,
    readable: bool,
    grad: Any,
    scale: float,
    highlighted: bool,
    stacked: bool = False,
) -> str:
    """A Value's HTML-like label: one row of cells, label | data | grad.

    ``stacked`` puts the cells in one column instead (label over data over grad): a
    box a third as wide, which keeps a grouped drawing's clusters compact.
    """
    if highlighted:
        fill = _HIGHLIGHT_FILL
    elif _is_gradient_node(v):
        fill = _GRADIENT_FILL
    elif v._rule is None:
        fill = _LEAF_FILL
    else:
        fill = _NODE_FILL
    cells = []
    if v.label:
        cells.append(f"<TD><B>{_escape(v.label)}</B></TD>")
    cells.append(f"<TD>data {_number(v.data, precision)}</TD>")
    if show_grad:
        text = f"grad {_number(grad, precision) if grad is not None else '?'}"
        if not readable:  # keeps the cell's size, so frames share one layout
            cells.append(f'<TD><FONT COLOR="{fill}">{text}</FONT></TD>')
        elif scale:
            cells.append(f'<TD BGCOLOR="{_tint(grad, scale)}">{text}</TD>')
        else:
            cells.append(f"<TD>{text}</TD>")
    style = ' STYLE="dashed"' if _is_gradient_node(v) else ""
    row = "</TR><TR>" if stacked else ""
    rows = f"<TR>{row.join(cells)}</TR>"
    return (
        f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" '
        f'BGCOLOR="{fill}"{style}>{rows}</TABLE>>'
    )


def _local_derivatives(v: Value) -> tuple[Any, ...]:
    """d(v)/d(input) for each input of v, from v's rule evaluated on floats."""
    assert v._rule is not None
    return tuple(v._rule.derivatives(*[p.data for p in v._prev], v.data))


def _is_gradient_node(v: Value) -> bool:
    return is_derivative(v)


def _plain(x: Any) -> float:
    return float(x.data if isinstance(x, Value) else x)


def _number(x: Any, precision: int) -> str:
    """x with ``precision`` decimals; scientific notation where that would hide it."""
    x = _plain(x)
    if not math.isfinite(x):
        return str(x)
    if x != 0.0 and (abs(x) >= 1e6 or abs(x) < 0.5 * 10.0**-precision):
        return f"{x:.{precision}e}"
    return f"{x:.{precision}f}"


def _largest(grads: Any) -> float:
    finite = [abs(_plain(g)) for g in grads if g is not None and math.isfinite(_plain(g))]
    return max(finite, default=0.0)


def _tint(grad: Any, scale: float) -> str:
    """White for 0, deepening to blue (positive) or red (negative) as |grad| nears scale."""
    g = _plain(grad)
    if math.isnan(g):
        return _NAN_FILL
    if g == 0.0:
        return "#ffffff"
    t = 1.0 if math.isinf(g) else abs(g) / scale
    strength = 0.15 + 0.6 * t
    base = _POSITIVE if g > 0 else _NEGATIVE
    r, gr, b = (round(255 - strength * (255 - c)) for c in base)
    return f"#{r:02x}{gr:02x}{b:02x}"


def _escape(text: str) -> str:
    """User text as the content of an HTML-like label: XML-escaped, newlines as <BR/>.

    Backslashes are doubled: dot expands escapes such as \\N (the node's name) even
    inside HTML-like labels.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<BR/>".join(
        html.escape(_printable(line), quote=True).replace("\\", "\\\\") for line in lines
    )


def _printable(text: str) -> str:
    """Control characters (which XML forbids) shown as escapes like \\x1b."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def _write_text(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        _publish(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _publish(temporary: str, path: Path) -> None:
    """Move a finished temporary file into place, with the usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    os.replace(temporary, path)
