"""The page that steps through the backward-pass frames: index.html, one file, no network.

The page holds the graph's drawing once, inline, and each step as data: the Value
visited (its DOT node name), the box to keep in view, the caption. Showing step k hides
the gradients of the Values not visited yet (each gradient is shown from the step that
visits its Value on), highlights the Value visited, its op and the arrows into the op.

The graph is shown in a viewport that pans (drag, scroll bars, wheel, Shift+arrows) and
zooms (buttons, Ctrl+wheel or pinch, + and - keys), at a readable size to start with:

    readable zoom = SMALL_TEXT_PX / (smallest font size in the drawing, in CSS px)

so that every text of the graph is at least as large as the page's small text. A "Fit"
toggle shows the whole graph instead. As the steps advance, the view scrolls to keep
the highlighted Value (its box and its op) in sight. The step shown is in the URL
(``index.html#step=20``, ``#step=20&fit`` fitted), so a frame can be linked to.

Frames are numbered 0 (the forward pass) to N (the N-th Value visited): the fragment
#step=k, the counter and the caption all say k of N.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

SMALL_TEXT_PX = 14
"""The page's small text (the legend, the zoom level), in CSS px."""

PX_PER_PT = 4 / 3
"""Graphviz sizes its SVGs in points; a CSS px is 3/4 of a point."""

_SVG = "{http://www.w3.org/2000/svg}"
_TRANSLATE = re.compile(r"translate\(\s*([-\d.]+)[\s,]+([-\d.]+)\s*\)")
_SCALE = re.compile(r"scale\(\s*([-\d.]+)(?:[\s,]+([-\d.]+))?\s*\)")

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class SvgLayout:
    """What the page needs to know of the SVG, in the SVG's own units (points)."""

    width: float
    height: float
    smallest_font: float
    boxes: dict[str, Box] = field(default_factory=dict)  # x0, y0, x1, y1 of each node

    def box(self, *nodes: str) -> Box | None:
        """The box around the named nodes (DOT node names), or None if none is drawn."""
        found = [self.boxes[n] for n in nodes if n in self.boxes]
        if not found:
            return None
        return (
            min(b[0] for b in found),
            min(b[1] for b in found),
            max(b[2] for b in found),
            max(b[3] for b in found),
        )


@dataclass(frozen=True)
class Step:
    """One frame: the Value visited ("" for the forward pass), the box to keep in view,
    the counter's text ("Step 3 of 41") and the caption."""

    node: str
    focus: Box | None
    head: str
    caption: str


def measure(svg: bytes) -> SvgLayout:
    """The size of a Graphviz SVG, its smallest text, and the box of every node.

    A node's name is the ``<title>`` of its group; its coordinates are mapped through
    the graph's transform into the viewBox.
    """
    root = ET.fromstring(svg)
    width, height = (_points(root.get(side, "0")) for side in ("width", "height"))
    fonts = [float(t.get("font-size", "0")) for t in root.iter(f"{_SVG}text")]
    graph = root.find(f"{_SVG}g")
    transform = graph.get("transform", "") if graph is not None else ""
    scale = _SCALE.search(transform)
    sx = float(scale.group(1)) if scale else 1.0
    sy = float(scale.group(2) or scale.group(1)) if scale else 1.0
    shift = _TRANSLATE.search(transform)
    dx, dy = (float(shift.group(1)), float(shift.group(2))) if shift else (0.0, 0.0)
    boxes: dict[str, Box] = {}
    for g in root.iter(f"{_SVG}g"):
        title = g.find(f"{_SVG}title")
        if g.get("class") != "node" or title is None or title.text is None:
            continue
        corners = [(sx * (x + dx), sy * (y + dy)) for x, y in _outline(g)]
        if corners:
            xs, ys = zip(*corners, strict=True)
            boxes[title.text] = (min(xs), min(ys), max(xs), max(ys))
    return SvgLayout(width, height, min((f for f in fonts if f > 0), default=0.0), boxes)


def _points(length: str) -> float:
    """An SVG length as Graphviz writes it ("372pt", or "496px") in points."""
    if length.endswith("pt"):
        return float(length[:-2])
    if length.endswith("px"):
        return float(length[:-2]) / PX_PER_PT
    return float(length)


def _outline(g: ET.Element) -> list[tuple[float, float]]:
    """The corners of a node's shapes: its polygons' points and its ellipses' boxes."""
    corners = []
    for polygon in g.iter(f"{_SVG}polygon"):
        for pair in polygon.get("points", "").split():
            x, y = pair.split(",")
            corners.append((float(x), float(y)))
    for e in g.iter(f"{_SVG}ellipse"):
        cx, cy, rx, ry = (float(e.get(k, "0")) for k in ("cx", "cy", "rx", "ry"))
        corners += [(cx - rx, cy - ry), (cx + rx, cy + ry)]
    return corners


def readable_zoom(drawing: SvgLayout) -> float:
    """The zoom at which the drawing's smallest text is as large as the page's small text."""
    if drawing.smallest_font <= 0:
        return 1.0
    return SMALL_TEXT_PX / (drawing.smallest_font * PX_PER_PT)


_PROLOGUE = re.compile(rb"\A.*?(?=<svg\b)", re.S)  # the XML declaration, DOCTYPE, comments


def page(svg: bytes, drawing: SvgLayout, steps: list[Step]) -> str:
    """index.html: the drawing inline once, and ``steps`` as data, one shown at a time."""
    inline = _PROLOGUE.sub(b"", svg, count=1).decode("utf-8")
    data = {
        "steps": [
            {
                "node": s.node,
                "focus": None if s.focus is None else [round(c, 1) for c in s.focus],
                "head": s.head,
                "caption": s.caption,
            }
            for s in steps
        ]
    }
    # "</" inside a script element would end it early: JSON allows "<\/" for it
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    first = steps[0]
    fill = {
        "{SMALL}": str(SMALL_TEXT_PX),
        "{WIDTH}": f"{drawing.width * PX_PER_PT:.1f}",
        "{HEIGHT}": f"{drawing.height * PX_PER_PT:.1f}",
        "{READABLE}": f"{readable_zoom(drawing):.4f}",
        "{PX_PER_PT}": f"{PX_PER_PT:.6f}",
        "{COUNTER}": html.escape(first.head),
        "{SVG}": inline,
        "{CAPTION}": f'<b class="head">{html.escape(first.head)}</b>: {html.escape(first.caption)}',
        "{STEPS}": text,
    }
    return re.sub("|".join(re.escape(key) for key in fill), lambda m: fill[m.group(0)], _PAGE)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The backward pass, step by step</title>
<style>
html, body { height: 100%; margin: 0; }
body { font: 16px/1.4 system-ui, sans-serif; color: #111827; display: flex;
       flex-direction: column; }
header { padding: 0.6em 1em 0.4em; border-bottom: 1px solid #e5e7eb; }
h1 { font-size: 1.2em; margin: 0 0 0.4em; }
nav { display: flex; flex-wrap: wrap; gap: 0.4em; align-items: center; }
button { font: inherit; padding: 0.2em 0.7em; }
button[aria-pressed="true"] { background: #1f2937; color: #fff; }
#counter { min-width: 8.5em; text-align: center; font-weight: 600;
           font-variant-numeric: tabular-nums; }
#zoom { min-width: 3.5em; text-align: center; font-variant-numeric: tabular-nums; }
.gap { width: 1.5em; }
.small, #zoom { font-size: {SMALL}px; color: #4b5563; }
.legend { margin: 0.4em 0 0; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #9ca3af;
          vertical-align: middle; }
#view { flex: 1; min-height: 8em; overflow: auto; position: relative; cursor: grab;
        touch-action: none; outline: none; }
#view.dragging { cursor: grabbing; }
#stage { position: relative; margin: 0 auto; }
#stage svg { display: block; width: 100%; height: 100%; user-select: none; }
#stage text.unreached { visibility: hidden; }
#stage g.node.visited > polygon:first-of-type, #stage g.node.visited > ellipse {
  fill: #fde047; }
#stage g.edge.visited > path { stroke-width: 2; }
footer { padding: 0.5em 1em 0.7em; border-top: 1px solid #e5e7eb; max-height: 30vh;
         overflow: auto; }
.caption { margin: 0; max-width: 75em; }
</style>
</head>
<body>
<header>
<h1>The backward pass, step by step</h1>
<nav>
<button id="first" title="First step (Home)">&laquo; First</button>
<button id="prev" title="Previous step (Left arrow)">&#x25C0; Back</button>
<span id="counter" aria-live="polite">{COUNTER}</span>
<button id="next" title="Next step (Right arrow, Space)">Next &#x25B6;</button>
<button id="last" title="Last step (End)">Last &raquo;</button>
<span class="gap"></span>
<button id="zoom-out" title="Zoom out (-)">&minus;</button>
<span id="zoom">100%</span>
<button id="zoom-in" title="Zoom in (+)">+</button>
<button id="fit" title="Show the whole graph, or back to a readable size (F)"
        aria-pressed="false">Fit</button>
</nav>
<p class="legend small">
<span class="swatch" style="background:#dbeafe"></span> inputs and parameters (leaves)
&nbsp; <span class="swatch" style="background:#fde047"></span> the value being visited
&nbsp; numbers on the arrows: each op's local derivative.
&nbsp; Steps: &larr; &rarr; Home End. Pan: drag, scroll, Shift+arrows.
Zoom: + &minus; (Ctrl+wheel, pinch), F fits.
</p>
</header>
<main id="view" tabindex="0" aria-label="The computation graph">
<div id="stage" data-width="{WIDTH}" data-height="{HEIGHT}" data-readable="{READABLE}"
     data-px-per-pt="{PX_PER_PT}">
{SVG}
</div>
</main>
<footer>
<p class="caption" id="caption">{CAPTION}</p>
</footer>
<script type="application/json" id="steps">{STEPS}</script>
<script>
(function () {
  "use strict";
  var view = document.getElementById("view");
  var stage = document.getElementById("stage");
  var steps = JSON.parse(document.getElementById("steps").textContent).steps;
  var caption = document.getElementById("caption");
  var counter = document.getElementById("counter");
  var fitButton = document.getElementById("fit");
  var width = Number(stage.dataset.width), height = Number(stage.dataset.height);
  var readable = Number(stage.dataset.readable), pxPerPt = Number(stage.dataset.pxPerPt);
  var current = 0, zoom = readable, fitted = false;

  // the drawing's parts by DOT node name: each Value's box, its op, the arrows into
  // the op, and the text of its gradient
  var svg = stage.querySelector("svg");
  svg.removeAttribute("width"); svg.removeAttribute("height");
  var nodes = {}, arrows = {}, visitedAt = {}, marked = [];
  svg.querySelectorAll("g.node, g.edge").forEach(function (g) {
    var title = g.querySelector("title").textContent;
    if (g.classList.contains("node")) { nodes[title] = g; return; }
    var to = title.split("->")[1];
    (arrows[to] = arrows[to] || []).push(g);
  });
  var grads = [];
  Object.keys(nodes).forEach(function (name) {
    nodes[name].querySelectorAll("text").forEach(function (t) {
      if (/^grad /.test(t.textContent)) { grads.push([name, t]); }
    });
  });
  steps.forEach(function (s, k) {
    if (s.node && !(s.node in visitedAt)) { visitedAt[s.node] = k; }
  });

  function fitZoom() {
    return Math.min(view.clientWidth / width, view.clientHeight / height);
  }
  // the page starts at the readable zoom, or fitted if the whole graph is readable fitted
  function startZoom() { return Math.max(readable, Math.min(fitZoom(), 1.5 * readable)); }
  function clampZoom(z) { return Math.max(Math.min(fitZoom(), readable) / 2, Math.min(4, z)); }

  // zoom to z keeping the graph point under (cx, cy) (viewport px) where it is
  function setZoom(z, cx, cy) {
    if (cx === undefined) { cx = view.clientWidth / 2; cy = view.clientHeight / 2; }
    var gx = (view.scrollLeft + cx - stage.offsetLeft) / zoom;
    var gy = (view.scrollTop + cy - stage.offsetTop) / zoom;
    zoom = clampZoom(z);
    stage.style.width = (width * zoom) + "px";
    stage.style.height = (height * zoom) + "px";
    view.scrollLeft = gx * zoom + stage.offsetLeft - cx;
    view.scrollTop = gy * zoom + stage.offsetTop - cy;
    document.getElementById("zoom").textContent = Math.round(zoom * 100) + "%";
  }
  function markFitted(on) {
    fitted = on;
    fitButton.setAttribute("aria-pressed", on ? "true" : "false");
    history.replaceState(null, "", "#step=" + current + (on ? "&fit" : ""));
  }
  function setFitted(on) {
    markFitted(on);
    if (on) { setZoom(fitZoom()); } else { setZoom(startZoom()); reveal(false); }
  }
  function zoomBy(factor, cx, cy) {
    if (fitted) { markFitted(false); }
    setZoom(zoom * factor, cx, cy);
  }

  // scroll so that the highlighted Value is in view (centred if it was not)
  function reveal(smooth) {
    var box = steps[current].focus;
    if (!box || fitted) { return; }
    var s = zoom * pxPerPt, margin = 48;
    var x0 = box[0] * s + stage.offsetLeft, x1 = box[2] * s + stage.offsetLeft;
    var y0 = box[1] * s + stage.offsetTop, y1 = box[3] * s + stage.offsetTop;
    var left = view.scrollLeft, top = view.scrollTop;
    var w = view.clientWidth, h = view.clientHeight;
    if (x0 < left + margin || x1 > left + w - margin) { left = (x0 + x1 - w) / 2; }
    if (y0 < top + margin || y1 > top + h - margin) { top = (y0 + y1 - h) / 2; }
    // scrolling even when it stays put stops an earlier step's scroll still under way
    view.scrollTo({ left: left, top: top, behavior: smooth ? "smooth" : "auto" });
  }

  // step k: the gradients of the Values visited in steps 1..k, the k-th one highlighted
  function draw(k) {
    grads.forEach(function (pair) {
      var at = visitedAt[pair[0]];
      pair[1].classList.toggle("unreached", at === undefined || at > k);
    });
    marked.forEach(function (g) { g.classList.remove("visited"); });
    var name = steps[k].node;
    marked = name ? [nodes[name], nodes[name + "op"]].concat(arrows[name + "op"] || []) : [];
    marked = marked.filter(Boolean);
    marked.forEach(function (g) { g.classList.add("visited"); });
  }
  function show(k, smooth) {
    current = Math.max(0, Math.min(steps.length - 1, k));
    draw(current);
    var step = steps[current];
    counter.textContent = step.head;
    caption.innerHTML = "";
    var head = document.createElement("b");
    head.className = "head";
    head.textContent = step.head;
    caption.appendChild(head);
    caption.appendChild(document.createTextNode(": " + step.caption));
    var hash = "#step=" + current + (fitted ? "&fit" : "");
    if (location.hash !== hash) { history.replaceState(null, "", hash); }
    reveal(smooth);
  }
  function fromHash() {
    var m = /step=(\\d+)/.exec(location.hash);
    return m ? Number(m[1]) : 0;
  }

  document.getElementById("first").onclick = function () { show(0, true); };
  document.getElementById("prev").onclick = function () { show(current - 1, true); };
  document.getElementById("next").onclick = function () { show(current + 1, true); };
  document.getElementById("last").onclick = function () { show(steps.length - 1, true); };
  document.getElementById("zoom-in").onclick = function () { zoomBy(1.25); };
  document.getElementById("zoom-out").onclick = function () { zoomBy(0.8); };
  fitButton.onclick = function () { setFitted(!fitted); };
  window.addEventListener("hashchange", function () { show(fromHash(), true); });
  window.addEventListener("resize", function () { if (fitted) { setZoom(fitZoom()); } });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var pan = 120;
    if (e.shiftKey && e.key.indexOf("Arrow") === 0) {
      var dx = { ArrowLeft: -pan, ArrowRight: pan }[e.key] || 0;
      var dy = { ArrowUp: -pan, ArrowDown: pan }[e.key] || 0;
      view.scrollBy(dx, dy);
    }
    else if (e.key === "ArrowRight" || e.key === "ArrowDown" || e.key === " ") {
      show(current + 1, true);
    }
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") { show(current - 1, true); }
    else if (e.key === "Home") { show(0, true); }
    else if (e.key === "End") { show(steps.length - 1, true); }
    else if (e.key === "+" || e.key === "=") { zoomBy(1.25); }
    else if (e.key === "-" || e.key === "_") { zoomBy(0.8); }
    else if (e.key === "f" || e.key === "F" || e.key === "0") { setFitted(!fitted); }
    else { return; }
    e.preventDefault();
  });

  // Ctrl+wheel (and a touchpad's pinch, which browsers send as one) zooms at the pointer
  view.addEventListener("wheel", function (e) {
    if (!e.ctrlKey && !e.metaKey) { return; }
    e.preventDefault();
    var r = view.getBoundingClientRect();
    var dy = e.deltaMode === 1 ? 33 * e.deltaY : e.deltaY;  // lines (Firefox) as pixels
    zoomBy(Math.exp(-dy / 400), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });

  // one pointer drags the graph; two (a touch screen's pinch) zoom it
  var pointers = {}, pinch = 0;
  function spread() {
    var p = Object.keys(pointers).map(function (id) { return pointers[id]; });
    return p.length < 2 ? 0 : Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y);
  }
  view.addEventListener("pointerdown", function (e) {
    if (e.button !== 0 || !stage.contains(e.target)) { return; }
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    view.setPointerCapture(e.pointerId);
    view.classList.add("dragging");
    pinch = spread();
  });
  view.addEventListener("pointermove", function (e) {
    var p = pointers[e.pointerId];
    if (!p) { return; }
    if (pinch) {
      p.x = e.clientX; p.y = e.clientY;
      var now = spread(), r = view.getBoundingClientRect();
      if (now > 0) { zoomBy(now / pinch, e.clientX - r.left, e.clientY - r.top); pinch = now; }
      return;
    }
    view.scrollBy(p.x - e.clientX, p.y - e.clientY);
    p.x = e.clientX; p.y = e.clientY;
  });
  function release(e) {
    delete pointers[e.pointerId];
    pinch = spread();
    if (!Object.keys(pointers).length) { view.classList.remove("dragging"); }
  }
  view.addEventListener("pointerup", release);
  view.addEventListener("pointercancel", release);

  var start = fromHash(), fit = /(^#|&)fit(&|$)/.test(location.hash);
  setZoom(startZoom(), 0, 0);
  if (fit) { setFitted(true); }
  show(start, false);
})();
</script>
</body>
</html>
"""
