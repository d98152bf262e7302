"""The article's network (shared/article/worked-example.md) built with nn.MLP.from_weights.

Expected numbers come from the worked example (forward pass and cost, checked against
the article) and from a plain-float chain-rule computation written here, never from nn.
"""

import math

import pytest

from nn import MLP, SGD, losses

X = [2.0, 3.0]
TARGET = [1.0, 0.2]
W_HIDDEN = [[0.3, -0.4], [0.2, 0.6]]  # h1 = [w1, w3], h2 = [w2, w4]
B_HIDDEN = [0.25, 0.45]
W_OUT = [[0.7, 0.5], [-0.3, -0.1]]  # o1 = [w5, w7], o2 = [w6, w8]
B_OUT = [0.15, 0.35]
ETA = 0.1


def article_network():
    return MLP.from_weights([W_HIDDEN, W_OUT], [B_HIDDEN, B_OUT], activation="sigmoid")


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def _hand_step():
    """One step of p <- p - eta dC/dp by the chain rule on floats, C = sum (o - t)^2."""
    h = [
        _sigmoid(b + sum(w * x for w, x in zip(ws, X, strict=True)))
        for ws, b in zip(W_HIDDEN, B_HIDDEN, strict=True)
    ]
    o = [
        _sigmoid(b + sum(w * x for w, x in zip(ws, h, strict=True)))
        for ws, b in zip(W_OUT, B_OUT, strict=True)
    ]
    # dC/di for each output neuron: dC/do * do/di, with do/di = o (1 - o)
    delta_out = [2.0 * (ok - tk) * ok * (1.0 - ok) for ok, tk in zip(o, TARGET, strict=True)]
    # dC/di for each hidden neuron: (sum_k w_kj delta_k) * h_j (1 - h_j)
    delta_hidden = [
        sum(W_OUT[k][j] * delta_out[k] for k in range(2)) * h[j] * (1.0 - h[j]) for j in range(2)
    ]
    grads = {
        "hidden_w": [[delta_hidden[j] * X[i] for i in range(2)] for j in range(2)],
        "hidden_b": delta_hidden,
        "out_w": [[delta_out[k] * h[j] for j in range(2)] for k in range(2)],
        "out_b": delta_out,
    }
    new_params = []  # in named_parameters order: layer, neuron, weights then bias
    for ws, bs, gw, gb in (
        (W_HIDDEN, B_HIDDEN, grads["hidden_w"], grads["hidden_b"]),
        (W_OUT, B_OUT, grads["out_w"], grads["out_b"]),
    ):
        for j in range(2):
            new_params += [ws[j][i] - ETA * gw[j][i] for i in range(2)]
            new_params.append(bs[j] - ETA * gb[j])
    return grads, new_params


def test_article_forward_pass_matches_published_outputs():
    net = article_network()
    hidden = net.layers[0](X)
    y = net(X)
    assert hidden[0].data == pytest.approx(0.41338242108267, abs=1e-12)
    assert [v.data for v in y] == pytest.approx([0.712257432295742, 0.533097573871501], abs=1e-12)


def test_article_cost_is_quadratic_without_half():
    cost = losses.quadratic(article_network()(X), TARGET)
    assert cost.data == pytest.approx(0.19374977898811957, abs=1e-12)


def test_article_gradients_are_the_chain_rule_not_the_published_ones():
    net = article_network()
    losses.quadratic(net(X), TARGET).backward()
    w1 = net.layers[0].neurons[0].w[0]
    w5 = net.layers[1].neurons[0].w[0]
    # the correct values named in the worked example
    assert w5.grad == pytest.approx(-0.048755904691400044, abs=1e-12)
    assert w1.grad == pytest.approx(-0.0641679049644533, abs=1e-12)
    # the article's published dC/dw5 evaluates sigma' at the output: not ours
    assert abs(w5.grad - (-0.052525710835624)) > 1e-3


def test_one_sgd_step_matches_hand_chain_rule():
    net = article_network()
    optimizer = SGD(net.parameters(), lr=ETA)
    optimizer.zero_grad()
    losses.quadratic(net(X), TARGET).backward()
    grads, expected = _hand_step()
    assert [p.grad for p in net.parameters()][:3] == pytest.approx(
        grads["hidden_w"][0] + [grads["hidden_b"][0]], abs=1e-15
    )
    optimizer.step()
    assert [p.data for p in net.parameters()] == pytest.approx(expected, abs=1e-12)
    assert net.layers[1].neurons[0].w[0].data != pytest.approx(0.70525257108356, abs=1e-6)


def test_one_sgd_step_lowers_the_cost():
    net = article_network()
    before = losses.quadratic(net(X), TARGET)
    optimizer = SGD(net.parameters(), lr=ETA)
    before.backward()
    optimizer.step()
    after = losses.quadratic(net(X), TARGET)
    assert after.data < before.data
