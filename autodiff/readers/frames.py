"""The backward pass as teaching frames: one drawing per step, and a page to step through them.

Frame 0 shows the forward pass (every value, no gradient yet). Then the backward pass
visits the Values in reverse topological order, the order the engine uses; frame k
highlights the k-th Value visited, whose gradient is now complete, and shows the
gradients of exactly the Values visited so far. Its caption writes out the chain rule
for it: grad = sum over its uses of (grad of the use) x (local derivative of that use).

Gradients come from ``autodiff.gradients`` and local derivatives from each op's rule;
nothing is re-derived and no ``.grad`` is touched. Every frame has the same layout
(hidden gradients keep their space), so stepping through them animates in place.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from autodiff.core.engine import gradients
from autodiff.core.value import Value
from autodiff.readers.drawing import (
    DEFAULT_TIMEOUT,
    GraphvizNotFound,
    _build,
    _check_options,
    _check_timeout,
    _find_program,
    _local_derivatives,
    _node_ids,
    _not_found_message,
    _number,
    _values,
    _write_graph,
    _write_text,
)
from autodiff.readers.frames_page import measure, page

DEFAULT_MAX_FRAME_NODES = 60
"""Larger graphs are refused: N frames of N nodes each grow as N squared (60 values
already make an index.html of several megabytes)."""

_FRAME = re.compile(r"step_\d+\.svg\Z")


def render_backward_steps(
    root: Value,
    out_dir: str | os.PathLike[str],
    *,
    gradient: float = 1.0,
    rankdir: str = "LR",
    precision: int = 4,
    show_local: bool = True,
    max_nodes: int | None = DEFAULT_MAX_FRAME_NODES,
    groups: Mapping[str, Iterable[Value]] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Path:
    """Write ``step_000.svg`` (the forward pass) and one SVG per Value in backward order,
    plus ``index.html`` that steps through them; return the path of index.html.

    index.html is self-contained: the SVGs are embedded in it (as data: URIs), with
    the CSS and JavaScript to step (buttons, arrow keys, ``#step=k`` in the URL), pan
    and zoom; it opens at a readable size and keeps the visited Value in view (see
    ``frames_page``). ``gradient`` seeds d(root)/d(root); ``groups`` are draw_dot's
    (labelled clusters). Old ``step_*.svg`` files in ``out_dir`` are replaced.
    Needs Graphviz (``dot``, or graphviz-pure from pip); without it the frames' DOT
    sources are saved in ``out_dir`` and GraphvizNotFound is raised. Each frame's
    Graphviz run is stopped after ``timeout`` seconds (GraphvizTimeout; None: no limit).
    """
    order = _values(root, max_nodes)
    _check_options(rankdir, precision)
    _check_timeout(timeout)
    steps = order[::-1]
    grads = dict(zip(order, gradients(root, order, gradient), strict=True))
    width = max(3, len(str(len(steps))))
    sources = []
    for k in range(len(steps) + 1):
        graph = _build(
            order,
            rankdir=rankdir,
            precision=precision,
            show_grad=True,
            color_grad=False,
            show_local=show_local,
            grads=grads,
            visible=set(steps[:k]),
            highlight=steps[k - 1] if k else None,
            groups=groups,
        )
        sources.append((f"step_{k:0{width}d}", graph.source))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if _find_program() is None:
        for name, source in sources:
            _write_text(out / f"{name}.dot", source)
        raise GraphvizNotFound(
            _not_found_message(
                f"the frames were not drawn; their DOT sources were saved as {out}/step_*.dot",
                "run again",
            ),
            out,
        )
    ids = _node_ids(order)
    frames = []
    # Drawn into a hidden folder first: a run stopped half way (Ctrl-C, a time limit)
    # leaves the folder as it was, never new frames beside an old index.html.
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".frames-"))
    try:
        for k, (name, source) in enumerate(sources):
            path = staging / f"{name}.svg"
            _write_graph(source, "svg", path, timeout)
            svg = path.read_bytes()
            # the view follows the Value visited; the forward pass's frame shows the output
            focus = (ids[steps[max(k - 1, 0)]], ids[steps[max(k - 1, 0)]] + "op")
            frames.append((path.name, svg, measure(svg, focus)))
        names = {f"{name}.svg" for name, _ in sources}
        for old in out.iterdir():
            if _FRAME.match(old.name) and old.name not in names:
                old.unlink()
        for name in names:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    heads = [f"Step {k} of {len(steps)}" for k in range(len(steps) + 1)]
    index = out / "index.html"
    _write_text(index, page(frames, heads, _captions(steps, grads, gradient, precision)))
    return index


def _captions(
    steps: list[Value], grads: dict[Value, Any], seed: float, precision: int
) -> list[str]:
    """What each frame shows, in words and numbers (after its head, "Step k of N: ")."""

    def num(x: Any) -> str:
        return _number(x, precision)

    uses: dict[Value, list[tuple[Value, int]]] = defaultdict(list)
    for v in steps:
        for i, child in enumerate(v._prev):
            uses[child].append((v, i))
    local = {v: _local_derivatives(v) for v in steps if v._rule is not None}

    captions = [
        f"the forward pass is done: every box shows its value. The backward pass now visits "
        f"the {len(steps)} values from the output back to the inputs, filling in gradients."
    ]
    for k, v in enumerate(steps, start=1):
        who = f"{_name(v, precision)}."
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
        captions.append(text)
    return captions


def _name(v: Value, precision: int) -> str:
    if v.label:
        return repr(v.label)
    if v._rule is not None:
        return f"the output of {v._op!r}"
    return f"the constant {_number(v.data, precision)}"
