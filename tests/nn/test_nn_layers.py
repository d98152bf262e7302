"""Neuron, Layer, MLP: arithmetic, activations, initialisation and shape errors."""

import math
import random

import pytest

from autodiff import Value, gradients
from nn import MLP, Layer, Neuron


def test_neuron_is_activation_of_bias_plus_weighted_sum():
    n = Neuron._from_weights([0.5, -2.0], 0.25, "tanh")
    out = n([1.0, 0.75])
    assert out.data == pytest.approx(math.tanh(0.25 + 0.5 - 1.5), abs=1e-15)


@pytest.mark.parametrize(
    "activation, f",
    [
        ("relu", lambda z: max(0.0, z)),
        ("sigmoid", lambda z: 1.0 / (1.0 + math.exp(-z))),
        ("tanh", math.tanh),
        ("linear", lambda z: z),
        (lambda v: v * v, lambda z: z * z),
    ],
)
def test_named_and_callable_activations(activation, f):
    model = MLP.from_weights([[[1.0, -1.0]], [[2.0]]], [[0.5], [-0.25]], activation=activation)
    z1 = 0.5 + 0.3 - -0.4
    expected = f(-0.25 + 2.0 * f(z1))
    assert model([0.3, -0.4]).data == pytest.approx(expected, abs=1e-14)


def test_mlp_defaults_are_relu_hidden_and_linear_output():
    model = MLP(2, [3, 3, 1], rng=random.Random(0))
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]
    assert repr(model) == "MLP(2 -> 3 relu -> 3 relu -> 1 linear)"


def test_per_hidden_layer_activations_and_output_activation():
    model = MLP(2, [3, 3, 2], activation=["tanh", "relu"], output_activation="sigmoid")
    assert [layer.activation for layer in model.layers] == ["tanh", "relu", "sigmoid"]
    out = model([0.1, 0.2])
    assert isinstance(out, list) and len(out) == 2
    assert all(0.0 < v.data < 1.0 for v in out)


def test_one_neuron_layer_returns_a_value_and_feeds_the_next_layer():
    model = MLP(2, [1, 2], rng=random.Random(3))
    assert isinstance(model.layers[0]([1.0, 2.0]), Value)
    assert len(model([1.0, 2.0])) == 2


def test_rng_makes_initialisation_reproducible_and_leaves_global_random_alone():
    random.seed(11)
    expected_next = random.random()
    random.seed(11)
    a = MLP(2, [4, 1], rng=random.Random(42))
    b = MLP(2, [4, 1], rng=random.Random(42))
    assert a.state_dict() == b.state_dict()
    assert random.random() == expected_next


def test_uniform_init_is_in_minus_one_one_and_biases_are_zero():
    model = MLP(3, [50], rng=random.Random(0))
    weights = [w.data for n in model.layers[0].neurons for w in n.w]
    assert all(-1.0 <= w <= 1.0 for w in weights)
    assert all(n.b.data == 0.0 for n in model.layers[0].neurons)


def test_xavier_init_is_uniform_within_glorot_limit():
    layer = Layer(8, 4, init="xavier", rng=random.Random(0))
    limit = math.sqrt(6.0 / (8 + 4))
    weights = [w.data for n in layer.neurons for w in n.w]
    assert all(-limit <= w <= limit for w in weights)
    assert max(abs(w) for w in weights) > 0.5 * limit


def test_he_init_draws_gaussians_with_variance_two_over_fan_in():
    rng, again = random.Random(5), random.Random(5)
    neuron = Neuron(50, init="he", rng=rng)
    sd = math.sqrt(2.0 / 50)
    assert [w.data for w in neuron.w] == [again.gauss(0.0, sd) for _ in range(50)]


def test_gradients_flow_to_every_parameter():
    model = MLP(2, [3, 1], activation="tanh", rng=random.Random(1))
    out = model([0.5, -0.5])
    grads = gradients(out, model.parameters())
    assert all(g != 0.0 for g in grads)


def test_article_network_from_weights_has_the_given_parameters():
    weights = [[[0.3, -0.4], [0.2, 0.6]], [[0.7, 0.5], [-0.3, -0.1]]]
    biases = [[0.25, 0.45], [0.15, 0.35]]
    model = MLP.from_weights(weights, biases, activation="sigmoid")
    assert [p.data for p in model.parameters()] == [
        0.3,
        -0.4,
        0.25,
        0.2,
        0.6,
        0.45,
        0.7,
        0.5,
        0.15,
        -0.3,
        -0.1,
        0.35,
    ]
    assert model.output_activation == "sigmoid"
    assert MLP.from_weights(weights, biases, "sigmoid", "linear").output_activation == "linear"


@pytest.mark.parametrize(
    "weights, biases, message",
    [
        ([], [], "non-empty list of layers"),
        ([[[1.0, 2.0], [1.0]]], [[0.0, 0.0]], r"weights\[0\]\[1\] has 1 weights, expected 2"),
        (
            [[[1.0, 2.0]], [[1.0, 2.0]]],
            [[0.0], [0.0]],
            r"weights\[1\]\[0\] has 2 weights, expected 1 \(layer 0 has 1 neurons\)",
        ),
        ([[[1.0]]], [[0.0, 0.0]], r"biases\[0\] expected 1 biases"),
        ([[[1.0]]], [], "biases expected a list of 1 layers"),
        ([[[1.0, "x"]]], [[0.0]], r"weights\[0\]\[0\]\[1\] expected a number"),
        ([[[1.0]]], [[None]], r"biases\[0\]\[0\] expected a number"),
        ([[[]]], [[0.0]], r"weights\[0\]\[0\] expected a non-empty list"),
    ],
)
def test_from_weights_rejects_ragged_or_mismatched_shapes(weights, biases, message):
    with pytest.raises(ValueError, match=message):
        MLP.from_weights(weights, biases)


def test_wrong_number_of_inputs_is_a_clear_error():
    model = MLP(2, [3, 1], rng=random.Random(0))
    with pytest.raises(ValueError, match="expected 2 input\\(s\\), got 3"):
        model([1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MLP(0, [1]), "MLP nin expected a positive int, got 0"),
        (lambda: MLP(2, []), "non-empty list of layer widths"),
        (lambda: MLP(2, [3, 0]), r"MLP nouts\[1\] expected a positive int"),
        (lambda: MLP(2, [1], activation="swish"), "unknown activation 'swish'"),
        (lambda: MLP(2, [3, 1], activation=["relu", "relu"]), "one per hidden layer \\(1\\)"),
        (lambda: MLP(2, [1], init="lecun"), "unknown init 'lecun'"),
        (lambda: MLP(2, [1], rng=42), "rng expected a random.Random"),
    ],
)
def test_bad_constructor_arguments_are_clear_errors(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()


def test_a_bad_activation_consumes_no_random_numbers():
    random.seed(3)
    expected = random.random()
    random.seed(3)
    with pytest.raises(ValueError):
        MLP(2, [4, 1], activation="swish")
    assert random.random() == expected
