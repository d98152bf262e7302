"""draw_dot and render: DOT structure, labels, escaping, files, renderers, time limits."""

import math
import os
import re
import runpy
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import warnings
import xml.etree.ElementTree as ET
from importlib.metadata import requires, version
from pathlib import Path

import graphviz
import pytest
from graphs import (
    HAVE_DOT,
    HAVE_PURE,
    micrograd_neuron,
    needs_graphviz,
    needs_pure,
    needs_system_dot,
)
from packaging.requirements import Requirement

from autodiff import Rule, Value, draw_dot, render, render_backward_steps
from autodiff.readers import (
    GraphTooLarge,
    GraphvizError,
    GraphvizNotFound,
    GraphvizTimeout,
    renderer,
)

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def node_lines(source):
    return [line for line in source.splitlines() if re.match(r"\s*v\d+(op)? \[", line)]


def edge_lines(source):
    return [line for line in source.splitlines() if "->" in line]


def box_of(source, label):
    """The DOT line of the Value box whose bold label is ``label``."""
    (line,) = [line for line in node_lines(source) if f"<B>{label}</B>" in line]
    return line


RENDERERS = [
    pytest.param("dot", marks=needs_system_dot),
    pytest.param("graphviz-pure", marks=needs_pure),
]


@pytest.fixture(params=RENDERERS)
def only(request, monkeypatch):
    """Each test runs once with Graphviz's own dot and once with graphviz-pure (or skips)."""
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", request.param)
    return request.param


def draw_without_warnings(graph, fmt="svg"):
    """``graph`` drawn in ``fmt``; any message from Graphviz fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return graph.pipe(format=fmt)


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


# escaping, checked by each renderer

HOSTILE_LABELS = [
    'a|b{c}<d>"e\\f',
    "line one\nline two",
    "<TABLE>&amp;</TD>",
    "\\N \\G \\l",
    "tab\there \x1b[31m",
    "ünïcödé → ∂y/∂x",
]


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_special_characters_in_labels_render_without_warnings(label, only):
    x = Value(1.0, label=label)
    y = x * 2.0
    y.label = label
    y.backward()
    texts = svg_texts(draw_without_warnings(draw_dot(y, show_local=True)))
    for line in label.replace("\t", "\\t").replace("\x1b", "\\x1b").split("\n"):
        assert line in texts


def test_special_characters_in_op_names_render_without_warnings(only):
    weird = Rule('<f|{x}>"\\', lambda x: 2 * x, lambda x, out: (2.0,))
    y = weird(Value(1.0, label="x"))
    assert '<f|{x}>"\\' in svg_texts(draw_without_warnings(draw_dot(y)))


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


def svg_of(path):
    """The texts of a drawn SVG file, after checking that it is well-formed SVG."""
    root = ET.fromstring(path.read_bytes())
    assert root.tag == f"{SVG}svg"
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_each_renderer_writes_well_formed_svg_with_data_and_grad(tmp_path, only):
    o = micrograd_neuron()
    o.backward()
    path = render(o, tmp_path / "neuron.svg")
    assert path == tmp_path / "neuron.svg"
    texts = svg_of(path)
    # n = 2*-3 + 0*1 + 6.8814 = 0.8814, o = tanh(n) = 1/sqrt(2); do/dn = 1 - o^2 = 0.5,
    # do/dx1 = w1 * 0.5 = -1.5, do/dw1 = x1 * 0.5 = 1.0
    for text in ["o", "data 0.7071", "grad 1.0000", "data 0.8814", "grad 0.5000"]:
        assert text in texts
    assert "grad -1.5000" in texts and "tanh" in texts
    assert sorted(os.listdir(tmp_path)) == ["neuron.svg"]  # no temporary left behind


def test_each_renderer_writes_png(tmp_path, only):
    data = render(micrograd_neuron(), tmp_path / "g.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > height > 0  # LR layout: wider than tall


@needs_system_dot
def test_pdf_is_written_by_the_system_dot(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "dot")
    assert render(micrograd_neuron(), tmp_path / "g.PDF").read_bytes().startswith(b"%PDF")


@needs_pure
def test_pdf_without_system_dot_is_one_line_saying_to_use_svg_or_png(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "graphviz-pure")
    o = micrograd_neuron()
    with pytest.raises(GraphvizNotFound) as caught:
        render(o, tmp_path / "g.pdf")
    message = str(caught.value)
    assert "\n" not in message and "PDF" in message and ".svg or .png" in message
    assert "apt-get install graphviz" in message and str(tmp_path / "g.dot") in message
    assert caught.value.saved_to == tmp_path / "g.dot"
    assert sorted(os.listdir(tmp_path)) == ["g.dot"]


@needs_pure
def test_graphviz_pure_gets_one_font_name_it_has_metrics_for(tmp_path, monkeypatch):
    # given "Helvetica,Arial,sans-serif" it measures text as Times: text overflows cells
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "graphviz-pure")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it would warn "Falling back to 'Times' metrics"
        svg = render(micrograd_neuron(), tmp_path / "g.svg").read_text()
    assert set(re.findall(r'font-family="([^"]*)"', svg)) == {"Helvetica,sans-Serif"}


def test_render_dot_and_gv_write_the_source(tmp_path):
    o = micrograd_neuron()
    expected = draw_dot(o, rankdir="TB").source
    assert render(o, tmp_path / "g.dot", rankdir="TB").read_text() == expected
    assert render(o, tmp_path / "g.gv", rankdir="TB").read_text() == expected


def test_render_into_a_missing_folder_names_it_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        render(Value(1.0), tmp_path / "a" / "b" / "g.svg")
    assert str(caught.value) == (
        f"cannot write {tmp_path / 'a' / 'b' / 'g.svg'}: the folder {tmp_path / 'a' / 'b'} "
        "does not exist"
    )
    assert list(tmp_path.iterdir()) == []


def test_render_under_a_file_says_it_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("mine")
    with pytest.raises(NotADirectoryError, match="afile is a file, not a folder"):
        render(Value(1.0), tmp_path / "afile" / "g.svg")
    assert (tmp_path / "afile").read_text() == "mine"


def test_render_unknown_extension_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\.svg"):
        render(Value(1.0), tmp_path / "g.jpeg")
    assert list(tmp_path.iterdir()) == []


def test_render_takes_the_format_from_the_extension_only(tmp_path):
    with pytest.raises(ValueError, match="extension"):
        render(Value(1.0), tmp_path / "g.svg", format="png")
    assert list(tmp_path.iterdir()) == []


@needs_graphviz
def test_rendered_file_has_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = render(Value(1.0), tmp_path / "g.svg")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("name", ["g.svg", "g.dot"])
def test_file_errors_name_the_users_path_not_a_temporary_file(tmp_path, name):
    target = tmp_path / name
    target.mkdir()  # a folder where the file should go
    with pytest.raises(OSError) as caught:
        render(micrograd_neuron(), target)
    assert str(target) in str(caught.value) and f".{name}." not in str(caught.value)
    assert os.listdir(tmp_path) == [name] and os.listdir(target) == []


def test_missing_graphviz_saves_the_source_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "none")
    o = micrograd_neuron()
    with pytest.raises(GraphvizNotFound) as caught:
        render(o, tmp_path / "neuron.svg")
    message = str(caught.value)
    saved = tmp_path / "neuron.dot"
    assert "Graphviz" in message and "apt-get install graphviz" in message
    assert "brew install graphviz" in message and "pip install graphviz-pure" in message
    assert str(saved) in message and "\n" not in message
    assert caught.value.saved_to == saved
    first, rest = saved.read_text().split("\n", 1)
    assert first == "// DOT source saved by autodiff for neuron.svg"  # a DOT comment
    assert rest == draw_dot(o).source
    assert not (tmp_path / "neuron.svg").exists()
    assert isinstance(caught.value, RuntimeError)


def test_the_saved_source_never_replaces_a_file_autodiff_did_not_write(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "none")
    o = micrograd_neuron()
    mine = tmp_path / "graph.dot"
    mine.write_text("my notes")
    for _ in range(2):  # the second run replaces its own saved source, nothing else
        with pytest.raises(GraphvizNotFound) as caught:
            render(o, tmp_path / "graph.pdf")
        assert caught.value.saved_to == tmp_path / "graph.pdf.dot"
    assert mine.read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.dot", "graph.pdf.dot"]


def fake_dot(tmp_path, monkeypatch, script):
    """A program called ``dot``, first on PATH and the only Graphviz allowed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "dot")


@pytest.mark.skipif(sys.platform == "win32", reason="the fake dot is a shell script")
def test_failing_dot_is_reported_and_writes_nothing(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "echo 'Error: something broke' >&2\nexit 3\n")
    out = tmp_path / "out"
    out.mkdir()  # the folder must exist: render creates none
    with pytest.raises(GraphvizError, match="something broke"):
        render(Value(1.0), out / "g.svg")
    assert list(out.iterdir()) == []


# which Graphviz draws


@needs_pure
def test_renderer_names_graphviz_pure_and_its_version(monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "graphviz-pure")
    line = renderer()
    assert line.startswith(f"graphviz-pure {version('graphviz-pure')} (pip wheel, ")
    assert "\n" not in line


@needs_system_dot
def test_renderer_names_the_system_dot_and_its_version(monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "dot")
    done = subprocess.run(["dot", "-V"], capture_output=True, text=True)
    said = re.search(r"version (\S+)", done.stderr).group(1)
    assert re.fullmatch(rf"dot {re.escape(said)} \(.*dot(\.exe)?\)", renderer())


@pytest.mark.skipif(not (HAVE_DOT and HAVE_PURE), reason="needs both dot and graphviz-pure")
def test_the_system_dot_comes_first(monkeypatch):
    monkeypatch.delenv("AUTODIFF_GRAPHVIZ", raising=False)
    assert renderer().startswith("dot ")


@needs_pure
def test_graphviz_pure_is_found_beside_python_when_not_on_path(tmp_path, monkeypatch):
    if shutil.which("graphviz-pure", path=sysconfig.get_path("scripts")) is None:
        pytest.skip("graphviz-pure is not installed in this Python's scripts folder")
    monkeypatch.delenv("AUTODIFF_GRAPHVIZ", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no dot, no graphviz-pure
    assert renderer().startswith("graphviz-pure ")
    assert "data 1.0000" in svg_of(render(Value(1.0), tmp_path / "g.svg"))


def test_renderer_without_graphviz_says_how_to_install(monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "none")
    line = renderer()
    assert line.startswith("none (") and "\n" not in line
    assert "pip install graphviz-pure" in line and "apt-get install graphviz" in line


def test_an_unknown_graphviz_choice_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "cairo")
    assert renderer().startswith("none (AUTODIFF_GRAPHVIZ must be dot, graphviz-pure or none")
    with pytest.raises(GraphvizError, match="'cairo'"):
        render(Value(1.0), tmp_path / "g.svg")


def test_graphviz_pure_is_required_exactly_where_it_has_wheels():
    # graphviz-pure 0.2.2 has wheels (and no sdist) for these platforms only
    (requirement,) = [
        Requirement(r) for r in requires("autodiff-scalar") if r.startswith("graphviz-pure")
    ]
    wheels = [("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "x86_64")]
    wheels += [("darwin", "arm64"), ("win32", "AMD64"), ("win32", "ARM64")]
    others = [("linux", "i686"), ("linux", "ppc64le"), ("linux", "armv7l"), ("win32", "x86")]
    others += [("freebsd14", "amd64"), ("emscripten", "wasm32")]
    for platform, machine in wheels + others:
        environment = {"sys_platform": platform, "platform_machine": machine}
        assert requirement.marker.evaluate(environment) == ((platform, machine) in wheels)


# draw_dot's Digraph: micrograd's signature, render, pipe, Jupyter


def test_draw_dot_takes_micrograds_format_then_rankdir():
    o = micrograd_neuron()
    assert draw_dot(o).format == "svg"
    graph = draw_dot(o, "png", "TB")
    assert graph.format == "png" and "rankdir=TB" in graph.source


def test_draw_dot_refuses_an_unknown_format_and_points_at_rankdir():
    o = micrograd_neuron()
    with pytest.raises(ValueError, match="rankdir='TB'"):
        draw_dot(o, "TB")
    with pytest.raises(ValueError, match="'gif'"):
        draw_dot(o, format="gif")


@needs_graphviz
def test_digraph_render_writes_the_source_and_the_svg_like_graphviz(tmp_path):
    o = micrograd_neuron()
    o.backward()
    graph = draw_dot(o)
    drawn = graph.render(tmp_path / "gout")
    assert drawn == str(tmp_path / "gout.svg")
    assert "grad 0.5000" in svg_of(Path(drawn))
    assert (tmp_path / "gout").read_text().rstrip("\n") == graph.source.rstrip("\n")
    assert sorted(os.listdir(tmp_path)) == ["gout", "gout.svg"]


@needs_graphviz
def test_digraph_render_to_an_outfile_saves_the_source_beside_it(tmp_path):
    graph = draw_dot(micrograd_neuron())
    drawn = graph.render(outfile=tmp_path / "g.png")
    assert Path(drawn).read_bytes().startswith(b"\x89PNG")
    assert sorted(os.listdir(tmp_path)) == ["g.gv", "g.png"]
    assert (tmp_path / "g.gv").read_text().rstrip("\n") == graph.source.rstrip("\n")
    graph.render(outfile=tmp_path / "h.svg", cleanup=True)
    assert sorted(os.listdir(tmp_path)) == ["g.gv", "g.png", "h.svg"]


@needs_graphviz
def test_digraph_pipe_gives_svg_bytes_text_or_png():
    o = micrograd_neuron()
    o.backward()
    graph = draw_dot(o)
    assert "grad -1.5000" in svg_texts(graph.pipe())
    assert graph.pipe(encoding="utf-8").startswith("<?xml")
    assert graph.pipe(format="png").startswith(b"\x89PNG")


def test_digraph_refuses_other_layout_engines():
    with pytest.raises(ValueError, match="neato"):
        draw_dot(micrograd_neuron()).pipe(engine="neato")


def test_a_copy_keeps_the_time_limit():
    graph = draw_dot(micrograd_neuron(), timeout=3.5)
    copy = graph.copy()
    assert type(copy) is type(graph) and copy.timeout == 3.5 and copy.source == graph.source


@needs_graphviz
def test_jupyter_mimebundle_is_the_svg_with_data_and_grad():
    o = micrograd_neuron()
    o.backward()
    bundle = draw_dot(o)._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    texts = svg_texts(bundle["image/svg+xml"].encode("utf-8"))
    assert "data 0.7071" in texts and "grad 0.5000" in texts
    png = draw_dot(o)._repr_mimebundle_(include=["image/png"])["image/png"]
    assert png.startswith(b"\x89PNG")


def test_jupyter_without_graphviz_shows_one_line_not_a_traceback(monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "none")
    bundle = draw_dot(micrograd_neuron())._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    (line,) = bundle["text/plain"].splitlines()
    assert line.startswith("GraphvizNotFound: ") and "pip install graphviz-pure" in line


@needs_graphviz
def test_a_notebook_cell_ending_in_draw_dot_shows_svg(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cell = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from autodiff import Value, draw_dot\n"
        "x = Value(2.0, label='x'); y = x * x; y.backward()\n"
        "draw_dot(y)"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert not [o for o in outputs if o["output_type"] == "error"]
    (output,) = [o for o in outputs if o["output_type"] == "execute_result"]
    texts = svg_texts(output["data"]["image/svg+xml"].encode("utf-8"))
    assert "data 4.0000" in texts and "grad 4.0000" in texts  # y = x^2, dy/dx = 2x = 4


# time limits


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "20", True])
def test_bad_time_limits_are_refused(tmp_path, bad):
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        render(Value(1.0), tmp_path / "g.svg", timeout=bad)
    with pytest.raises(ValueError, match="timeout"):
        draw_dot(Value(1.0), timeout=bad)
    assert list(tmp_path.iterdir()) == []


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


SLOW_DOT = f'echo $$ > "$PIDFILE"\nexec {shutil.which("sleep")} 30\n'  # sleep: found now


@pytest.mark.skipif(sys.platform == "win32", reason="the fake dot is a shell script")
def test_a_run_past_the_time_limit_is_stopped_with_one_clear_line(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, SLOW_DOT)
    monkeypatch.setenv("PIDFILE", str(tmp_path / "pid"))
    out = tmp_path / "out"
    out.mkdir()  # the folder must exist: render creates none
    started = time.monotonic()
    with pytest.raises(GraphvizTimeout) as caught:
        render(micrograd_neuron(), out / "g.svg", timeout=0.5)
    assert time.monotonic() - started < 15  # stopped, not waited for (it sleeps 30 s)
    message = str(caught.value)
    assert "\n" not in message and "0.5 s" in message and "g.svg" in message
    assert "smaller" in message and "--timeout" in message
    assert isinstance(caught.value, GraphvizError)
    assert not alive(int((tmp_path / "pid").read_text()))
    assert list(out.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="the fake dot is a shell script")
def test_frames_have_the_same_time_limit(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, SLOW_DOT)
    monkeypatch.setenv("PIDFILE", str(tmp_path / "pid"))
    out = tmp_path / "frames"
    with pytest.raises(GraphvizTimeout, match="the frames' graph within 0.5 s"):
        render_backward_steps(micrograd_neuron(), out, timeout=0.5)
    assert not alive(int((tmp_path / "pid").read_text()))
    assert not out.exists()  # not even an empty folder


@pytest.mark.skipif(sys.platform == "win32", reason="the fake dot is a shell script")
def test_ctrl_c_while_drawing_stops_graphviz_and_leaves_nothing(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, SLOW_DOT)
    monkeypatch.setenv("PIDFILE", str(tmp_path / "pid"))
    out = tmp_path / "out"
    out.mkdir()  # the folder must exist: render creates none

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            render(micrograd_neuron(), out / "g.svg", timeout=None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not alive(int((tmp_path / "pid").read_text()))
    assert list(out.iterdir()) == []


@needs_pure
def test_a_250_factor_product_draws_quickly_or_times_out_cleanly(tmp_path):
    # x*x*...*x: one Value used by 249 ops, the slow case for dot's layout (Graphviz 2.42
    # took 30-40 s on it; graphviz-pure 0.2.2 had not finished after 10 minutes)
    env = {**os.environ, "AUTODIFF_GRAPHVIZ": "graphviz-pure", "PYTHONPATH": str(ROOT)}
    product = "*".join(["x"] * 250)
    argv = ["graph", "-o", "g.svg", "--timeout", "2", "--", product, "x=1"]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "autodiff", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert time.monotonic() - started < 30  # 2 s for Graphviz plus Python's start
    assert "Traceback" not in done.stderr and done.stdout == ""
    if done.returncode == 0:
        assert "data 1.0000" in svg_of(tmp_path / "g.svg")
    else:
        (line,) = done.stderr.splitlines()
        assert done.returncode == 2 and "within 2 s" in line and "--timeout" in line
        assert os.listdir(tmp_path) == []


# examples/trace_graph.py


@needs_graphviz
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


@needs_graphviz
def test_trace_graph_example_makes_its_out_folder_when_run_as_documented(tmp_path):
    # `python examples/trace_graph.py` from a fresh folder: the default out/ is its own to make
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "trace_graph.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["expression.svg", "neuron.svg"]


def test_trace_graph_example_names_a_missing_parent_in_one_line(tmp_path):
    target = tmp_path / "no" / "such"
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "trace_graph.py"), str(target)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert (
        done.stderr
        == f"trace_graph: cannot write {target}: the folder {target.parent} does not exist\n"
    )
    assert not (tmp_path / "no").exists()
