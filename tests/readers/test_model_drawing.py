"""Network drawings: nn parameters named by their place, neurons boxed from the model."""

import random
import re

import pytest
from graphs import needs_graphviz

from autodiff import draw_dot, explain, render_backward_steps, topological_order
from nn import MLP, Neuron


@pytest.fixture
def lecture():
    """The lecture's MLP(3, [4, 4, 1]) on one example, its loss backpropagated."""
    random.seed(0)
    model = MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", bias="uniform")
    out = model([2.0, 3.0, -1.0])
    loss = (out - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return model, loss


def clusters(source):
    """{cluster title: the DOT text of its body} (outer boxes include their inner ones)."""
    found = {}
    for m in re.finditer(r"subgraph (cluster_\w+) \{", source):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(source[i], 0)
            i += 1
        body = source[m.end() : i - 1]
        title = re.search(r"label=<<B>([^<]*)</B>>", body).group(1)
        found[title] = body
    return found


def test_parameters_are_labelled_with_their_saved_file_keys(lecture):
    model, _ = lecture
    assert [p.label for p in model.parameters()] == list(model.state_dict())
    assert model.layers[1].neurons[3].w[2].label == "layers.1.neurons.3.w.2"
    assert model.layers[1].neurons[3].b.label == "layers.1.neurons.3.b"
    alone = Neuron(2)
    assert [p.label for p in alone.parameters()] == ["w.0", "w.1", "b"]


def test_a_models_loss_is_drawn_with_a_box_per_neuron_inside_a_box_per_layer(lecture):
    model, loss = lecture
    source = draw_dot(loss, groups=model).source
    boxes = clusters(source)
    neurons = [f"layers.{i}.neurons.{j}" for i, n in enumerate([4, 4, 1]) for j in range(n)]
    assert sorted(boxes) == sorted(["layers.0", "layers.1", "layers.2", *neurons])
    ids = {v: f"v{i}" for i, v in enumerate(topological_order(loss))}
    for i, layer in enumerate(model.layers):
        for j, neuron in enumerate(layer.neurons):
            body = boxes[f"layers.{i}.neurons.{j}"]
            assert f"layers.{i}.neurons.{j}" in boxes[f"layers.{i}"]
            for p in neuron.parameters():
                assert re.search(rf"\b{ids[p]} \[label=", body), p.label
            # inside its box a weight reads w.2: the box's title says whose
            assert "<B>w.0</B>" in body and "<B>b</B>" in body
            assert body.count("label=<tanh>") == 1  # its activation, and only its own
    # the loss's ops stay outside every box
    assert ids[loss] + " [label=" not in "".join(boxes.values())


def test_explain_names_the_weight(lecture):
    model, loss = lecture
    w = model.layers[0].neurons[1].w[2]
    text = str(explain(loss, w))
    assert text.startswith("dloss/dlayers.0.neurons.1.w.2 = ")


@needs_graphviz
def test_frames_of_the_lecture_network_stay_small_and_name_the_weights(lecture, tmp_path):
    model, loss = lecture
    index = render_backward_steps(loss, tmp_path, groups=model)
    page = index.read_text("utf-8")
    assert len(page.encode()) < 1_000_000
    assert "'layers.2.neurons.0.b'" in page  # a caption names the parameter it visits
    assert page.count("<svg") == 1
