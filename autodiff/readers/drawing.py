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

from autodiff.core.higher import is_derivative
from autodiff.core.value import Value
from autodiff.readers.graph_facts import (
    RANKDIRS,
    GraphTooLarge,
    check_options,
    graph_values,
    is_hand_written,
    local_derivatives,
    node_ids,
    number,
    plain,
    value_names,
)
from autodiff.readers.model_groups import enclosing, model_groups
from autodiff.readers.renderers import (
    DEFAULT_TIMEOUT,
    GraphvizError,
    GraphvizNotFound,
    GraphvizTimeout,
    check_timeout,
    draw,
    renderer,
    write_graph,
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
    groups: Mapping[str, Iterable[Value]] | Any | None = None,
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
                d(output)/d(input), read from the op's rule, never re-derived (an op
                written by hand, micrograd's way, says "hand-written": its number is
                what its _backward closure passes back for an output grad of 1).
    max_nodes   refuse (GraphTooLarge) a graph with more Values than this; None: no limit.
    groups      {"h1": [Values], ...}: draw each group's Values, with the ops that made
                them, inside a box labelled with its name (a neuron, a layer, the loss);
                or a model (anything with ``named_parameters()``, e.g. an nn MLP):
                each neuron's weights, bias, sums and activation in a box named by its
                place, ``layers.1.neurons.3`` (see ``autodiff.readers.model_groups``).
    timeout     seconds each Graphviz run may take before it is stopped
                (GraphvizTimeout); None: no limit.
    """
    if format not in DRAWING_FORMATS:
        hint = f" (rankdir is the third argument: rankdir={format!r})" if format in RANKDIRS else ""
        known = ", ".join(DRAWING_FORMATS)
        raise ValueError(f"format must be one of {known}, got {format!r}{hint}")
    check_timeout(timeout)
    order = graph_values(root, max_nodes)
    graph = build_graph(
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
        self.timeout = check_timeout(timeout)

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
        data, message = draw(self.source, fmt, self.timeout, "the graph")
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
        write_graph(self.source, fmt, drawn, self.timeout, saved=saved, quiet=quiet)
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
    check_timeout(timeout)
    source = draw_dot(root, **draw_options).source
    write_graph(source, fmt, path, timeout)
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


def build_graph(
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
    groups: Mapping[str, Iterable[Value]] | Any | None = None,
    name_unlabelled: bool = False,
) -> graphviz.Digraph:
    """The Digraph of the Values in ``order`` (inputs first).

    ``grads`` replaces ``.grad`` as the gradients shown; ``visible`` limits which of
    them are readable: the others are drawn in the box's own colour, so every frame
    of a sequence keeps the same layout. ``highlight`` marks one Value and its op.
    ``groups`` draws named sets of Values inside labelled boxes (see ``_clusters``), or
    is a model whose neurons are boxed (see ``model_groups``). ``name_unlabelled`` shows
    an unlabelled op's name for readers (``v3``, see ``graph_facts.value_names``).
    """
    check_options(rankdir, precision)
    from_model = groups is not None and not isinstance(groups, Mapping)
    if from_model:
        groups = model_groups(order, groups)
    graph = graphviz.Digraph(
        name="autodiff",
        graph_attr={"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.4"},
        node_attr={"fontname": "Helvetica,Arial,sans-serif", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica,Arial,sans-serif", "fontsize": "9", "arrowsize": "0.7"},
    )
    ids = node_ids(order)
    clusters, owners = _clusters(graph, order, groups or {}, "28" if from_model else "14")
    names = value_names(order) if name_unlabelled else {}
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
                shown_label=_short_label(v.label, owners.get(v))
                or (names.get(v, "") if v._rule is not None else ""),
            ),
            shape="none",
            margin="0",
            # no minimum size: Graphviz's default height (0.5 in) would leave a gap
            # between the table and the node's edge, where arrows stop short of the box
            width="0",
            height="0",
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
        locals_ = local_derivatives(v) if show_local else None
        hand = is_hand_written(v)
        for i, child in enumerate(v._prev):
            attrs = {"penwidth": "2"} if v is highlight else {}
            if locals_ is not None:
                # a hand-written op's number comes from running its closure: say so
                text = "hand-written" if hand else "local"
                attrs["label"] = f"<{text} {number(locals_[i], precision)}>"
                attrs["fontcolor"] = "#4b5563"
            if from_model and clusters.get(child) is not home:
                # one rank between a neuron's output and the next layer's products: the
                # layers' boxes then share no rank, and dot need not stack them
                attrs["minlen"] = "2"
            graph.edge(ids[child], op, **attrs)
        graph.edge(op, ids[v])
    boxes = {owners[v]: cluster for v, cluster in clusters.items()}
    outer: dict[str, graphviz.Digraph] = {}
    for name in groups or {}:  # each once, in the groups' order
        if name not in boxes:
            continue
        layer = enclosing(name) if from_model else None
        if layer is None:
            graph.subgraph(boxes[name])
            continue
        if layer not in outer:  # a model's layer: one box around its neurons' boxes
            # titles large enough to read when a whole network is fitted to a screen
            outer[layer] = _cluster(f"cluster_outer_{len(outer)}", layer, "44", filled=False)
        outer[layer].subgraph(boxes[name])
    for box in outer.values():
        graph.subgraph(box)
    return graph


def _clusters(
    graph: graphviz.Digraph,
    order: list[Value],
    groups: Mapping[str, Iterable[Value]],
    fontsize: str = "14",
) -> tuple[dict[Value, graphviz.Digraph], dict[Value, str]]:
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
        cluster = _cluster(f"cluster_{k}", name, fontsize, filled=True)
        for v in members:
            if not isinstance(v, Value):
                raise TypeError(f"group {name!r} lists {v!r}; expected Values of the graph")
            if v not in in_graph:
                raise ValueError(f"group {name!r} lists {_describe(v)}, which is not in the graph")
            if v in owner and owner[v] != name:
                raise ValueError(f"{_describe(v)} is in two groups, {owner[v]!r} and {name!r}")
            owner[v] = name
            home[v] = cluster
    return home, owner


def _cluster(dot_name: str, title: str, fontsize: str, filled: bool) -> graphviz.Digraph:
    """A labelled box (a Graphviz cluster) titled ``title``."""
    return graphviz.Digraph(
        name=dot_name,
        graph_attr={
            "label": f"<<B>{_escape(title)}</B>>",
            "labeljust": "l",
            "fontname": "Helvetica,Arial,sans-serif",
            "fontsize": fontsize,
            "style": "rounded,filled" if filled else "rounded",
            "color": _CLUSTER_LINE,
            "fillcolor": _CLUSTER_FILL,
        },
    )


def _short_label(label: str, group: str | None) -> str:
    """Inside the box of group ``layers.1.neurons.3``, ``layers.1.neurons.3.w.2`` reads
    ``w.2``: the box's title says the rest."""
    if group and label.startswith(group + ".") and len(label) > len(group) + 1:
        return label[len(group) + 1 :]
    return label


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
    shown_label: str | None = None,
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
    label = v.label if shown_label is None else shown_label
    if label and not v.label:  # a reader's name for an unlabelled op (v3): not the user's
        cells.append(f'<TD><FONT COLOR="#6b7280"><I>{_escape(label)}</I></FONT></TD>')
    elif label:
        cells.append(f"<TD><B>{_escape(label)}</B></TD>")
    cells.append(f"<TD>data {number(v.data, precision)}</TD>")
    if show_grad:
        text = f"grad {number(grad, precision) if grad is not None else '?'}"
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


def _is_gradient_node(v: Value) -> bool:
    return is_derivative(v)


def _largest(grads: Any) -> float:
    finite = [abs(plain(g)) for g in grads if g is not None and math.isfinite(plain(g))]
    return max(finite, default=0.0)


def _tint(grad: Any, scale: float) -> str:
    """White for 0, deepening to blue (positive) or red (negative) as |grad| nears scale."""
    g = plain(grad)
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
