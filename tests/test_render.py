"""draw_dot and render: DOT structure, labels, determinism, escaping, files, missing dot."""

import math
import os
import re
import runpy
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest
from graphs import micrograd_neuron

from autodiff import (
    GraphTooLarge,
    GraphvizError,
    GraphvizNotFound,
    Rule,
    Value,
    draw_dot,
    render,
)

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"


def node_lines(source):
    return [line for line in source.splitlines() if re.match(r"\s*v\d+(op)? \[", line)]


def edge_lines(source):
    return [line for line in source.splitlines() if "->" in line]


def box_of(source, label):
    """The DOT line of the Value box whose bold label is ``label``."""
    (line,) = [line for line in node_lines(source) if f"<B>{label}</B>" in line]
    return line


def run_dot(source, fmt="svg"):
    return subprocess.run(["dot", f"-T{fmt}"], input=source.encode(), capture_output=True)


def svg_texts(svg_bytes):
    return [t.text or "" for t in ET.fromstring(svg_bytes).iter(f"{SVG}text")]


# structure and labels


def test_one_box_per_value_one_node_per_op_and_edges_through_ops():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    d = e + c
    source = draw_dot(d).source
    # Values a, b, c, e, d (5 boxes) and ops *, + (2 nodes)
    assert len(node_lines(source)) == 7
    assert len([line for line in node_lines(source) if re.match(r"\s*v\d+op", line)]) == 2
    # a->*, b->*, *->e, e->+, c->+, +->d
    assert len(edge_lines(source)) == 6


def test_reused_value_is_one_box_with_an_edge_per_use():
    x = Value(3.0, label="x")
    y = x * x
    source = draw_dot(y).source
    assert len(node_lines(source)) == 3  # x, y, the * op
    x_id = box_of(source, "x").split()[0]
    assert sum(1 for line in edge_lines(source) if line.split()[0] == x_id) == 2


def test_labels_carry_data_and_grad_with_four_decimals():
    o = micrograd_neuron()
    o.backward()
    source = draw_dot(o).source
    # tanh(0.8814) = 0.7071 = 1/sqrt(2); do/dn = 1 - tanh^2 = 0.5; do/dw1 = x1 * 0.5 = 1
    assert "data 0.7071" in box_of(source, "o") and "grad 1.0000" in box_of(source, "o")
    assert "data 0.8814" in box_of(source, "n") and "grad 0.5000" in box_of(source, "n")
    assert "data -3.0000" in box_of(source, "w1") and "grad 1.0000" in box_of(source, "w1")
    assert "grad -1.5000" in box_of(source, "x1")  # w1 * 0.5
    assert "grad 0.0000" in box_of(source, "w2")  # x2 * 0.5


def test_precision_sets_the_decimals():
    o = micrograd_neuron()
    o.backward()
    source = draw_dot(o, precision=2).source
    assert "data 0.71" in box_of(source, "o") and "data 0.7071" not in source


def test_show_grad_false_draws_values_only():
    o = micrograd_neuron()
    source = draw_dot(o, show_grad=False).source
    assert "grad" not in source and "data 0.7071" in source


def test_op_nodes_show_the_op_name():
    x = Value(2.0, label="x")
    y = (x**2).tanh() - x.exp()
    source = draw_dot(y).source
    ops = [re.search(r"label=<([^>]*)>", line).group(1) for line in node_lines(source)]
    assert {"**2", "tanh", "exp", "-"} <= set(ops)


def test_leaves_are_filled_differently_from_intermediate_values():
    x = Value(2.0, label="x")
    y = x * 3.0
    y.label = "y"
    source = draw_dot(y).source
    fill = re.compile(r'TABLE [^>]*BGCOLOR="(#[0-9a-f]{6})"')
    assert fill.search(box_of(source, "x")).group(1) != fill.search(box_of(source, "y")).group(1)


def test_gradients_that_are_values_are_shown_by_their_data():
    x = Value(3.0, label="x")
    y = x * x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert "grad 27.0000" in box_of(draw_dot(y).source, "x")  # 3 x^2 at x = 3


def test_gradient_nodes_are_styled_apart():
    from autodiff import grad

    x = Value(1.0, label="x")
    g = grad(lambda v: v * v * 2.0)(x)  # a derivative returned by grad: labelled d<lambda>/dv
    source = draw_dot(g).source
    assert 'STYLE="dashed"' in box_of(source, g.label)
    x_boxes = [line for line in node_lines(source) if "<B>x</B>" in line]
    assert x_boxes and all('STYLE="dashed"' not in line for line in x_boxes)


def test_a_user_label_that_looks_like_a_derivative_is_not_styled_as_one():
    v = Value(3.0, label="dist/dt")
    source = draw_dot(v * 2.0).source
    assert 'STYLE="dashed"' not in box_of(source, "dist/dt")


def test_numbers_too_small_or_large_for_fixed_decimals_use_exponents():
    a = Value(1e-7, label="a")
    b = Value(2.5e9, label="b")
    c = Value(0.0, label="c")
    source = draw_dot(a + b + c.log()).source
    assert "data 1.0000e-07" in box_of(source, "a")
    assert "data 2.5000e+09" in box_of(source, "b")
    assert "data -inf" in source  # log(0)


def test_color_grad_tints_by_sign_and_size():
    a, b = Value(1.0, label="a"), Value(1.0, label="b")
    y = 4.0 * a - b  # dy/da = 4, dy/db = -1
    y.backward()
    source = draw_dot(y, color_grad=True).source

    def tint(label):
        hex_ = re.search(r'<TD BGCOLOR="#(\w{6})">grad', box_of(source, label)).group(1)
        return tuple(int(hex_[i : i + 2], 16) for i in (0, 2, 4))

    ra, _, ba = tint("a")
    rb, _, bb = tint("b")
    assert ba > ra and rb > bb  # positive blue, negative red
    assert min(tint("a")) < min(tint("b"))  # |4| > |-1|: a's tint is deeper


def test_show_local_writes_each_edges_local_derivative():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    y = a * b
    source = draw_dot(y, show_local=True).source
    a_id, b_id = box_of(source, "a").split()[0], box_of(source, "b").split()[0]
    (a_edge,) = [line for line in edge_lines(source) if line.split()[0] == a_id]
    (b_edge,) = [line for line in edge_lines(source) if line.split()[0] == b_id]
    assert "local -3.0000" in a_edge  # d(ab)/da = b
    assert "local 2.0000" in b_edge  # d(ab)/db = a


def test_returns_a_digraph_that_jupyter_displays():
    graph = draw_dot(micrograd_neuron())
    assert isinstance(graph, graphviz.Digraph)
    assert hasattr(graph, "_repr_mimebundle_")


def test_bad_options_are_refused():
    x = Value(1.0)
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(x, rankdir="XY")
    with pytest.raises(ValueError, match="precision"):
        draw_dot(x, precision=-1)
    with pytest.raises(TypeError, match="Value"):
        draw_dot(1.0)


# determinism


def test_same_graph_built_twice_gives_identical_dot():
    def build():
        o = micrograd_neuron()
        o.backward()
        return draw_dot(o, color_grad=True, show_local=True).source

    first, second = build(), build()
    assert first == second
    assert not re.search(r"\d{8,}", first)  # no id()-like numbers as node names


# escaping, checked by the real dot

HOSTILE_LABELS = [
    'a|b{c}<d>"e\\f',
    "line one\nline two",
    "<TABLE>&amp;</TD>",
    "\\N \\G \\l",
    "tab\there \x1b[31m",
    "ünïcödé → ∂y/∂x",
]


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_special_characters_in_labels_render_without_warnings(label):
    x = Value(1.0, label=label)
    y = x * 2.0
    y.label = label
    y.backward()
    done = run_dot(draw_dot(y, show_local=True).source)
    assert done.returncode == 0
    assert done.stderr == b""
    texts = svg_texts(done.stdout)
    for line in label.replace("\t", "\\t").replace("\x1b", "\\x1b").split("\n"):
        assert line in texts


def test_special_characters_in_op_names_render_without_warnings():
    weird = Rule('<f|{x}>"\\', lambda x: 2 * x, lambda x, out: (2.0,))
    y = weird(Value(1.0, label="x"))
    done = run_dot(draw_dot(y).source)
    assert done.returncode == 0 and done.stderr == b""
    assert '<f|{x}>"\\' in svg_texts(done.stdout)


# size limit


def test_graphs_above_the_limit_are_refused_with_advice():
    y = Value(0.0)
    for _ in range(1100):  # 2201 Values
        y = y + 1.0
    with pytest.raises(GraphTooLarge, match="max_nodes="):
        draw_dot(y)
    assert len(node_lines(draw_dot(y, max_nodes=None).source)) == 2201 + 1100


def test_max_nodes_counts_values():
    y = Value(0.0)
    for _ in range(5):  # 11 Values
        y = y + 1.0
    draw_dot(y, max_nodes=11)
    with pytest.raises(GraphTooLarge):
        draw_dot(y, max_nodes=10)


# render


def test_render_svg_writes_a_valid_svg(tmp_path):
    o = micrograd_neuron()
    o.backward()
    path = render(o, tmp_path / "neuron.svg")
    assert path == tmp_path / "neuron.svg"
    texts = svg_texts(path.read_bytes())
    assert "data 0.7071" in texts and "grad 0.5000" in texts
    assert sorted(os.listdir(tmp_path)) == ["neuron.svg"]  # no temporary left behind


def test_render_png_and_pdf_by_extension(tmp_path):
    o = micrograd_neuron()
    assert render(o, tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert render(o, tmp_path / "g.PDF").read_bytes().startswith(b"%PDF")


def test_render_dot_and_gv_write_the_source(tmp_path):
    o = micrograd_neuron()
    expected = draw_dot(o, rankdir="TB").source
    assert render(o, tmp_path / "g.dot", rankdir="TB").read_text() == expected
    assert render(o, tmp_path / "g.gv", rankdir="TB").read_text() == expected


def test_render_creates_missing_directories(tmp_path):
    assert render(Value(1.0), tmp_path / "a" / "b" / "g.svg").exists()


def test_render_unknown_extension_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\.svg"):
        render(Value(1.0), tmp_path / "g.jpeg")
    assert list(tmp_path.iterdir()) == []


def test_rendered_file_has_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = render(Value(1.0), tmp_path / "g.svg")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_missing_dot_saves_the_source_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    o = micrograd_neuron()
    with pytest.raises(GraphvizNotFound) as caught:
        render(o, tmp_path / "neuron.svg")
    message = str(caught.value)
    saved = tmp_path / "neuron.dot"
    assert "Graphviz" in message and "apt-get install graphviz" in message
    assert "brew install graphviz" in message and str(saved) in message
    assert "\n" not in message
    assert caught.value.saved_to == saved
    assert saved.read_text() == draw_dot(o).source
    assert not (tmp_path / "neuron.svg").exists()
    assert isinstance(caught.value, RuntimeError)


def test_failing_dot_is_reported_and_writes_nothing(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: something broke' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    out = tmp_path / "out"
    with pytest.raises(GraphvizError, match="something broke"):
        render(Value(1.0), out / "g.svg")
    assert list(out.iterdir()) == []


# examples/trace_graph.py


def test_trace_graph_example_draws_micrograds_two_examples(tmp_path):
    example = runpy.run_path(str(ROOT / "examples" / "trace_graph.py"))
    assert example["main"]([str(tmp_path)]) == 0
    expression = svg_texts((tmp_path / "expression.svg").read_bytes())
    neuron = svg_texts((tmp_path / "neuron.svg").read_bytes())
    # y = relu(2x + 1) at x = 1: y = 3, dy/dx = 2
    assert "data 3.0000" in expression and "grad 2.0000" in expression
    # n = -0.3*1 + -0.6*-2 + 0.1 = 1.0 > 0: dy/dw2 = x2 = -2, dy/dx1 = w1 = -0.3
    assert "data 1.0000" in neuron and "grad -2.0000" in neuron and "grad -0.3000" in neuron
    assert math.isclose(example["neuron"]().data, 1.0)
