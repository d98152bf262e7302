"""The source article's worked example, through the library, top to bottom.

A 2-2-2 sigmoid network, input [2, 3], expected output [1, 0.2]. We run one step of
gradient descent and let the engine show every chain-rule factor the article
computes by hand, then compare with what the article published.

Run:  python examples/article_walkthrough.py
"""

from autodiff import Value, explain, gradcheck
from nn import MLP, SGD
from nn.article import article_sigmoid
from nn.losses import quadratic

# 1. The network, parameters as in the article (weights[layer][neuron] = input weights).
model = MLP.from_weights(
    [[[0.3, -0.4], [0.2, 0.6]], [[0.7, 0.5], [-0.3, -0.1]]],
    [[0.25, 0.45], [0.15, 0.35]],
    activation="sigmoid",
)
w5 = model.layers[1].neurons[0].w[0]  # h1 -> o1
w1 = model.layers[0].neurons[0].w[0]  # x1 -> h1
w5.label, w1.label = "w5", "w1"

# 2. Forward pass and the quadratic cost C = sum (y - expected)^2.
x = [Value(2.0, label="x1"), Value(3.0, label="x2")]
hidden = model.layers[0](x)
output = model.layers[1](hidden)
for k, (h, o) in enumerate(zip(hidden, output, strict=True)):
    h.label, o.label = f"h{k + 1}", f"o{k + 1}"
    h._prev[0].label, o._prev[0].label = f"i_h{k + 1}", f"i_o{k + 1}"
cost = quadratic(output, [1.0, 0.2])
cost.label = "C"
print("output", [o.data for o in output], "cost", cost.data)

# 3. Backward: one sweep fills every .grad.
cost.backward()

# 4. The chain rule, path by path, read from the graph.
print(explain(cost, w5))  # one path: di/dw5 · do/di · dC/do
print(explain(cost, w1))  # two paths, through o1 and o2: the sum the article writes

# 5. One step of gradient descent, p <- p - 0.1 dC/dp, and the sanity check.
SGD(model.parameters(), lr=0.1).step()
after = quadratic(model([2.0, 3.0]), [1.0, 0.2])
print("cost after one step", after.data, "(lower)" if after.data < cost.data else "")

# 6. The article's slip: the sigmoid's derivative taken at the output, sigma(o)(1 - sigma(o)).
#    As a custom op it reproduces the published numbers -- and gradient checking catches it.
print("gradcheck(sigmoid)         ->", gradcheck(lambda v: v.sigmoid(), [0.9]))
print("gradcheck(article sigmoid) ->",
      gradcheck(lambda v: article_sigmoid(v), [0.9], raise_exception=False))  # fmt: skip
