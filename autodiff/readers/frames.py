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

import base64
import html
import os
import re
from collections import defaultdict
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
    _not_found_message,
    _number,
    _values,
    _write_graph,
    _write_text,
)

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
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Path:
    """Write ``step_000.svg`` (the forward pass) and one SVG per Value in backward order,
    plus ``index.html`` that steps through them; return the path of index.html.

    index.html is self-contained: the SVGs are embedded in it (as data: URIs), with
    the CSS and JavaScript for the Back/Next buttons and the arrow keys. ``gradient``
    seeds d(root)/d(root). Old ``step_*.svg`` files in ``out_dir`` are replaced.
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
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

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
        )
        sources.append((f"step_{k:0{width}d}", graph.source))

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
    names = {f"{name}.svg" for name, _ in sources}
    for old in out.iterdir():
        if _FRAME.match(old.name) and old.name not in names:
            old.unlink()
    svgs = []
    for name, source in sources:
        path = out / f"{name}.svg"
        _write_graph(source, "svg", path, timeout)
        svgs.append((path.name, path.read_bytes()))

    captions = _captions(steps, grads, gradient, precision)
    index = out / "index.html"
    _write_text(index, _page(svgs, captions))
    return index


def _captions(
    steps: list[Value], grads: dict[Value, Any], seed: float, precision: int
) -> list[str]:
    """What each frame shows, in words and numbers."""

    def num(x: Any) -> str:
        return _number(x, precision)

    uses: dict[Value, list[tuple[Value, int]]] = defaultdict(list)
    for v in steps:
        for i, child in enumerate(v._prev):
            uses[child].append((v, i))
    local = {v: _local_derivatives(v) for v in steps if v._rule is not None}

    captions = [
        f"Forward pass done: every box shows its value. The backward pass now visits the "
        f"{len(steps)} values from the output back to the inputs, filling in gradients."
    ]
    n = len(steps)
    for k, v in enumerate(steps, start=1):
        head = f"Step {k} of {n}: {_name(v, precision)}."
        if k == 1:
            text = f"{head} It is the output, so its gradient is the seed: grad = {num(seed)}."
        else:
            terms = [f"{num(grads[use])} × {num(local[use][i])}" for use, i in uses[v]]
            over = "its one use" if len(terms) == 1 else f"its {len(terms)} uses"
            text = (
                f"{head} Chain rule, summed over {over} (grad of the use × local derivative): "
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


def _page(svgs: list[tuple[str, bytes]], captions: list[str]) -> str:
    """index.html: every frame embedded, one shown at a time."""
    figures = []
    for k, ((name, svg), caption) in enumerate(zip(svgs, captions, strict=True)):
        data = base64.b64encode(svg).decode("ascii")
        hidden = "" if k == 0 else " hidden"
        figures.append(
            f'<figure class="frame"{hidden}>\n'
            f'<img alt="{html.escape(name)}" src="data:image/svg+xml;base64,{data}">\n'
            f"<figcaption>{html.escape(caption)}</figcaption>\n</figure>"
        )
    return _PAGE.replace("{COUNT}", str(len(svgs))).replace("{FIGURES}", "\n".join(figures))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>The backward pass, step by step</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #111827; }
nav { display: flex; gap: 0.5em; align-items: center; margin-bottom: 0.8em; }
button { font-size: 1em; padding: 0.3em 0.8em; }
#counter { min-width: 6em; text-align: center; font-variant-numeric: tabular-nums; }
figure { margin: 0; }
figure img { max-width: 100%; height: auto; }
figcaption { margin-top: 0.8em; max-width: 60em; line-height: 1.4; }
.legend { color: #4b5563; font-size: 0.9em; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #9ca3af;
          vertical-align: middle; }
</style>
</head>
<body>
<h1>The backward pass, step by step</h1>
<nav>
<button id="first" title="Home">&laquo; First</button>
<button id="prev" title="Left arrow">&#x25C0; Back</button>
<span id="counter">1 / {COUNT}</span>
<button id="next" title="Right arrow">Next &#x25B6;</button>
<button id="last" title="End">Last &raquo;</button>
</nav>
<p class="legend">
<span class="swatch" style="background:#dbeafe"></span> inputs and parameters (leaves)
&nbsp; <span class="swatch" style="background:#fde047"></span> the value being visited
&nbsp; numbers on the arrows: each op's local derivative. Keys: &larr; &rarr; Home End.
</p>
{FIGURES}
<script>
(function () {
  var frames = document.querySelectorAll(".frame");
  var counter = document.getElementById("counter");
  var current = 0;
  function show(k) {
    current = Math.max(0, Math.min(frames.length - 1, k));
    for (var i = 0; i < frames.length; i++) { frames[i].hidden = (i !== current); }
    counter.textContent = (current + 1) + " / " + frames.length;
  }
  document.getElementById("first").onclick = function () { show(0); };
  document.getElementById("prev").onclick = function () { show(current - 1); };
  document.getElementById("next").onclick = function () { show(current + 1); };
  document.getElementById("last").onclick = function () { show(frames.length - 1); };
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight" || e.key === "ArrowDown" || e.key === " ") { show(current + 1); }
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") { show(current - 1); }
    else if (e.key === "Home") { show(0); }
    else if (e.key === "End") { show(frames.length - 1); }
    else { return; }
    e.preventDefault();
  });
  show(0);
})();
</script>
</body>
</html>
"""
