"""Readers of a node whose op was written by hand (micrograd's ``_backward`` closure):
drawings show the op's name, and local derivatives are said to be hand-written."""

import math

from graphs import needs_graphviz

from autodiff import Value, draw_dot, render_backward_steps


def softplus_graph():
    x = Value(0.5, label="x")
    y = Value(math.log1p(math.exp(0.5)), (x,), "softplus")

    def _backward():
        x.grad += (1.0 / (1.0 + math.exp(-x.data))) * y.grad

    y._backward = _backward
    z = y * 2.0
    z.label = "z"
    z.backward()
    return x, y, z


def test_the_drawing_names_the_op_and_says_its_local_derivative_is_hand_written():
    _, _, z = softplus_graph()
    source = draw_dot(z, show_local=True).source
    assert "label=<softplus>" in source
    slope = 1.0 / (1.0 + math.exp(-0.5))  # d softplus / dx = sigmoid(x)
    assert f"label=<hand-written {slope:.4f}>" in source
    assert source.count("hand-written") == 1  # the '*' edge reads "local" as before


@needs_graphviz
def test_frames_captions_say_the_op_was_written_by_hand(tmp_path):
    _, _, z = softplus_graph()
    page = render_backward_steps(z, tmp_path).read_text("utf-8")
    assert "'softplus' was written by hand" in page
