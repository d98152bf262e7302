"""The micrograd lecture's network: tanh everywhere, weights and biases U(-1, 1).

The reference below is the lecture's Neuron/Layer/MLP written out with plain floats
(its draw order: each neuron's weights, then its bias), so the expected numbers come
from Python's ``random`` and ``math``, not from the code under test.
"""

import math
import random
import re
from pathlib import Path

import pytest

from nn import MLP, Neuron

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def lecture_network():
    return MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", bias="uniform")


def _reference_parameters(sizes, source):
    """The lecture's draws: per layer, per neuron, nin weights then one bias."""
    layers = []
    for nin, nout in zip(sizes, sizes[1:], strict=False):
        layer = []
        for _ in range(nout):
            w = [source.uniform(-1, 1) for _ in range(nin)]
            b = source.uniform(-1, 1)
            layer.append((w, b))
        layers.append(layer)
    return layers


def _reference_forward(layers, x):
    for layer in layers:
        x = [math.tanh(b + sum(wi * xi for wi, xi in zip(w, x, strict=True))) for w, b in layer]
    return x[0]


def test_lecture_network_draws_weights_then_bias_like_the_lecture():
    random.seed(1337)
    model = lecture_network()
    random.seed(1337)
    expected = _reference_parameters([3, 4, 4, 1], random)
    flat = [v for layer in expected for w, b in layer for v in (*w, b)]
    assert [p.data for p in model.parameters()] == flat
    assert repr(model) == "MLP(3 -> 4 tanh -> 4 tanh -> 1 tanh)"


def test_lecture_network_is_tanh_of_bias_plus_weighted_sum_in_every_layer():
    model = lecture_network()
    layers = [[([w.data for w in n.w], n.b.data) for n in layer.neurons] for layer in model.layers]
    for x in XS:
        assert model(x).data == pytest.approx(_reference_forward(layers, x), rel=1e-14, abs=1e-15)


def _lecture_loop(seed, lr, steps=20):
    random.seed(seed)
    n = lecture_network()
    for _ in range(steps):
        ypred = [n(x) for x in XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred, strict=True))
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()
        for p in n.parameters():
            p.data += -lr * p.grad
    return sum((n(x).data - y) ** 2 for x, y in zip(XS, YS, strict=True))


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 42])
@pytest.mark.parametrize("lr", [0.05, 0.1])
def test_lecture_training_loop_gets_below_a_tenth_in_twenty_steps(seed, lr):
    # the package default (ReLU hidden, linear output, zero bias) sits at 4.0 for seeds 0, 4, 5...
    assert _lecture_loop(seed, lr) < 0.1


def test_package_default_mlp_can_get_stuck_where_the_lecture_network_does_not():
    # seed 0, lr 0.1: every ReLU dies, the output is constant 0, the loss stays sum(y^2) = 4
    random.seed(0)
    n = MLP(3, [4, 4, 1])
    for _ in range(20):
        loss = sum((n(x) - y) ** 2 for x, y in zip(XS, YS, strict=True))
        n.zero_grad()
        loss.backward()
        for p in n.parameters():
            p.data += -0.1 * p.grad
    assert sum((n(x).data - y) ** 2 for x, y in zip(XS, YS, strict=True)) == 4.0
    assert _lecture_loop(0, 0.1) < 0.1


def test_uniform_bias_is_in_minus_one_one_and_zero_bias_draws_nothing():
    neuron = Neuron(2, bias="uniform", rng=random.Random(7))
    again = random.Random(7)
    assert [w.data for w in neuron.w] == [again.uniform(-1, 1), again.uniform(-1, 1)]
    assert neuron.b.data == again.uniform(-1, 1)
    zero = MLP(2, [3, 1], rng=random.Random(7))
    again = random.Random(7)
    assert [w.data for n in zero.layers[0].neurons for w in n.w] == [
        again.uniform(-1, 1) for _ in range(6)
    ]
    assert all(n.b.data == 0.0 for layer in zero.layers for n in layer.neurons)


@pytest.mark.parametrize("bias", ["normal", 0.5, None])
def test_unknown_bias_init_is_a_clear_error_that_draws_nothing(bias):
    random.seed(3)
    expected = random.random()
    random.seed(3)
    with pytest.raises(ValueError, match="unknown bias init .*expected one of 'zero', 'uniform'"):
        MLP(2, [4, 1], bias=bias)
    assert random.random() == expected


def _readme_section(title):
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def test_readme_lecture_section_code_gives_the_output_it_prints(capsys):
    section = _readme_section("Following the micrograd lecture")
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    network = next(code for lang, code in blocks if lang == "python" and "n = MLP(3" in code)
    loop = next(code for lang, code in blocks if lang == "python" and "for k in range(20)" in code)
    printed = next(code for lang, code in blocks if lang == "" and code.startswith("0 "))
    assert "after `random.seed(0)`" in section
    random.seed(0)
    namespace = {"MLP": MLP}
    exec(network, namespace)
    exec(loop, namespace)
    lines = capsys.readouterr().out.splitlines()
    shown = [line for line in printed.splitlines() if line != "..."]
    assert len(lines) == 20 and set(shown) <= set(lines)
    assert shown[-1] == lines[-1]
