"""The worked example as text, in the article's order (see nn.article for the numbers)."""

from __future__ import annotations

from autodiff.explain import Explanation, Path
from nn.article import (
    HIDDEN_LAYER,
    INPUT,
    LAST_LAYER,
    PARAMETERS,
    PUBLISHED,
    TARGET,
    Walkthrough,
)

RULE = "=" * 78


def report(w: Walkthrough, article: Walkthrough | None = None) -> str:
    """The whole walk-through. ``article``: the same run with the article's sigmoid rule,
    shown as an extra column of the published-vs-computed table."""
    sections = [
        _title(w),
        _forward(w),
        _cost(w),
        _last_layer(w),
        _hidden_layer(w),
        _update(w),
        _published(w, article),
    ]
    if w.gradcheck_report:
        sections.append(_gradcheck(w))
    return "\n\n".join(sections) + "\n"


def _title(w: Walkthrough) -> str:
    rule = (
        "sigma'(i) = o(1 - o), the chain rule"
        if w.convention == "correct"
        else "the article's sigma(o)(1 - sigma(o)), reproducing its numbers"
    )
    return (
        f"{RULE}\nBackpropagation, worked: the article's 2-2-2 sigmoid network\n"
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
            names = " + ".join(f"{p}*{s.label}" for p, s in zip(weights, sources, strict=True))
            values = " + ".join(
                f"{w.initial[p]:g}*{s.data:.6g}" for p, s in zip(weights, sources, strict=True)
            )
            lines.append(f"   {prefix}{k + 1}: i = {names} + {bias}")
            lines.append(f"         = {values} + {w.initial[bias]:g} = {i_node.data!r}")
            lines.append(f"       o = sigmoid(i) = {o_node.data!r}")
    return "\n".join(lines)


def _neuron_params(prefix: str, k: int) -> list[str]:
    """The names of neuron k's weights (input order) and bias, before the update."""
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
        lines.append(f"   (o{k + 1} - {t})^2 = ({o.data!r} - {t})^2 = {term!r}")
    lines.append(f"   C = {net.cost.data!r}")
    return "\n".join(lines)


def _last_layer(w: Walkthrough) -> str:
    lines = [
        "3. Last layer:  dC/dw = di/dw · do/di · dC/do   (and 5. its biases, di/db = 1)",
        "   each factor is an edge of the recorded graph, its local derivative from the rule table",
    ]
    for name in LAST_LAYER:
        e = w.explanations[name]
        lines.append(f"   dC/d{name} = {e.format_path(e.paths[0])}")
        lines.append(f"   {'':{len(name) + 4}}  = {e.total:.15f}")
    return "\n".join(lines)


def _hidden_layer(w: Walkthrough) -> str:
    lines = [
        "4. Hidden layer:  dC/dw = di/dw · do/di · (sum over output neurons j: di_j/do · dC/di_j)",
        "   (and 5. its biases, di/db = 1)",
    ]
    for name in HIDDEN_LAYER:
        lines += _hidden_chain(name, w.explanations[name])
    lines += [
        "   Each dC/di_oj = do_j/di_oj · dC/do_j is the product of the last two factors already",
        "   computed for the last layer: the hidden layer reuses them instead of recomputing",
        "   every path to the cost. This reuse (dynamic programming) is what makes",
        "   backpropagation efficient: one backward sweep gives all 12 gradients.",
    ]
    return "\n".join(lines)


def _hidden_chain(name: str, e: Explanation) -> list[str]:
    prefix = _common_prefix(e.paths)
    head = " · ".join(str(f) for f in prefix)
    head_values = " · ".join(f"{f.value:.4f}" for f in prefix)
    names, values = [], []
    for path in e.paths:
        to_next, *rest = path.factors[len(prefix) :]
        delta = 1.0
        for f in rest:
            delta *= f.value
        names.append(f"{to_next} · dC/d{to_next.top}")
        values.append(f"{to_next.value:.4f} · {delta:.4f}")
    pad = " " * (len(name) + 7)
    return [
        f"   dC/d{name} = {head} · ({' + '.join(names)})",
        f"   {pad}= {head_values} · ({' + '.join(values)})",
        f"   {pad}= {e.total:.15f}",
    ]


def _common_prefix(paths: tuple[Path, ...]) -> list:
    first = paths[0].factors
    n = 0
    while n < len(first) and all(
        len(p.factors) > n and str(p.factors[n]) == str(first[n]) for p in paths
    ):
        n += 1
    return list(first[:n])


def _update(w: Walkthrough) -> str:
    net = w.network
    lines = [f"6. Update, p+ = p - {w.lr} * dC/dp (the article's eq 1), all 12 parameters:"]
    for name in HIDDEN_LAYER + LAST_LAYER:
        before = w.initial[name]
        lines.append(
            f"   {name}+ = {before:g} - {w.lr} * ({w.gradients[name]:.15f}) = {w.updated[name]!r}"
        )
    before = [o.data for o in net.output]
    verdict = "lower" if w.after_cost < net.cost.data else "NOT lower"
    lines += [
        "   Sanity check, the same input through the updated network:",
        f"   output {_pair(before)} -> {_pair(w.after_output)}   (expected {TARGET})",
        f"   cost   {net.cost.data!r} -> {w.after_cost!r}   ({verdict})",
    ]
    if len(w.costs) > 1:
        lines.append(f"   {len(w.costs)} steps, cost after each:")
        lines += [f"     step {k + 1}: {c!r}" for k, c in enumerate(w.costs)]
    return "\n".join(lines)


def _pair(xs: list[float]) -> str:
    return "[" + ", ".join(f"{x:.15f}" for x in xs) + "]"


def _published(w: Walkthrough, article: Walkthrough | None) -> str:
    computed = "computed" if w.convention == "correct" else "computed (article's rule)"
    header = f"   {'':8}{'published':>22}{computed:>27}"
    if article is not None:
        header += f"{'with the article rule':>24}"
    lines = ["7. Published by the article vs computed", header]
    rows = [(f"{n}+", PUBLISHED["updated"][n], w.updated[n], _get(article, "u", n)) for n in
            HIDDEN_LAYER + LAST_LAYER]  # fmt: skip
    for k in range(2):
        rows.append(
            (f"o{k + 1} after", PUBLISHED["after"]["output"][k], w.after_output[k],
             _get(article, "o", k))
        )  # fmt: skip
    rows.append(("C after", PUBLISHED["after"]["cost"], w.after_cost, _get(article, "c", 0)))
    worst = 0.0
    for label, published, ours, theirs in rows:
        worst = max(worst, abs(published - ours))
        line = f"   {label:8}{published:22.15f}{ours:27.15f}"
        if theirs is not None:
            line += f"{theirs:24.15f}"
        lines.append(line)
    if w.convention == "correct":
        lines += [
            f"   The published updates differ from the chain rule's by up to {worst:.2e}.",
            "   Cause: the article evaluates the sigmoid's derivative at the neuron's output,",
            "   sigma(o)(1 - sigma(o)), instead of at its input: sigma'(i) = o(1 - o).",
            "   For o1: the article uses sigma(o1)(1 - sigma(o1)) = 0.2208 where the chain rule",
            "   needs o1(1 - o1) = 0.2049. The last column recomputes with the article's rule",
            "   (autodiff walkthrough --convention article) and reproduces every published number.",
        ]
    else:
        verdict = "every published number is reproduced" if worst <= 1e-12 else "MISMATCH"
        lines += [
            f"   Largest difference {worst:.1e}: {verdict}. The article's error: it takes",
            "   the sigmoid's derivative at the output, sigma(o)(1 - sigma(o)), not at the input,",
            "   sigma'(i) = o(1 - o).",
        ]
    return "\n".join(lines)


def _get(article: Walkthrough | None, what: str, key: str | int) -> float | None:
    if article is None:
        return None
    if what == "u":
        return article.updated[key]
    if what == "o":
        return article.after_output[key]
    return article.after_cost


def _gradcheck(w: Walkthrough) -> str:
    return (
        "8. Why gradient checking matters: the article's sigmoid rule against central "
        "differences\n   " + w.gradcheck_report.replace("\n", "\n   ") + "\n"
        "   gradcheck fails: the rule's derivative is not the function's slope."
    )
