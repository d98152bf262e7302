"""render_backward_steps: one frame per Value in backward order, and the page that steps them."""

import base64
import html
import re
import xml.etree.ElementTree as ET

import pytest
from graphs import micrograd_neuron, needs_graphviz

from autodiff import Value, render_backward_steps, topological_order
from autodiff.readers import GraphTooLarge, GraphvizNotFound

SVG = "{http://www.w3.org/2000/svg}"
HIGHLIGHT = "#fde047"


def nodes(svg_path):
    """{node name: <g> element} of a Graphviz SVG."""
    root = ET.fromstring(svg_path.read_bytes())
    return {g.find(f"{SVG}title").text: g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}


def highlighted(svg_path):
    return sorted(
        name
        for name, g in nodes(svg_path).items()
        if not name.endswith("op")
        and any(p.get("fill") == HIGHLIGHT for p in g.iter(f"{SVG}polygon"))
    )


def readable_grads(svg_path):
    """The gradient texts drawn in the default (black) colour, i.e. readable."""
    return [
        t.text
        for g in nodes(svg_path).values()
        for t in g.iter(f"{SVG}text")
        if (t.text or "").startswith("grad ") and t.get("fill") is None
    ]


@pytest.fixture(scope="module")
def neuron_frames(tmp_path_factory):
    out = tmp_path_factory.mktemp("frames")
    root = micrograd_neuron()
    index = render_backward_steps(root, out)
    return root, out, index


@needs_graphviz
def test_one_frame_per_value_plus_the_forward_pass(neuron_frames):
    root, out, index = neuron_frames
    assert index == out / "index.html"
    frames = sorted(p.name for p in out.glob("step_*.svg"))
    assert frames == [f"step_{k:03d}.svg" for k in range(11)]  # 10 Values + forward frame


@needs_graphviz
def test_frames_highlight_values_in_reverse_topological_order(neuron_frames):
    root, out, _ = neuron_frames
    n = len(topological_order(root))
    assert highlighted(out / "step_000.svg") == []
    # node ids follow topological order (v0 first), so backward visits v9, v8, ..., v0
    for k in range(1, n + 1):
        assert highlighted(out / f"step_{k:03d}.svg") == [f"v{n - k}"]


@needs_graphviz
def test_frame_k_shows_exactly_k_gradients(neuron_frames):
    _, out, _ = neuron_frames
    for k in range(11):
        assert len(readable_grads(out / f"step_{k:03d}.svg")) == k
    # the last frame shows the article's gradients: do/dn = 1 - tanh(n)^2 = 0.5, do/dx1 = -1.5
    last = readable_grads(out / "step_010.svg")
    assert "grad 1.0000" in last and "grad 0.5000" in last and "grad -1.5000" in last


@needs_graphviz
def test_all_frames_share_one_layout(neuron_frames):
    _, out, _ = neuron_frames

    def boxes(path):
        """Each node's outline: a box's polygon or an op's ellipse."""
        shape = {}
        for name, g in nodes(path).items():
            outline = g.find(f"{SVG}polygon")
            if outline is None:
                outline = g.find(f"{SVG}ellipse")
            shape[name] = sorted((k, v) for k, v in outline.attrib.items() if k != "fill")
        return shape

    first = boxes(out / "step_000.svg")
    for k in range(1, 11):
        assert boxes(out / f"step_{k:03d}.svg") == first


@needs_graphviz
def test_frames_do_not_touch_grad(tmp_path):
    root = micrograd_neuron()
    render_backward_steps(root, tmp_path)
    assert all(v.grad == 0.0 for v in topological_order(root))


@needs_graphviz
def test_index_embeds_every_frame_and_steps_with_buttons_and_keys(neuron_frames):
    _, out, index = neuron_frames
    page = index.read_text(encoding="utf-8")
    embedded = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert len(embedded) == 11
    for k, data in enumerate(embedded):
        assert base64.b64decode(data) == (out / f"step_{k:03d}.svg").read_bytes()
    for needle in ('id="prev"', 'id="next"', "ArrowLeft", "ArrowRight", "<style>", "<script>"):
        assert needle in page
    # self-contained: no external scripts, styles or images
    assert not re.search(r'(src|href)="(?!data:)', page)


def captions_of(page):
    """[(head, text)] of every caption on the page, unescaped."""
    found = re.findall(r'<p class="caption"[^>]*><b class="head">(.*?)</b>: (.*?)</p>', page)
    return [(html.unescape(head), html.unescape(text)) for head, text in found]


@needs_graphviz
def test_captions_write_out_the_chain_rule(tmp_path):
    x = Value(3.0, label="x")
    y = x * x + x  # dy/dx = 2x + 1 = 7
    y.label = "y"
    page = render_backward_steps(y, tmp_path).read_text("utf-8")
    captions = [text for _, text in captions_of(page)]
    assert len(captions) == 4  # forward, y, x*x, x
    assert "seed: grad = 1.0000" in captions[1]
    # in the order backward reaches them: + once (local 1), then x*x twice (local x = 3 each)
    assert "grad = 1.0000 × 1.0000 + 1.0000 × 3.0000 + 1.0000 × 3.0000 = 7.0000" in captions[3]


@needs_graphviz
def test_counter_caption_file_and_fragment_share_one_numbering(neuron_frames):
    _, out, index = neuron_frames
    page = index.read_text(encoding="utf-8")
    # frames 0 (the forward pass) to 10 (the 10th Value visited): step_00k.svg is "Step k of 10"
    heads = [head for head, _ in captions_of(page)]
    assert heads == [f"Step {k} of 10" for k in range(11)]
    names = re.findall(r'<img class="frame" alt="([^"]+)"', page)
    assert names == [f"step_{k:03d}.svg" for k in range(11)]
    assert re.search(r'<span id="counter"[^>]*>Step 0 of 10</span>', page)
    # the counter shows the caption's head, never a numbering of its own
    assert 'counter.textContent = captions[current].querySelector(".head").textContent' in page
    assert '" / "' not in page and "current + 1) +" not in page
    assert '"#step=" + current' in page and "hashchange" in page


@needs_graphviz
def test_page_opens_at_a_zoom_where_graph_text_is_as_large_as_the_pages_small_text(
    neuron_frames,
):
    _, out, index = neuron_frames
    page = index.read_text(encoding="utf-8")
    small_px = float(re.search(r"\.small, #zoom \{ font-size: (\d+)px", page).group(1))
    stage = re.search(
        r'<div id="stage" data-width="([\d.]+)" data-height="([\d.]+)" '
        r'data-readable="([\d.]+)"',
        page,
    )
    width, height, readable = (float(g) for g in stage.groups())
    smallest_pt = min(
        float(size)
        for svg in out.glob("step_*.svg")
        for size in re.findall(r'font-size="([\d.]+)"', svg.read_text())
    )
    assert smallest_pt == 9.0  # the edge labels' local derivatives
    # an SVG point is 4/3 CSS px; at the readable zoom the smallest text is the small text
    assert readable * smallest_pt * 4 / 3 == pytest.approx(small_px, rel=1e-3)
    svg = ET.fromstring((out / "step_000.svg").read_bytes())
    assert width == pytest.approx(float(svg.get("width").removesuffix("pt")) * 4 / 3, abs=0.1)
    assert height == pytest.approx(float(svg.get("height").removesuffix("pt")) * 4 / 3, abs=0.1)
    # the script starts there (or fitted, when the whole graph fits at a larger zoom)
    assert "var current = 0, zoom = readable" in page
    assert "Math.max(readable, Math.min(fitZoom(), 1.5 * readable))" in page


@needs_graphviz
def test_page_pans_zooms_and_fits(neuron_frames):
    _, _, index = neuron_frames
    page = index.read_text(encoding="utf-8")
    for needle in (
        'id="zoom-in"', 'id="zoom-out"', 'id="fit"', 'aria-pressed="false"',
        '"wheel"', '"pointermove"', 'e.key === "+"', 'e.key === "-"', 'e.key === "f"',
        "overflow: auto",
    ):  # fmt: skip
        assert needle in page, needle


def bbox_in_viewbox(svg_path, name):
    """The outline of node ``name`` of a Graphviz SVG, in viewBox units (the graph's
    translate applied): (x0, y0, x1, y1)."""
    root = ET.fromstring(svg_path.read_bytes())
    graph = root.find(f"{SVG}g")
    dx, dy = map(
        float, re.search(r"translate\(([-\d.]+) ([-\d.]+)\)", graph.get("transform")).groups()
    )
    points = [
        tuple(map(float, pair.split(",")))
        for polygon in nodes(svg_path)[name].iter(f"{SVG}polygon")
        for pair in polygon.get("points").split()
    ]
    xs = [x + dx for x, _ in points]
    ys = [y + dy for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


@needs_graphviz
def test_each_frame_names_where_its_highlighted_value_is_drawn(neuron_frames):
    root, out, index = neuron_frames
    page = index.read_text(encoding="utf-8")
    focus = [
        tuple(map(float, box.split()))
        for box in re.findall(r'<img class="frame" alt="[^"]+" data-focus="([^"]*)"', page)
    ]
    assert len(focus) == 11
    n = len(topological_order(root))
    for k in range(11):
        # frame k > 0 highlights v(n-k); the forward pass's frame looks at the output
        name = f"v{n - max(k, 1)}"
        x0, y0, x1, y1 = bbox_in_viewbox(out / f"step_{k:03d}.svg", name)
        fx0, fy0, fx1, fy1 = focus[k]
        assert fx0 - 0.1 <= x0 and x1 <= fx1 + 0.1 and fy0 - 0.1 <= y0 and y1 <= fy1 + 0.1
        # and no more than the box and its op: within a few boxes' size
        assert fx1 - fx0 < 4 * (x1 - x0) + 100


@needs_graphviz
def test_a_lone_leaf_gives_two_frames(tmp_path):
    render_backward_steps(Value(2.0, label="a"), tmp_path)
    assert sorted(p.name for p in tmp_path.glob("step_*.svg")) == ["step_000.svg", "step_001.svg"]


@needs_graphviz
def test_stale_frames_are_replaced_and_other_files_kept(tmp_path):
    (tmp_path / "step_999.svg").write_text("old")
    (tmp_path / "notes.svg").write_text("mine")
    render_backward_steps(Value(2.0) * 3.0, tmp_path)
    assert not (tmp_path / "step_999.svg").exists()
    assert (tmp_path / "notes.svg").read_text() == "mine"
    assert len(list(tmp_path.glob("step_*.svg"))) == 4


def test_large_graphs_are_refused(tmp_path):
    y = Value(0.0)
    for _ in range(40):  # 81 Values
        y = y + 1.0
    with pytest.raises(GraphTooLarge, match="max_nodes="):
        render_backward_steps(y, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_graphviz_saves_the_frames_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "none")
    out = tmp_path / "frames"
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
        render_backward_steps(micrograd_neuron(), out)
    assert len(list(out.glob("step_*.dot"))) == 11
    assert not (out / "index.html").exists()


def test_bad_groups_are_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "frames"
    with pytest.raises(ValueError, match="group 'g' lists a Value with data 1.0, which is not"):
        render_backward_steps(micrograd_neuron(), out, groups={"g": [Value(1.0)]})
    assert not out.exists()


@needs_graphviz
def test_grouped_frames_draw_each_group_as_a_labelled_cluster(tmp_path):
    root = micrograd_neuron()
    n = root._prev[0]
    render_backward_steps(root, tmp_path, groups={"neuron": [n, root]})
    for k in (0, 5, 10):
        svg = ET.fromstring((tmp_path / f"step_{k:03d}.svg").read_bytes())
        cluster = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "cluster"]
        assert len(cluster) == 1
        assert [t.text for t in cluster[0].iter(f"{SVG}text")] == ["neuron"]


@needs_graphviz
def test_a_run_that_fails_half_way_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    from autodiff.readers import frames

    out = tmp_path / "frames"
    index = render_backward_steps(micrograd_neuron(), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []

    def fail_on_the_third(source, fmt, path, timeout):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C while the third frame is drawn
        path.write_text("<svg/>")

    monkeypatch.setattr(frames, "_write_graph", fail_on_the_third)
    x = Value(2.0, label="x")
    with pytest.raises(KeyboardInterrupt):
        render_backward_steps((x * x).tanh(), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no staging left
    assert index.exists()
