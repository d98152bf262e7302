"""nn's defaults against micrograd 0.1.0 itself: same seed, same numbers."""

import random

import pytest

micrograd_nn = pytest.importorskip("micrograd.nn")
from micrograd.engine import Value as MValue  # noqa: E402

from autodiff import Value  # noqa: E402
from nn import MLP, Layer, Neuron  # noqa: E402

POINTS = [[0.5, -1.25], [-0.75, 0.3], [1.5, 0.9], [0.0, -0.2]]
LABELS = [1.0, -1.0, 1.0, -1.0]


@pytest.mark.parametrize("seed", [0, 1337, 2024])
def test_mlp_initialisation_is_micrographs_for_the_same_seed(seed):
    random.seed(seed)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    after_theirs = random.random()
    random.seed(seed)
    ours = MLP(2, [16, 16, 1])
    after_ours = random.random()
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    assert after_ours == after_theirs  # same number of draws


def test_neuron_and_layer_draw_like_micrograd():
    random.seed(7)
    theirs = [micrograd_nn.Neuron(3), micrograd_nn.Layer(3, 2)]
    random.seed(7)
    ours = [Neuron(3), Layer(3, 2)]
    for a, b in zip(ours, theirs, strict=True):
        assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


def test_default_mlp_outputs_and_gradients_are_micrographs():
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    ours = MLP(2, [16, 16, 1])

    # micrograd's demo loss on a few points, written identically for both engines
    def demo_loss(model, value):
        scores = [model([value(a), value(b)]) for a, b in POINTS]
        margins = [(1 + -t * s).relu() for t, s in zip(LABELS, scores, strict=True)]
        data_loss = sum(margins) * (1.0 / len(margins))
        return data_loss + 1e-4 * sum(p * p for p in model.parameters()), scores

    their_loss, their_scores = demo_loss(theirs, MValue)
    our_loss, our_scores = demo_loss(ours, Value)
    assert isinstance(our_scores[0], Value)  # a one-neuron layer returns a single Value
    assert [s.data for s in our_scores] == [s.data for s in their_scores]
    assert our_loss.data == their_loss.data
    theirs.zero_grad()
    their_loss.backward()
    ours.zero_grad()
    our_loss.backward()
    their_grads = [p.grad for p in theirs.parameters()]
    # backward may sum a parameter's contributions in another order: last-bit differences
    assert [p.grad for p in ours.parameters()] == pytest.approx(their_grads, rel=1e-12, abs=1e-15)
    assert any(g != 0.0 for g in their_grads)
