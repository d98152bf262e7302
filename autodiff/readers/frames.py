"""The backward pass as teaching frames: one drawing, and a page that steps through it.

Frame 0 shows the forward pass (every value, no gradient yet). Then the backward pass
visits the Values in reverse topological order, the order the engine uses; frame k
highlights the k-th Value visited, whose gradient is now complete, and shows the
gradients of exactly the Values visited so far. Its caption writes out the chain rule
for it: grad = sum over its uses of (grad of the use) x (local derivative of that use).

The graph is drawn once, every gradient in it; the page keeps each step as data (the
Value visited, the caption) and hides the gradients not reached yet, so a page of N
steps holds one drawing, not N (see ``frames_page``). Every frame has the same layout,
so stepping through them animates in place.

Gradients come from ``autodiff.gradients`` and local derivatives from each op's rule;
nothing is re-derived and no ``.grad`` is touched.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from autodiff.core.engine import gradients
from autodiff.core.value import Value
from autodiff.readers.drawing import build_graph
from autodiff.readers.frames_page import Step, measure, page
from autodiff.readers.graph_facts import (
    check_options,
    graph_values,
    is_hand_written,
    local_derivatives,
    node_ids,
    number,
    value_names,
)
from autodiff.readers.renderers import (
    DEFAULT_TIMEOUT,
    GraphvizNotFound,
    check_timeout,
    draw_svg,
    find_program,
    not_found_message,
    write_text,
)

DEFAULT_MAX_FRAME_NODES = 200
"""Larger graphs are refused unless asked for: a page of 200 values is about 1 MB, and
a drawing much larger than that is hard to follow step by step."""

_OLD_FRAME = re.compile(r"step_\d+\.(svg|dot)\Z")  # what earlier versions wrote, one per step


def render_backward_steps(
    root: Value,
    out_dir: str | os.PathLike[str],
    *,
    gradient: float = 1.0,
    rankdir: str = "LR",
    precision: int = 4,
    show_local: bool = True,
    max_nodes: int | None = DEFAULT_MAX_FRAME_NODES,
    groups: Mapping[str, Iterable[Value]] | Any | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Path:
    """Write ``index.html`` into ``out_dir``, a page stepping through the backward pass,
    and return its path. ``out_dir`` is created if missing (its parent must exist).

    index.html is self-contained (one drawing, inline, with the CSS and JavaScript to
    step: buttons, arrow keys, ``#step=k`` in the URL; pan and zoom); it opens at a
    readable size and keeps the visited Value in view (see ``frames_page``).
    ``gradient`` seeds d(root)/d(root); ``groups`` are draw_dot's (labelled clusters, or
    an nn model). Needs Graphviz (``dot``, or graphviz-pure from pip); without it the
    drawing's DOT source is saved as ``out_dir/graph.dot`` and GraphvizNotFound is raised.
    Graphviz is stopped after ``timeout`` seconds (GraphvizTimeout; None: no limit).
    """
    order = graph_values(root, max_nodes)
    check_options(rankdir, precision)
    check_timeout(timeout)
    out = Path(out_dir)
    _check_folder(out)
    steps = order[::-1]
    grads = dict(zip(order, gradients(root, order, gradient), strict=True))
    source = build_graph(
        order,
        rankdir=rankdir,
        precision=precision,
        show_grad=True,
        color_grad=False,
        show_local=show_local,
        grads=grads,
        groups=groups,
        name_unlabelled=True,
    ).source
    if find_program() is None:
        out.mkdir(exist_ok=True)
        write_text(out / "graph.dot", source)
        raise GraphvizNotFound(
            not_found_message(
                f"the frames were not drawn; the graph's DOT source was saved as {out}/graph.dot",
                "run again",
            ),
            out,
        )
    svg = draw_svg(source, timeout, "the frames' graph")
    ids = node_ids(order)
    drawing = measure(svg)
    heads = [f"Step {k} of {len(steps)}" for k in range(len(steps) + 1)]
    captions = _captions(steps, grads, gradient, precision, value_names(order))
    # the view follows the Value visited; the forward pass's frame shows the output
    visited = [steps[0], *steps]
    data = [
        Step(ids[v] if k else "", drawing.box(ids[v], ids[v] + "op"), head, caption)
        for k, (v, head, caption) in enumerate(zip(visited, heads, captions, strict=True))
    ]
    # made only now: a drawing stopped by Ctrl-C or the time limit leaves no empty folder
    out.mkdir(exist_ok=True)
    index = out / "index.html"
    write_text(index, page(svg, drawing, data))
    for old in out.iterdir():
        if _OLD_FRAME.match(old.name):
            old.unlink()
    return index


def _check_folder(out: Path) -> None:
    """Before any work: ``out`` must be a folder, or not exist in a folder that does."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"cannot write {out}: it is a file, not a folder")
    if not out.exists() and not out.parent.is_dir():
        if out.parent.exists():
            raise NotADirectoryError(f"cannot write {out}: {out.parent} is a file, not a folder")
        raise FileNotFoundError(f"cannot write {out}: the folder {out.parent} does not exist")
    folder = out if out.exists() else out.parent
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"cannot write {out}: the folder {folder} is not writable")


check_frames_folder = _check_folder  # the CLI checks its paths before any work


def _captions(
    steps: list[Value],
    grads: dict[Value, Any],
    seed: float,
    precision: int,
    names: dict[Value, str],
) -> list[str]:
    """What each frame shows, in words and numbers (after its head, "Step k of N: ")."""

    def num(x: Any) -> str:
        return number(x, precision)

    uses: dict[Value, list[tuple[Value, int]]] = defaultdict(list)
    for v in steps:
        for i, child in enumerate(v._prev):
            uses[child].append((v, i))
    local = {v: local_derivatives(v) for v in steps if v._rule is not None}

    captions = [
        f"the forward pass is done: every box shows its value. The backward pass now visits "
        f"the {len(steps)} values from the output back to the inputs, filling in gradients."
    ]
    for k, v in enumerate(steps, start=1):
        who = f"{_name(v, names, precision)}."
        if k == 1:
            text = f"{who} It is the output, so its gradient is the seed: grad = {num(seed)}."
        else:
            terms = [f"{num(grads[use])} × {num(local[use][i])}" for use, i in uses[v]]
            over = "its one use" if len(terms) == 1 else f"its {len(terms)} uses"
            text = (
                f"{who} Chain rule, summed over {over} (grad of the use × local derivative): "
                f"grad = {' + '.join(terms)} = {num(grads[v])}."
            )
        if v._rule is None:
            text += " It is a leaf: nothing to pass back."
        else:
            text += f" Next, {v._op!r} passes grad × local derivative to its input(s)."
            if is_hand_written(v):
                text += (
                    f" ({v._op!r} was written by hand: its local derivatives are what its "
                    "_backward closure passes back for an output grad of 1.)"
                )
        captions.append(text)
    return captions


def _name(v: Value, names: dict[Value, str], precision: int) -> str:
    if v.label:
        return repr(v.label)
    if v._rule is not None:
        return f"{names[v]}, the output of {v._op!r}"
    return f"the constant {number(v.data, precision)}"
