"""The source article's worked example, computed: a 2-2-2 sigmoid network, one SGD step.

The article ("Part 2 – Gradient descent and backpropagation") backpropagates by hand
through this network (spec: shared/article/worked-example.md):

    x = [2, 3]  ->  h1, h2 (sigmoid)  ->  o1, o2 (sigmoid),   target [1, 0.2]
    C = (o1 - 1)^2 + (o2 - 0.2)^2,   p <- p - 0.1 * dC/dp  for all 12 parameters

Its forward pass and cost are right. Its gradients are not: it evaluates the
sigmoid's derivative at the neuron's output, sigma(o)(1 - sigma(o)), where the
chain rule needs sigma'(i) = sigma(i)(1 - sigma(i)) = o(1 - o). ``article_sigmoid``
is a custom op with that slip built in; with it, this module reproduces every
number the article published, and ``gradcheck`` catches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autodiff import Rule, Value, explain, gradcheck, topological_order
from autodiff import floats as _floats
from autodiff import rules as _rules
from autodiff.readers import Explanation, numeric_gradient
from nn.layers import MLP
from nn.losses import quadratic
from nn.optim import SGD

INPUT = [2.0, 3.0]
TARGET = [1.0, 0.2]
LEARNING_RATE = 0.1
WEIGHTS = [[[0.3, -0.4], [0.2, 0.6]], [[0.7, 0.5], [-0.3, -0.1]]]
BIASES = [[0.25, 0.45], [0.15, 0.35]]

# The article's names for the parameters: (layer, neuron, input) of a weight, (layer, neuron)
# of a bias. w_k connects one neuron of a layer to one of the next.
PARAMETERS: dict[str, tuple[int, ...]] = {
    "w1": (0, 0, 0), "w2": (0, 1, 0), "w3": (0, 0, 1), "w4": (0, 1, 1),
    "b1": (0, 0), "b2": (0, 1),
    "w5": (1, 0, 0), "w6": (1, 1, 0), "w7": (1, 0, 1), "w8": (1, 1, 1),
    "b3": (1, 0), "b4": (1, 1),
}  # fmt: skip
LAST_LAYER = ["w5", "w6", "w7", "w8", "b3", "b4"]
HIDDEN_LAYER = ["w1", "w2", "w3", "w4", "b1", "b2"]
# the reader's comment under the article flagged this (right) value; the "fix" replaced it
READER_DC_DW1 = -0.0641679049644533

# What the article printed (quoted from it; right where it is forward, wrong from the gradients on).
PUBLISHED = {
    "forward": {"hidden": [0.41338242108267], "output": [0.712257432295742, 0.533097573871501]},
    "cost": 0.19374977898811957,
    "gradients": {"w5": -0.052525710835624, "w1": -0.064945998937865},
    # the article's sigma'(O_L1) and sigma'(O_H1): sigma(o)(1 - sigma(o)), not o(1 - o)
    "sigmoid_derivatives": {"o1": 0.220793265944315, "h1": 0.23961666676227233},
    "updated": {
        "w1": 0.3064945998937866, "w2": 0.20320220163143507,
        "w3": -0.39025810015932016, "w4": 0.6048033024471525,
        "b1": 0.25324729994689327, "b2": 0.4516011008157175,
        "w5": 0.70525257108356, "w6": -0.3064179482696209,
        "w7": 0.5118678465030685, "w8": -0.11450094129460808,
        "b3": 0.1627063242549253, "b4": 0.33447454961240974,
    },
    "after": {"output": [0.719269360605435, 0.524309343003261], "cost": 0.1839862418540884},
}  # fmt: skip

CAUSE = (
    "the article evaluates the sigmoid's derivative at the neuron's output, "
    "sigma(o)(1 - sigma(o)), instead of at its input: sigma'(i) = o(1 - o)"
)


def _article_sigmoid_derivative(x, out):  # noqa: ANN001 - floats or Values
    s = _rules.sigmoid(out)  # the slip: sigma applied a second time, to the output
    return (s * (1.0 - s),)


article_sigmoid = Rule("sigmoid (article)", _floats.sigmoid, _article_sigmoid_derivative)
"""sigma(x) forward, d/dx taken as sigma(o)(1 - sigma(o)) with o = sigma(x): the article's rule."""

CONVENTIONS = {"correct": "sigmoid", "article": article_sigmoid}


@dataclass
class Network:
    """The article's network after one forward pass, every node named as in the article."""

    model: MLP
    params: dict[str, Value]
    inputs: list[Value]
    hidden_in: list[Value]
    hidden: list[Value]
    output_in: list[Value]
    output: list[Value]
    cost: Value


@dataclass
class Walkthrough:
    """Every number of the worked example, for one convention of the sigmoid's derivative."""

    convention: str
    lr: float
    initial: dict[str, float]
    network: Network
    cost_terms: list[float]
    gradients: dict[str, float]
    explanations: dict[str, Explanation]
    updated: dict[str, float]
    after_output: list[float]
    after_cost: float
    costs: list[float] = field(default_factory=list)  # cost after each step (--steps)
    gradcheck_report: str = ""


def build_network(convention: str = "correct") -> tuple[MLP, dict[str, Value]]:
    """The article's 2-2-2 network, its parameters labelled w1..w8, b1..b4."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {sorted(CONVENTIONS)}, got {convention!r}")
    model = MLP.from_weights(WEIGHTS, BIASES, activation=CONVENTIONS[convention])
    params = {}
    for name, where in PARAMETERS.items():
        neuron = model.layers[where[0]].neurons[where[1]]
        params[name] = neuron.w[where[2]] if len(where) == 3 else neuron.b
        params[name].label = name
    return model, params


def forward(model: MLP, params: dict[str, Value]) -> Network:
    """One forward pass on x = [2, 3] with the cost, nodes labelled x, i_h, h, i_o, o, C."""
    inputs = [Value(x, label=f"x{k + 1}") for k, x in enumerate(INPUT)]
    hidden = model.layers[0](inputs)
    output = model.layers[1](hidden)
    cost = quadratic(output, TARGET)
    cost.label = "C"
    for prefix, layer in (("h", hidden), ("o", output)):
        for k, node in enumerate(layer):
            node.label = f"{prefix}{k + 1}"
            node.inputs[0].label = f"i_{prefix}{k + 1}"  # the activation's input i
    return Network(
        model,
        params,
        inputs,
        [h.inputs[0] for h in hidden],
        hidden,
        [o.inputs[0] for o in output],
        output,
        cost,
    )


def walkthrough(
    convention: str = "correct", lr: float = LEARNING_RATE, steps: int = 1
) -> Walkthrough:
    """Forward, backward, explain every gradient, one SGD step, and the check after it.

    With ``steps > 1`` the step is repeated and ``costs`` holds the cost after each.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    model, params = build_network(convention)
    initial = {name: p.data for name, p in params.items()}
    net = forward(model, params)
    net.cost.backward()
    gradients = {name: p.grad for name, p in params.items()}
    explanations = {name: explain(net.cost, p) for name, p in params.items()}
    cost_terms = [(o.data - t) ** 2 for o, t in zip(net.output, TARGET, strict=True)]
    optimizer = SGD(list(params.values()), lr=lr)
    optimizer.step()
    updated = {name: p.data for name, p in params.items()}
    after = forward(model, params)
    costs = [after.cost.data]
    for _ in range(steps - 1):
        optimizer.zero_grad()
        step_net = forward(model, params)
        step_net.cost.backward()
        optimizer.step()
        costs.append(forward(model, params).cost.data)
    report = _gradcheck_report(net) if convention == "article" else ""
    return Walkthrough(
        convention,
        lr,
        initial,
        net,
        cost_terms,
        gradients,
        explanations,
        updated,
        [o.data for o in after.output],
        after.cost.data,
        costs,
        report,
    )


def _gradcheck_report(net: Network) -> str:
    """Run gradcheck on the article's sigmoid where the article used it (i_o1)."""
    i = net.output_in[0].data
    o = net.output[0].data
    passed = gradcheck(lambda v: article_sigmoid(v), [i], raise_exception=False)
    article = article_sigmoid.derivatives(i, o)[0]
    numeric = numeric_gradient(lambda v: v.sigmoid(), [i], 0)
    correct = _rules.SIGMOID.derivatives(i, o)[0]  # the rule table's o(1 - o)
    return (
        f"gradcheck(article_sigmoid, [{i:.6f}]) -> {passed}\n"
        f"  analytic (the article's rule): sigma(o)(1 - sigma(o)) = {article:.12f}\n"
        f"  numeric (central difference):  (sigma(i+e) - sigma(i-e)) / 2e = {numeric:.12f}\n"
        f"  the chain rule's sigma'(i) = o(1 - o) = {correct:.12f}"
    )


def to_json(w: Walkthrough) -> dict:
    """The walkthrough's numbers as a JSON-ready dict."""
    net = w.network
    return {
        "convention": w.convention,
        "lr": w.lr,
        "input": INPUT,
        "target": TARGET,
        "forward": {
            "hidden_inputs": [v.data for v in net.hidden_in],
            "hidden": [v.data for v in net.hidden],
            "output_inputs": [v.data for v in net.output_in],
            "output": [v.data for v in net.output],
        },
        "cost": net.cost.data,
        "cost_terms": w.cost_terms,
        "gradients": w.gradients,
        "updated": w.updated,
        "after": {"output": w.after_output, "cost": w.after_cost},
        "costs_per_step": w.costs,
        "published": PUBLISHED,
        "cause": CAUSE,
    }


def graph_nodes(w: Walkthrough) -> list[Value]:
    """Every node of the walkthrough's graph (after backward), inputs first."""
    return topological_order(w.network.cost)


def graph_groups(net: Network) -> dict[str, list[Value]]:
    """The graph's Values grouped as the article draws the network, for ``draw_dot(groups=)``.

    "inputs" holds x1 and x2; each neuron (h1, h2, o1, o2) holds its weights, bias, the
    products and sums of its input i and its output; "cost" holds the rest (targets,
    differences, squares, C). Inputs come left of the hidden neurons, cost right of o1, o2.
    """
    groups = {"inputs": list(net.inputs)}
    claimed = set(net.inputs)
    neurons = [*net.hidden, *net.output, net.cost]
    for name, node in zip(["h1", "h2", "o1", "o2", "cost"], neurons, strict=True):
        members = [v for v in topological_order(node) if v not in claimed]
        claimed.update(members)
        groups[name] = members
    return groups
