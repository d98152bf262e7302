"""The worked example as text, in the article's order (see nn.article for the numbers)."""

from __future__ import annotations

from autodiff import rules
from autodiff.readers import ChainPath, Explanation, Factor
from nn.article import (
    INPUT,
    LEARNING_RATE,
    PARAMETERS,
    PUBLISHED,
    READER_DC_DW1,
    TARGET,
    Walkthrough,
    article_sigmoid,
)

RULE = "=" * 78
LAST_WEIGHTS = ["w5", "w6", "w7", "w8"]
HIDDEN_WEIGHTS = ["w1", "w2", "w3", "w4"]
BIASES = ["b3", "b4", "b1", "b2"]


def report(w: Walkthrough, reference: Walkthrough | None = None,
           article: Walkthrough | None = None) -> str:  # fmt: skip
    """The whole walk-through of ``w``.

    The published-vs-computed table compares at the article's learning rate:
    ``reference`` is ``w``'s convention run at lr 0.1 (``w`` itself when its lr is 0.1)
    and ``article``, if given, the same with the article's sigmoid rule (a third column).
    """
    reference = reference or w
    sections = [
        _title(w),
        _forward(w),
        _cost(w),
        _last_layer(w),
        _hidden_layer(w),
        _biases(w),
        _update(w),
        _published(w, reference, article),
    ]
    if w.gradcheck_report:
        sections.append(_gradcheck(w))
    return "\n\n".join(sections) + "\n"


ARTICLE = (
    'The article: "Part 2 – Gradient descent and backpropagation", by Tobias Hill,\n'
    "published in Towards Data Science (on Medium)"
)


def _num(x: float) -> str:
    """15 significant digits, as the article prints its numbers."""
    return f"{x:.15g}"


def _title(w: Walkthrough) -> str:
    rule = (
        "sigma'(i) = o(1 - o), the chain rule"
        if w.convention == "correct"
        else "the article's sigma(o)(1 - sigma(o)), reproducing its numbers"
    )
    return (
        f"{RULE}\nBackpropagation, worked: the article's 2-2-2 sigmoid network\n"
        f"{ARTICLE}\n"
        f"x = {INPUT}, expected = {TARGET}, learning rate = {w.lr}\n"
        f"sigmoid derivative: {rule}\n{RULE}"
    )


def _forward(w: Walkthrough) -> str:
    net = w.network
    lines = ["1. Forward pass, neuron by neuron:  i = sum(w * input) + b,  o = sigmoid(i)"]
    layers = (
        ("h", net.inputs, net.hidden_in, net.hidden),
        ("o", net.hidden, net.output_in, net.output),
    )
    for prefix, sources, ins, outs in layers:
        for k, (i_node, o_node) in enumerate(zip(ins, outs, strict=True)):
            *weights, bias = _neuron_params(prefix, k)
            pairs = list(zip(weights, sources, strict=True))
            names = " + ".join(f"{p}·{s.label}" for p, s in pairs)
            terms = [f"{w.initial[p]:g}·{s.data:.6g}" for p, s in pairs] + [f"{w.initial[bias]:g}"]
            lines.append(f"   {prefix}{k + 1}: i = {names} + {bias}")
            lines.append(f"         = {_signed_sum(terms)} = {_num(i_node.data)}")
            lines.append(f"       o = sigmoid(i) = {_num(o_node.data)}")
    return "\n".join(lines)


def _signed_sum(terms: list[str]) -> str:
    """'0.3·2 + -0.4·3' written as '0.3·2 - 0.4·3'."""
    text = terms[0]
    for t in terms[1:]:
        text += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return text


def _neuron_params(prefix: str, k: int) -> list[str]:
    """The names of neuron k's weights (input order) and bias."""
    layer = 0 if prefix == "h" else 1
    weights = sorted(
        (where[2], name)
        for name, where in PARAMETERS.items()
        if len(where) == 3 and where[:2] == (layer, k)
    )
    bias = next(n for n, where in PARAMETERS.items() if where == (layer, k))
    return [name for _, name in weights] + [bias]


def _cost(w: Walkthrough) -> str:
    net = w.network
    lines = ["2. Cost, term by term:  C = sum_j (o_j - expected_j)^2"]
    for k, (o, t, term) in enumerate(zip(net.output, TARGET, w.cost_terms, strict=True)):
        lines.append(f"   (o{k + 1} - {t})^2 = ({_num(o.data)} - {t})^2 = {_num(term)}")
    lines.append(f"   C = {_num(net.cost.data)}")
    return "\n".join(lines)


def _last_layer(w: Walkthrough) -> str:
    lines = [
        "3. Last layer:  dC/dw = di/dw · do/di · dC/do",
        "   di/dw = the input w multiplies (h1 or h2),  do/di = o(1 - o),  dC/do = 2(o - expected)",
        "   (each factor is an edge of the recorded graph; its value comes from the rule table)",
    ]
    for name in LAST_WEIGHTS:
        lines += _single_chain(name, w.explanations[name], w.gradients[name])
    return "\n".join(lines)


def _single_chain(name: str, e: Explanation, g: float) -> list[str]:
    # the last line prints the engine's gradient, the number section 6 updates with:
    # one printed form per number (e.total sums whole paths and may differ in a last bit)
    return [
        f"   dC/d{name} = {e.format_path(e.paths[0])}",
        f"   {'':{len(name) + 4}}  = {_num(g)}",
    ]


def _hidden_layer(w: Walkthrough) -> str:
    lines = [
        "4. Hidden layer:  dC/dw = di/dw · do/di · (sum over outputs j: di_oj/do · dC/di_oj)",
        "   di_oj/do is the weight from this neuron to o_j. From the last layer, computed once:",
    ]
    for k, bias in enumerate(("b3", "b4")):
        chain = w.explanations[bias].paths[0].factors
        lines.append(
            f"   dC/di_o{k + 1} = do{k + 1}/di_o{k + 1} · dC/do{k + 1} = "
            f"{chain[-2].value:.4f} · {chain[-1].value:.4f} = {w.gradients[bias]:.4f}"
            f"   (= dC/d{bias}, since di/db = 1)"
        )
    for name in HIDDEN_WEIGHTS:
        lines += _hidden_chain(name, w.explanations[name], w.gradients[name])
    lines += [
        "   The sum reuses dC/di_o1 and dC/di_o2 instead of following every path to the cost",
        "   again. This reuse (dynamic programming) is what makes backpropagation efficient:",
        "   one backward sweep, each node visited once, gives all 12 gradients.",
    ]
    return "\n".join(lines)


def _hidden_chain(name: str, e: Explanation, g: float) -> list[str]:
    prefix = _common_prefix(e.paths)
    head = " · ".join(str(f) for f in prefix)
    head_values = " · ".join(f"{f.value:.4f}" for f in prefix)
    names, values = [], []
    for path in e.paths:
        to_output, *rest = path.factors[len(prefix) :]
        names.append(f"{to_output} · dC/d{to_output.top}")
        values.append(f"{to_output.value:.4f} · {_product(rest):.4f}")
    pad = " " * (len(name) + 7)
    return [
        f"   dC/d{name} = {head} · ({' + '.join(names)})",
        f"   {pad}= {head_values} · ({' + '.join(values)})",
        f"   {pad}= {_num(g)}",
    ]


def _product(factors: list[Factor]) -> float:
    result = 1.0
    for f in factors:
        result *= f.value
    return result


def _common_prefix(paths: tuple[ChainPath, ...]) -> list[Factor]:
    first = paths[0].factors
    n = 0
    while n < len(first) and all(
        len(p.factors) > n and str(p.factors[n]) == str(first[n]) for p in paths
    ):
        n += 1
    return list(first[:n])


def _biases(w: Walkthrough) -> str:
    lines = ["5. Biases: the same chains, with di/db = 1 in place of di/dw"]
    for name in BIASES:
        e = w.explanations[name]
        if len(e.paths) == 1:
            lines += _single_chain(name, e, w.gradients[name])
        else:
            lines += _hidden_chain(name, e, w.gradients[name])
    return "\n".join(lines)


def _update(w: Walkthrough) -> str:
    net = w.network
    lines = [f"6. Update, p+ = p - {w.lr} · dC/dp (the article's eq 1), all 12 parameters:"]
    for name in HIDDEN_WEIGHTS + ["b1", "b2"] + LAST_WEIGHTS + ["b3", "b4"]:
        g = w.gradients[name]
        lines.append(
            f"   {name}+ = {w.initial[name]:g} - {w.lr} · ({_num(g)}) = {_num(w.updated[name])}"
        )
    verdict = "lower" if w.after_cost < net.cost.data else "NOT lower"
    lines += [
        "   Sanity check, the same input through the updated network:",
        f"   output {_pair([o.data for o in net.output])} -> {_pair(w.after_output)}",
        f"          (expected {TARGET})",
        f"   cost   {_num(net.cost.data)} -> {_num(w.after_cost)}   ({verdict})",
    ]
    if len(w.costs) > 1:
        lines.append(f"   {len(w.costs)} steps, cost after each:")
        lines += [f"     step {k + 1}: {_num(c)}" for k, c in enumerate(w.costs)]
    return "\n".join(lines)


def _pair(xs: list[float]) -> str:
    return "[" + ", ".join(_num(x) for x in xs) + "]"


def _published(w: Walkthrough, ref: Walkthrough, article: Walkthrough | None) -> str:
    net = ref.network
    o1, h1 = net.output[0].data, net.hidden[0].data
    computed = "computed" if ref.convention == "correct" else "computed (article's rule)"
    header = f"   {'':15}{'published':>20}{computed:>26}"
    if article is not None:
        header += f"{'with the article rule':>23}"
    lines = ["7. Published by the article vs computed", header]
    if w.lr != LEARNING_RATE:
        lines.insert(1, f"   (at the article's learning rate {LEARNING_RATE}, not {w.lr})")
    pub = PUBLISHED
    forward_rows = 4  # o_h1, o1, o2, C: right in the article; everything after is derived
    rows: list[tuple[str, float, float, float | None]] = [
        ("o_h1", pub["forward"]["hidden"][0], h1,
         _pick(article, lambda a: a.network.hidden[0].data)),
        ("o1", pub["forward"]["output"][0], o1,
         _pick(article, lambda a: a.network.output[0].data)),
        ("o2", pub["forward"]["output"][1], net.output[1].data,
         _pick(article, lambda a: a.network.output[1].data)),
        ("C", pub["cost"], net.cost.data, _pick(article, lambda a: a.network.cost.data)),
        ("sigma'(i_o1)", pub["sigmoid_derivatives"]["o1"], _sigma_slope(ref, "o"),
         _pick(article, lambda a: _sigma_slope(a, "o"))),
        ("sigma'(i_h1)", pub["sigmoid_derivatives"]["h1"], _sigma_slope(ref, "h"),
         _pick(article, lambda a: _sigma_slope(a, "h"))),
    ]  # fmt: skip
    for name in ("w5", "w1"):
        rows.append((f"dC/d{name}", pub["gradients"][name], ref.gradients[name],
                     _pick(article, lambda a, n=name: a.gradients[n])))  # fmt: skip
    for name in HIDDEN_WEIGHTS + ["b1", "b2"] + LAST_WEIGHTS + ["b3", "b4"]:
        rows.append((f"{name}+", pub["updated"][name], ref.updated[name],
                     _pick(article, lambda a, n=name: a.updated[n])))  # fmt: skip
    for k in range(2):
        rows.append((f"o{k + 1} after", pub["after"]["output"][k], ref.after_output[k],
                     _pick(article, lambda a, k=k: a.after_output[k])))  # fmt: skip
    rows.append(("C after", pub["after"]["cost"], ref.after_cost,
                 _pick(article, lambda a: a.after_cost)))  # fmt: skip
    worst = 0.0
    for k, (label, published, ours, theirs) in enumerate(rows):
        if k >= forward_rows:
            worst = max(worst, abs(published - ours))
        line = f"   {label:15}{published:20.15f}{ours:26.15f}"
        if theirs is not None:
            line += f"{theirs:23.15f}"
        lines.append(line)
    i_o1 = net.output_in[0].data
    article_slope = article_sigmoid.derivatives(i_o1, o1)[0]
    chain_slope = rules.SIGMOID.derivatives(i_o1, o1)[0]
    if ref.convention == "correct":
        lines += [
            "   The forward pass and the cost agree. Every derivative after them differs, by up",
            f"   to {worst:.2e}. Cause: the article evaluates the sigmoid's derivative at the",
            "   neuron's output, sigma(o)(1 - sigma(o)), instead of at its input:",
            "   sigma'(i) = sigma(i)(1 - sigma(i)) = o(1 - o). For o1 it uses",
            f"   sigma({o1:.4f})(1 - sigma({o1:.4f})) = {article_slope:.4f}, where the chain rule",
            f"   needs {o1:.4f}·(1 - {o1:.4f}) = {chain_slope:.4f}.",
            f"   A reader's comment under the article questioned dC/dw1 = {READER_DC_DW1}:",
            "   that was the right value; the author's correction replaced it with the slip.",
        ]
        if article is not None:
            lines.append(
                "   The last column recomputes with the article's rule (autodiff walkthrough\n"
                "   --convention article) and reproduces every published number."
            )
    else:
        verdict = "every published number is reproduced" if worst <= 1e-12 else "MISMATCH"
        lines += [
            f"   Largest difference {worst:.1e}: {verdict}.",
            "   The article's error: it takes the sigmoid's derivative at the output,",
            "   sigma(o)(1 - sigma(o)), not at the input, sigma'(i) = o(1 - o).",
        ]
    return "\n".join(lines)


def _sigma_slope(w: Walkthrough, layer: str) -> float:
    """The value the walkthrough's rule used for do/di of neuron 1 in the layer ("h" or "o")."""
    name = "b3" if layer == "o" else "b1"
    (path, *_) = w.explanations[name].paths
    return path.factors[1].value  # di/db · do/di · ...: the second factor


def _pick(article: Walkthrough | None, get) -> float | None:  # noqa: ANN001
    return None if article is None else get(article)


def _gradcheck(w: Walkthrough) -> str:
    return (
        "8. Why gradient checking matters: the article's sigmoid rule against central "
        "differences\n   " + w.gradcheck_report.replace("\n", "\n   ") + "\n"
        "   gradcheck fails: the rule's derivative is not the function's slope.\n"
    )
