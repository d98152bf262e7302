"""The article's worked example: our numbers vs the spec and an independent hand computation."""

import json
import math

import pytest

from autodiff import GradcheckError, gradcheck
from nn import article

# From shared/article/worked-example.md (the article's right numbers).
O_H1 = 0.41338242108267
OUTPUT = [0.712257432295742, 0.533097573871501]
COST = 0.19374977898811957
# The article's published updates, which its own (wrong) sigmoid rule reproduces.
PUBLISHED_UPDATES = {
    "w1": 0.3064945998937866, "w2": 0.20320220163143507, "w3": -0.39025810015932016,
    "w4": 0.6048033024471525, "b1": 0.25324729994689327, "b2": 0.4516011008157175,
    "w5": 0.70525257108356, "w6": -0.3064179482696209, "w7": 0.5118678465030685,
    "w8": -0.11450094129460808, "b3": 0.1627063242549253, "b4": 0.33447454961240974,
}  # fmt: skip
PUBLISHED_AFTER_OUTPUT = [0.719269360605435, 0.524309343003261]
PUBLISHED_AFTER_COST = 0.1839862418540884


def _sigma(z):
    return 1.0 / (1.0 + math.exp(-z))


def _hand_gradients():
    """Backprop with plain floats, from the textbook formulas (not through the engine)."""
    x = [2.0, 3.0]
    t = [1.0, 0.2]
    w_hidden = [[0.3, -0.4], [0.2, 0.6]]  # row j: weights into h_j from x1, x2
    b_hidden = [0.25, 0.45]
    w_out = [[0.7, 0.5], [-0.3, -0.1]]  # row k: weights into o_k from h1, h2
    b_out = [0.15, 0.35]
    h = [_sigma(w_hidden[j][0] * x[0] + w_hidden[j][1] * x[1] + b_hidden[j]) for j in range(2)]
    o = [_sigma(w_out[k][0] * h[0] + w_out[k][1] * h[1] + b_out[k]) for k in range(2)]
    delta_o = [2 * (o[k] - t[k]) * o[k] * (1 - o[k]) for k in range(2)]
    back = [sum(w_out[k][j] * delta_o[k] for k in range(2)) for j in range(2)]
    delta_h = [h[j] * (1 - h[j]) * back[j] for j in range(2)]
    return {
        "w1": delta_h[0] * x[0], "w2": delta_h[1] * x[0], "w3": delta_h[0] * x[1],
        "w4": delta_h[1] * x[1], "b1": delta_h[0], "b2": delta_h[1],
        "w5": delta_o[0] * h[0], "w6": delta_o[1] * h[0], "w7": delta_o[0] * h[1],
        "w8": delta_o[1] * h[1], "b3": delta_o[0], "b4": delta_o[1],
    }  # fmt: skip


@pytest.fixture(scope="module")
def correct():
    return article.walkthrough("correct")


@pytest.fixture(scope="module")
def as_published():
    return article.walkthrough("article")


def test_forward_pass_and_cost_match_the_worked_example(correct):
    net = correct.network
    assert net.hidden[0].data == pytest.approx(O_H1, abs=1e-12)
    assert [o.data for o in net.output] == pytest.approx(OUTPUT, abs=1e-12)
    assert net.cost.data == pytest.approx(COST, abs=1e-12)


def test_correct_gradients_equal_an_independent_hand_computation(correct):
    hand = _hand_gradients()
    for name, g in hand.items():
        assert correct.gradients[name] == pytest.approx(g, abs=1e-14), name
    assert correct.gradients["w5"] == pytest.approx(-0.048755904691400044, abs=1e-14)
    assert correct.gradients["w1"] == pytest.approx(-0.0641679049644533, abs=1e-14)


def test_correct_updates_are_p_minus_lr_times_hand_gradient(correct):
    hand = _hand_gradients()
    initial = {"w1": 0.3, "w2": 0.2, "w3": -0.4, "w4": 0.6, "b1": 0.25, "b2": 0.45,
               "w5": 0.7, "w6": -0.3, "w7": 0.5, "w8": -0.1, "b3": 0.15, "b4": 0.35}  # fmt: skip
    for name, p in initial.items():
        assert correct.updated[name] == pytest.approx(p - 0.1 * hand[name], abs=1e-15), name


def test_cost_is_lower_after_the_step(correct):
    assert correct.after_cost < correct.network.cost.data


def test_explain_sums_equal_backward_gradients_for_all_12_parameters(correct):
    for name, explanation in correct.explanations.items():
        assert explanation.total == pytest.approx(correct.gradients[name], abs=1e-15), name
    assert len(correct.explanations["w5"].paths) == 1
    assert len(correct.explanations["w1"].paths) == 2  # through o1 and through o2


def test_explain_factors_of_w5_are_the_articles_three(correct):
    (path,) = correct.explanations["w5"].paths
    names = [str(f) for f in path.factors]
    assert names == ["di_o1/dw5", "do1/di_o1", "dC/do1"]
    o1 = OUTPUT[0]
    values = [f.value for f in path.factors]
    assert values == pytest.approx([O_H1, o1 * (1 - o1), 2 * (o1 - 1)], abs=1e-12)


def test_article_convention_reproduces_every_published_number(as_published):
    for name, published in PUBLISHED_UPDATES.items():
        # w5+ is printed with 14 digits in the article
        assert as_published.updated[name] == pytest.approx(published, abs=1e-12), name
    assert as_published.after_output == pytest.approx(PUBLISHED_AFTER_OUTPUT, abs=1e-12)
    assert as_published.after_cost == pytest.approx(PUBLISHED_AFTER_COST, abs=1e-12)
    assert as_published.gradients["w5"] == pytest.approx(-0.052525710835624, abs=1e-12)
    assert as_published.gradients["w1"] == pytest.approx(-0.064945998937865, abs=1e-12)


def test_gradcheck_flags_the_articles_sigmoid_rule():
    with pytest.raises(GradcheckError, match="analytic"):
        gradcheck(lambda v: article.article_sigmoid(v), [0.9056])
    assert gradcheck(lambda v: v.sigmoid(), [0.9056])


def test_steps_lower_the_cost_each_time():
    w = article.walkthrough("correct", steps=5)
    assert len(w.costs) == 5
    assert all(b < a for a, b in zip([w.network.cost.data, *w.costs[:-1]], w.costs, strict=True))


def test_json_has_the_documented_keys(correct):
    data = json.loads(json.dumps(article.to_json(correct)))
    assert data["convention"] == "correct"
    assert len(data["forward"]["hidden"]) == 2 and len(data["forward"]["output"]) == 2
    assert set(data["gradients"]) == set(PUBLISHED_UPDATES)
    assert set(data["updated"]) == set(PUBLISHED_UPDATES)
    assert set(data["after"]) == {"output", "cost"}
    assert data["published"]["updated"]["w5"] == 0.70525257108356
