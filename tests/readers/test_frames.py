"""render_backward_steps: one drawing, each step of the backward pass as data, on one page.

The page's own script is run in headless Chromium where it is installed (the steps'
highlights and hidden gradients are its work); the data it reads is checked without it.
"""

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest
from graphs import micrograd_neuron, needs_graphviz

from autodiff import Value, render_backward_steps, topological_order
from autodiff.readers import GraphTooLarge, GraphvizNotFound, GraphvizTimeout

SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium to run the page's script")


def steps_of(page):
    """The steps the page holds as data: [{node, focus, head, caption}]."""
    text = re.search(r'<script type="application/json" id="steps">(.*?)</script>', page, re.S)
    return json.loads(text.group(1))["steps"]


def drawing_of(page):
    """The page's one inline SVG, parsed."""
    svg = re.search(r"<svg\b.*?</svg>", page, re.S).group(0)
    return ET.fromstring(svg)


def nodes(svg):
    """{node name: <g> element} of a Graphviz SVG."""
    return {g.find(f"{SVG}title").text: g for g in svg.iter(f"{SVG}g") if g.get("class") == "node"}


def dom_after_script(index, fragment):
    """The page's DOM once its script has run at ``index.html#fragment`` (Chromium)."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--dump-dom", f"{index.as_uri()}#{fragment}"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    return result.stdout


def shown_at(index, k):
    """(readable gradient texts, highlighted node names) after the script shows step k."""
    dom = dom_after_script(index, f"step={k}")
    grads = re.findall(r"<text(?![^>]*unreached)[^>]*>(grad [^<]*)</text>", dom)
    lit = re.findall(r'<g id="[^"]*" class="node visited">\s*<title>([^<]*)</title>', dom)
    return grads, sorted(lit)


@pytest.fixture(scope="module")
def neuron_frames(tmp_path_factory):
    out = tmp_path_factory.mktemp("frames")
    root = micrograd_neuron()
    index = render_backward_steps(root, out)
    return root, out, index


@needs_graphviz
def test_one_page_holds_one_drawing_and_every_step_as_data(neuron_frames):
    _, out, index = neuron_frames
    assert index == out / "index.html"
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    page = index.read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and "<img" not in page
    assert len(steps_of(page)) == 11  # the forward pass + 10 Values


@needs_graphviz
def test_steps_visit_values_in_reverse_topological_order(neuron_frames):
    root, _, index = neuron_frames
    steps = steps_of(index.read_text(encoding="utf-8"))
    n = len(topological_order(root))
    # node ids follow topological order (v0 first), so backward visits v9, v8, ..., v0
    assert [s["node"] for s in steps] == ["", *(f"v{n - k}" for k in range(1, n + 1))]


@needs_graphviz
@needs_chromium
def test_step_k_shows_exactly_k_gradients_and_highlights_the_kth_value(neuron_frames):
    root, _, index = neuron_frames
    n = len(topological_order(root))
    for k in (0, 1, 5, 10):
        grads, lit = shown_at(index, k)
        assert len(grads) == k
        assert lit == ([] if k == 0 else sorted({f"v{n - k}", f"v{n - k}op"} & {*nodes_of(index)}))
    # the last step shows the lecture's gradients: do/dn = 1 - tanh(n)^2 = 0.5, do/dx1 = -1.5
    grads, _ = shown_at(index, 10)
    assert "grad 1.0000" in grads and "grad 0.5000" in grads and "grad -1.5000" in grads


def nodes_of(index):
    return nodes(drawing_of(index.read_text(encoding="utf-8")))


@needs_graphviz
def test_the_drawing_has_every_gradient_for_the_script_to_hide(neuron_frames):
    _, _, index = neuron_frames
    texts = [t.text for g in nodes_of(index).values() for t in g.iter(f"{SVG}text")]
    assert sum(1 for t in texts if (t or "").startswith("grad ")) == 10


@needs_graphviz
def test_frames_do_not_touch_grad(tmp_path):
    root = micrograd_neuron()
    render_backward_steps(root, tmp_path)
    assert all(v.grad == 0.0 for v in topological_order(root))


@needs_graphviz
def test_index_steps_with_buttons_and_keys(neuron_frames):
    _, out, index = neuron_frames
    page = index.read_text(encoding="utf-8")
    for needle in ('id="prev"', 'id="next"', "ArrowLeft", "ArrowRight", "<style>", "<script>"):
        assert needle in page
    # self-contained: no external scripts, styles or images
    assert not re.search(r'(src|href)="(?!data:)', page)


def captions_of(page):
    """[(head, text)] of every step's caption."""
    return [(s["head"], s["caption"]) for s in steps_of(page)]


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
    assert re.search(r'<span id="counter"[^>]*>Step 0 of 10</span>', page)
    first = re.search(r'<p class="caption" id="caption"><b class="head">(.*?)</b>', page)
    assert html.unescape(first.group(1)) == "Step 0 of 10"
    # the counter shows the caption's head, never a numbering of its own
    assert "counter.textContent = step.head" in page
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
    svg = drawing_of(page)
    smallest_pt = min(float(t.get("font-size")) for t in svg.iter(f"{SVG}text"))
    assert smallest_pt == 9.0  # the edge labels' local derivatives
    # an SVG point is 4/3 CSS px; at the readable zoom the smallest text is the small text
    assert readable * smallest_pt * 4 / 3 == pytest.approx(small_px, rel=1e-3)
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


def bbox_in_viewbox(root, name):
    """The outline of node ``name`` of a Graphviz SVG, in viewBox units (the graph's
    translate applied): (x0, y0, x1, y1)."""
    graph = root.find(f"{SVG}g")
    dx, dy = map(
        float, re.search(r"translate\(([-\d.]+) ([-\d.]+)\)", graph.get("transform")).groups()
    )
    points = [
        tuple(map(float, pair.split(",")))
        for polygon in nodes(root)[name].iter(f"{SVG}polygon")
        for pair in polygon.get("points").split()
    ]
    xs = [x + dx for x, _ in points]
    ys = [y + dy for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


@needs_graphviz
def test_each_frame_names_where_its_highlighted_value_is_drawn(neuron_frames):
    root, out, index = neuron_frames
    page = index.read_text(encoding="utf-8")
    focus = [tuple(s["focus"]) for s in steps_of(page)]
    assert len(focus) == 11
    n = len(topological_order(root))
    svg = drawing_of(page)
    for k in range(11):
        # frame k > 0 highlights v(n-k); the forward pass's frame looks at the output
        name = f"v{n - max(k, 1)}"
        x0, y0, x1, y1 = bbox_in_viewbox(svg, name)
        fx0, fy0, fx1, fy1 = focus[k]
        assert fx0 - 0.1 <= x0 and x1 <= fx1 + 0.1 and fy0 - 0.1 <= y0 and y1 <= fy1 + 0.1
        # and no more than the box and its op: within a few boxes' size
        assert fx1 - fx0 < 4 * (x1 - x0) + 100


@needs_graphviz
def test_a_lone_leaf_gives_two_frames(tmp_path):
    index = render_backward_steps(Value(2.0, label="a"), tmp_path)
    assert [s["node"] for s in steps_of(index.read_text("utf-8"))] == ["", "v0"]


@needs_graphviz
def test_earlier_versions_frames_are_removed_and_other_files_kept(tmp_path):
    (tmp_path / "step_999.svg").write_text("old")
    (tmp_path / "step_001.dot").write_text("old")
    (tmp_path / "notes.svg").write_text("mine")
    render_backward_steps(Value(2.0) * 3.0, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "notes.svg"]
    assert (tmp_path / "notes.svg").read_text() == "mine"


def test_large_graphs_are_refused(tmp_path):
    y = Value(0.0)
    for _ in range(100):  # 201 Values
        y = y + 1.0
    with pytest.raises(GraphTooLarge, match="max_nodes="):
        render_backward_steps(y, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_graphviz_saves_the_frames_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "none")
    out = tmp_path / "frames"
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
        render_backward_steps(micrograd_neuron(), out)
    assert "v9 [label=" in (out / "graph.dot").read_text()
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
    index = render_backward_steps(root, tmp_path, groups={"neuron": [n, root]})
    svg = drawing_of(index.read_text("utf-8"))
    cluster = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "cluster"]
    assert len(cluster) == 1
    assert [t.text for t in cluster[0].iter(f"{SVG}text")] == ["neuron"]


@needs_graphviz
def test_a_run_that_fails_half_way_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    from autodiff.readers import frames

    out = tmp_path / "frames"
    index = render_backward_steps(micrograd_neuron(), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(source, timeout, what):
        raise KeyboardInterrupt  # Ctrl-C while the graph is drawn

    monkeypatch.setattr(frames, "draw_svg", interrupted)
    x = Value(2.0, label="x")
    with pytest.raises(KeyboardInterrupt):
        render_backward_steps((x * x).tanh(), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no staging left
    assert index.exists()


def test_a_file_where_the_folder_should_be_is_named_before_any_work(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    with pytest.raises(NotADirectoryError, match=f"cannot write {afile}: it is a file, not a"):
        render_backward_steps(micrograd_neuron(), afile)
    assert afile.read_text() == "mine"


def test_a_missing_parent_folder_is_an_error_naming_it(tmp_path):
    out = tmp_path / "missing" / "frames"
    with pytest.raises(FileNotFoundError, match=f"the folder {tmp_path / 'missing'} does not"):
        render_backward_steps(micrograd_neuron(), out)
    assert not (tmp_path / "missing").exists()


@needs_graphviz
def test_thirty_terms_without_a_limit_fit_in_3_mb_and_5_s(tmp_path):
    x, y = Value(0.3, label="x"), Value(-0.2, label="y")
    total = Value(0.0, label="c")
    for i in range(1, 31):
        total = total + (i * x + y).tanh() * x
    values = len(topological_order(total))
    assert values > 150
    start = time.perf_counter()
    index = render_backward_steps(total, tmp_path, max_nodes=None)
    seconds = time.perf_counter() - start
    size = os.path.getsize(index)
    assert size <= 3_000_000, size
    assert seconds <= 5.0, seconds
    assert len(steps_of(index.read_text("utf-8"))) == values + 1


@pytest.mark.parametrize("stop", [KeyboardInterrupt, GraphvizTimeout])
def test_an_interrupted_or_stopped_drawing_leaves_no_empty_folder(stop, tmp_path, monkeypatch):
    # Ctrl-C or a time limit while Graphviz draws: nothing is left, not even the folder
    from autodiff.readers import frames

    def drawing_stops(*args, **kwargs):
        raise stop("stopped")

    monkeypatch.setattr(frames, "find_program", lambda: "dot")
    monkeypatch.setattr(frames, "draw_svg", drawing_stops)
    x = Value(2.0, label="x")
    y = x * x
    y.backward()
    with pytest.raises(stop):
        render_backward_steps(y, tmp_path / "frames")
    assert os.listdir(tmp_path) == []
