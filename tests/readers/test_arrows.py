"""Arrows end on the box they point at: the SVG geometry of every edge's arrowhead.

The gap measured is from the drawn tip of the arrowhead (its outline's stroke included)
to the outline of the node it points at: within 1 pt either way."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from graphs import micrograd_neuron, needs_graphviz

from autodiff import Value, draw_dot

SVG = "{http://www.w3.org/2000/svg}"


def _points(polygon: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in polygon.get("points", "").split()]


def _shapes(svg: bytes) -> dict[str, list[ET.Element]]:
    """Each node's drawn shapes (the table's background polygon, or the op's ellipse)."""
    shapes = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") == "node":
            name = g.find(f"{SVG}title").text
            shapes[name] = list(g.iter(f"{SVG}polygon")) + list(g.iter(f"{SVG}ellipse"))
    return shapes


def _distance(point: tuple[float, float], shape: ET.Element) -> float:
    """How far ``point`` lies from the outline of ``shape`` (0 on it)."""
    x, y = point
    if shape.tag == f"{SVG}ellipse":
        cx, cy, rx, ry = (float(shape.get(k)) for k in ("cx", "cy", "rx", "ry"))
        r = math.hypot((x - cx) / rx, (y - cy) / ry)
        return abs(r - 1.0) * min(rx, ry)
    xs, ys = zip(*_points(shape), strict=True)
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    outside = math.hypot(max(x0 - x, 0, x - x1), max(y0 - y, 0, y - y1))
    inside = min(x - x0, x1 - x, y - y0, y1 - y)
    return outside if outside > 0 else inside


def _gaps(svg: bytes) -> list[tuple[str, float]]:
    """For every edge: the distance from its arrowhead's tip to the node it points at."""
    shapes = _shapes(svg)
    gaps = []
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") != "edge":
            continue
        title = g.find(f"{SVG}title").text
        target = title.split("->")[1]
        head = _points(g.find(f"{SVG}polygon"))
        outline = shapes[target][0]  # the box's background, or the op's ellipse
        tip = min(head, key=lambda p: _distance(p, outline))
        gaps.append((title, _distance(tip, outline) - _miter(head, tip)))
    return gaps


def _miter(head: list[tuple[float, float]], tip: tuple[float, float]) -> float:
    """How far the arrowhead's 1 pt stroke reaches past its tip point (a miter join):
    Graphviz sets the tip back by that much, so that the drawn point touches the box."""
    (ax, ay), (bx, by) = [(x - tip[0], y - tip[1]) for x, y in head[:3] if (x, y) != tip][:2]
    angle = abs(math.atan2(ax * by - ay * bx, ax * bx + ay * by))
    return 0.5 / math.sin(angle / 2)


@needs_graphviz
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_every_arrow_ends_within_a_point_of_its_box(rankdir):
    x = Value(2.0, label="x")
    y = (x * x + x).tanh() * Value(-3.0, label="w")
    y.backward()
    for root in (y, micrograd_neuron()):
        svg = draw_dot(root, rankdir=rankdir).pipe("svg")
        gaps = _gaps(svg)
        assert len(gaps) >= 6
        far = [(edge, round(gap, 2)) for edge, gap in gaps if abs(gap) > 1.0]
        assert not far, far


@needs_graphviz
def test_arrows_reach_stacked_boxes_in_groups():
    x, w = Value(1.5, label="x"), Value(-0.5, label="w")
    h = (x * w).tanh()
    y = h * h
    y.backward()
    svg = draw_dot(y, groups={"neuron": [w, h]}).pipe("svg")
    far = [(edge, round(gap, 2)) for edge, gap in _gaps(svg) if abs(gap) > 1.0]
    assert not far, far
