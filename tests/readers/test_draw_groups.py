"""draw_dot(groups=...): named sets of Values drawn inside labelled clusters."""

import re

import pytest
from graphs import micrograd_neuron

from autodiff import Value, draw_dot, topological_order
from autodiff.frontend.cli import main
from nn import article


def clusters(source):
    """{cluster label: [node ids declared inside it]} of a DOT source."""
    found = {}
    for body in re.findall(r"subgraph cluster_\d+ \{\n(.*?)\n\t\}", source, re.DOTALL):
        label = re.search(r"label=<<B>(.*?)</B>>", body).group(1)
        found[label] = re.findall(r"^\t\t(v\d+(?:op)?) \[", body, re.MULTILINE)
    return found


def top_level_nodes(source):
    return re.findall(r"^\t(v\d+(?:op)?) \[", source, re.MULTILINE)


def neuron_parts():
    o = micrograd_neuron()
    order = topological_order(o)
    ids = {v: f"v{i}" for i, v in enumerate(order)}
    by_label = {v.label: v for v in order if v.label}
    return o, ids, by_label


def test_each_group_is_a_labelled_cluster_holding_its_values_and_their_ops():
    o, ids, v = neuron_parts()
    source = draw_dot(o, groups={"weights": [v["w1"], v["w2"]], "output": [v["n"], v["o"]]}).source
    found = {label: sorted(names) for label, names in clusters(source).items()}
    assert found == {
        "weights": sorted([ids[v["w1"]], ids[v["w2"]]]),  # leaves: no op node
        "output": sorted([ids[v["n"]], ids[v["n"]] + "op", ids[v["o"]], ids[v["o"]] + "op"]),
    }
    # everything else is drawn once, outside the clusters; edges stay at the top level
    grouped = {ids[v[name]] for name in ("w1", "w2", "n", "o")}
    assert not grouped & set(top_level_nodes(source))
    assert len(top_level_nodes(source)) + 6 == 10 + 5  # 10 Values and 5 ops in all
    assert not re.search(r"^\t\t\S+ -> ", source, re.MULTILINE)


def test_grouped_boxes_stack_label_data_and_grad():
    o, ids, v = neuron_parts()
    source = draw_dot(o, groups={"out": [v["o"]]}).source
    box = re.search(rf"\t\t{ids[v['o']]} \[label=<(.*?)> ", source).group(1)
    assert box.count("<TR>") == 3  # label / data / grad, one per row
    assert re.findall(r"<TD>(.*?)</TD>", box) == ["<B>o</B>", "data 0.7071", "grad 0.0000"]


def test_without_groups_the_drawing_is_unchanged():
    o = micrograd_neuron()
    source = draw_dot(o).source
    assert draw_dot(o, groups={}).source == source
    assert "subgraph" not in source
    assert all(line.count("<TR>") <= 1 for line in source.splitlines())


def test_a_value_in_two_groups_is_refused():
    o, _, v = neuron_parts()
    with pytest.raises(ValueError, match="the Value 'w1' is in two groups, 'a' and 'b'"):
        draw_dot(o, groups={"a": [v["w1"]], "b": [v["w2"], v["w1"]]})


def test_a_value_outside_the_graph_is_refused():
    o = micrograd_neuron()
    with pytest.raises(ValueError, match="group 'extra' lists a Value with data 5.0, which is not"):
        draw_dot(o, groups={"extra": [Value(5.0)]})


def test_group_members_must_be_values():
    o = micrograd_neuron()
    with pytest.raises(TypeError, match="group 'g' lists 3.0; expected Values"):
        draw_dot(o, groups={"g": [3.0]})


def test_article_groups_follow_the_articles_figure():
    net = article.forward(*article.build_network())
    groups = article.graph_groups(net)
    assert list(groups) == ["inputs", "h1", "h2", "o1", "o2", "cost"]
    every = topological_order(net.cost)
    members = [v for group in groups.values() for v in group]
    assert len(members) == len(every) == 41 and set(members) == set(every)  # a partition
    labels = {name: {v.label for v in group if v.label} for name, group in groups.items()}
    # the article's figure: w1, w3 and b1 feed h1; w5, w7 and b3 feed o1 (see PARAMETERS)
    assert labels == {
        "inputs": {"x1", "x2"},
        "h1": {"w1", "w3", "b1", "i_h1", "h1"},
        "h2": {"w2", "w4", "b2", "i_h2", "h2"},
        "o1": {"w5", "w7", "b3", "i_o1", "o1"},
        "o2": {"w6", "w8", "b4", "i_o2", "o2"},
        "cost": {"C"},
    }
    # the cost holds the targets 1 and 0.2, the two differences, two squares and C
    assert sorted(v.data for v in groups["cost"] if v._op == "") == [0.2, 1.0]
    assert sorted(v._op for v in groups["cost"] if v._op) == ["**2", "**2", "+", "-", "-"]


def test_walkthrough_render_draws_the_neurons_as_clusters(capsys, tmp_path):
    path = tmp_path / "walk.dot"
    assert main(["walkthrough", "--render", str(path)]) == 0
    capsys.readouterr()
    assert list(clusters(path.read_text())) == ["inputs", "h1", "h2", "o1", "o2", "cost"]


def test_walkthrough_frames_draw_the_neurons_as_clusters(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_GRAPHVIZ", "none")  # no renderer: the sources are kept
    assert main(["walkthrough", "--frames", str(tmp_path / "frames")]) != 0
    capsys.readouterr()
    source = (tmp_path / "frames" / "graph.dot").read_text()
    assert list(clusters(source)) == ["inputs", "h1", "h2", "o1", "o2", "cost"]
