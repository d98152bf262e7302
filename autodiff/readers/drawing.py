"""Draw a computation graph with Graphviz: every Value's data and gradient, every op.

``draw_dot(root)`` returns a ``graphviz.Digraph`` (it displays inline in Jupyter);
``render(root, "graph.svg")`` writes it. Drawing runs Graphviz's own ``dot`` when it is
on PATH, otherwise ``graphviz-pure`` (a self-contained Graphviz installed from pip, which
writes SVG and PNG but not PDF); ``renderer()`` says which. Every run is stopped after a
time limit (``timeout=``, 20 s by default).

Each Value is one box (label, data, grad); each operation is one small ellipse between
its inputs and its output. Leaves (inputs, parameters, constants) are blue; the
derivatives ``grad``, ``hessian`` and ``hvp`` return (labels like "df/dx") are amber
and dashed. Gradients ``backward(create_graph=True)`` stores in ``.grad`` are drawn
like any other Value: nothing marks them.
Labels are HTML-like Graphviz labels, so any user text is escaped as XML and ``dot``
never sees a special character. Node ids come from the traversal order, so the same
graph always gives the same DOT text, byte for byte.
"""

from __future__ import annotations

import html
import math
import os
import warnings
from collections.abc import Container, Iterable, Mapping
from pathlib import Path
from typing import Any

import graphviz

from autodiff.core.engine import topological_order
from autodiff.core.higher import is_derivative
from autodiff.core.value import Value
from autodiff.readers.renderers import (
    DEFAULT_TIMEOUT,
    GraphvizError,
    GraphvizNotFound,
    GraphvizTimeout,
    _cannot_draw,
    _check_timeout,
    _find_program,  # noqa: F401 (frames.py imports it from here)
    _not_found_message,  # noqa: F401 (frames.py imports it from here)
    _program_for,
    _run,
    _write_graph,
    _write_text,  # noqa: F401 (frames.py imports it from here)
    renderer,
)

__all__ = [
    "DEFAULT_MAX_NODES",
    "DEFAULT_TIMEOUT",
    "Drawing",
    "GraphTooLarge",
    "GraphvizError",
    "GraphvizNotFound",
    "GraphvizTimeout",
    "draw_dot",
    "render",
    "renderer",
]

DEFAULT_MAX_NODES = 2000
"""Graphs with more Values than this are refused before Graphviz runs. This bounds the
size of a drawing, not its time: a few hundred Values with one of them used by every op
can already take Graphviz minutes, which is what ``DEFAULT_TIMEOUT`` bounds."""

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
"""File extensions ``render`` understands, and the Graphviz output format of each."""

RANKDIRS = ("LR", "RL", "TB", "BT")

DRAWING_FORMATS = ("svg", "png", "pdf")
"""What ``draw_dot(root, format=...)`` accepts (PDF needs Graphviz's own ``dot``)."""

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


class GraphTooLarge(ValueError):
    """A graph with more Values than ``max_nodes``."""


def draw_dot(
    root: Value,
    format: str = "svg",
    rankdir: str = "LR",
    precision: int = 4,
    show_grad: bool = True,
    *,
    color_grad: bool = False,
    show_local: bool = False,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    groups: Mapping[str, Iterable[Value]] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Drawing:
    """The graph of ``root`` and every Value it depends on, as a ``graphviz.Digraph``.

    The arguments start as micrograd's ``draw_dot(root, format='svg', rankdir='LR')``.
    The result is a ``Drawing``, a ``graphviz.Digraph`` whose ``.render()``, ``.pipe()``
    and Jupyter display run the Graphviz that ``renderer()`` names, within ``timeout``.

    format      what ``.render()`` and ``.pipe()`` write: "svg", "png" or "pdf" (PDF needs
                Graphviz's own ``dot``; graphviz-pure from pip writes SVG and PNG).
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
    timeout     seconds each Graphviz run may take before it is stopped
                (GraphvizTimeout); None: no limit.
    """
    if format not in DRAWING_FORMATS:
        hint = f" (rankdir is the third argument: rankdir={format!r})" if format in RANKDIRS else ""
        known = ", ".join(DRAWING_FORMATS)
        raise ValueError(f"format must be one of {known}, got {format!r}{hint}")
    _check_timeout(timeout)
    order = _values(root, max_nodes)
    graph = _build(
        order,
        rankdir=rankdir,
        precision=precision,
        show_grad=show_grad,
        color_grad=color_grad,
        show_local=show_local,
        groups=groups,
    )
    return Drawing(
        name=graph.name,
        graph_attr=dict(graph.graph_attr),
        node_attr=dict(graph.node_attr),
        edge_attr=dict(graph.edge_attr),
        body=list(graph.body),
        format=format,
        timeout=timeout,
    )


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` drawn by the Graphviz that ``renderer()`` names.

    ``render``, ``pipe``, ``view`` and the Jupyter display work as the graphviz
    package's do, but run Graphviz's ``dot`` or, without it, graphviz-pure, and stop
    it after ``timeout`` seconds (GraphvizTimeout). In Jupyter, a graph that cannot be
    drawn shows a one-line message instead of a traceback.
    """

    def __init__(self, *args: Any, timeout: float | None = DEFAULT_TIMEOUT, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.timeout = _check_timeout(timeout)

    def _copy_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # graphviz's own _copy_kwargs does not pass extra keywords along: add ours after
        return {**super()._copy_kwargs(**kwargs), "timeout": self.timeout}

    def pipe(
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: bool | int | None = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> bytes | str:
        """The drawing in ``format`` (default: this graph's format), as bytes or text."""
        _only_plain_dot(renderer, formatter, neato_no_op, engine)
        fmt = format or self.format
        program = _program_for(fmt)
        if program is None:
            raise GraphvizNotFound(_cannot_draw(fmt, "the graph was not drawn", "try again"))
        data, message = _run(program, self.source, fmt, self.timeout, "the graph")
        if message and not quiet:
            warnings.warn(f"Graphviz: {message}", RuntimeWarning, stacklevel=2)
        return data.decode(encoding) if encoding is not None else data

    def render(
        self,
        filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: bool | int | None = None,
        quiet: bool = False,
        quiet_view: bool = False,
        *,
        outfile: str | os.PathLike[str] | None = None,
        engine: str | None = None,
        raise_if_result_exists: bool = False,
        overwrite_source: bool = False,
    ) -> str:
        """Save the DOT source to ``filename`` and draw it next to it as ``filename.FORMAT``
        (or into ``outfile``, whose extension gives the format); return the drawing's path.
        """
        _only_plain_dot(renderer, formatter, neato_no_op, engine)
        if outfile is not None:  # as the graphviz package does
            outfile = Path(self.directory, outfile) if directory is None else Path(outfile)
            fmt = format or outfile.suffix[1:].lower() or self.format
            if filename is None:
                filename = outfile.with_suffix(".gv")
        else:
            fmt = format or self.format
        saved = Path(self.save(filename, directory=directory))
        drawn = outfile if outfile is not None else Path(f"{saved}.{fmt}")
        if drawn == saved and not overwrite_source:
            raise ValueError(f"the drawing {drawn} would overwrite its DOT source")
        if raise_if_result_exists and drawn.exists():
            raise graphviz.FileExistsError(f"{drawn} exists already")
        _write_graph(self.source, fmt, drawn, self.timeout, saved=saved, quiet=quiet)
        if cleanup:
            saved.unlink()
        if view or quiet_view:
            self._view(str(drawn), format=fmt, quiet=quiet_view)
        return str(drawn)

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, bytes | str]:
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except GraphvizError as error:  # Jupyter shows this line instead of a traceback
            return {"text/plain": f"{type(error).__name__}: {error}"}


def render(
    root: Value,
    path: str | os.PathLike[str],
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    **draw_options: Any,
) -> Path:
    """Draw ``root``'s graph into ``path``; the format comes from the extension.

    ``.svg .png`` are drawn by Graphviz's ``dot`` or, without it, by graphviz-pure from
    pip; ``.pdf`` needs ``dot``; ``.dot .gv`` are the DOT source itself.
    ``draw_options`` are those of ``draw_dot``. Graphviz is stopped after ``timeout``
    seconds (GraphvizTimeout; None: no limit). If no Graphviz can draw the format, the
    DOT source is saved next to ``path`` (same name, ``.dot``) and GraphvizNotFound is
    raised, saying where it is and how to install Graphviz.
    """
    path = Path(path)
    fmt = _format_of(path)
    if "format" in draw_options:
        raise ValueError(f"render takes the format from the extension of {str(path)!r}")
    _check_timeout(timeout)
    source = draw_dot(root, **draw_options).source
    _write_graph(source, fmt, path, timeout)
    return path


def _only_plain_dot(
    renderer: str | None, formatter: str | None, neato_no_op: Any, engine: str | None
) -> None:
    """Refuse the graphviz package's options that only its own ``dot`` call handles."""
    if renderer is not None or formatter is not None or neato_no_op is not None:
        raise ValueError(
            "renderer=, formatter= and neato_no_op= are not supported by draw_dot's "
            "drawing; use graphviz.Source(drawing.source) for them"
        )
    if engine not in (None, "dot"):
        raise ValueError(
            f"draw_dot's drawing is laid out by dot only, got engine={engine!r}; "
            "use graphviz.Source(drawing.source) for other engines"
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
