"""`autodiff walkthrough` end to end: sections, flags, errors."""

import json

import pytest
from graphs import needs_graphviz

from autodiff.frontend.cli import main


def run(capsys, *args):
    code = main(["walkthrough", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_walkthrough_prints_the_articles_sections_in_order(capsys):
    code, out, _ = run(capsys)
    assert code == 0
    heads = ["1. Forward", "2. Cost", "3. Last layer", "4. Hidden layer", "5. Biases",
             "6. Update", "7. Published"]  # fmt: skip
    positions = [out.index(h) for h in heads]
    assert positions == sorted(positions)
    assert "efficient" in out  # the reuse of the last layer's factors is named
    assert "sigma(o)(1 - sigma(o)), instead of at its input" in out
    assert "dC/dw5 = di_o1/dw5 · do1/di_o1 · dC/do1 = 0.4134 · 0.2049 · -0.5755" in out
    assert "(lower)" in out


def test_article_convention_reproduces_and_gradcheck_fails(capsys):
    code, out, _ = run(capsys, "--convention", "article")
    assert code == 0
    assert "every published number is reproduced" in out
    assert "-> False" in out


def test_json_output_parses_with_the_documented_keys(capsys):
    code, out, _ = run(capsys, "--json")
    data = json.loads(out)
    assert code == 0
    for key in ("convention", "forward", "cost", "gradients", "updated", "after", "published"):
        assert key in data
    assert data["cost"] == pytest.approx(0.19374977898811957, abs=1e-12)


def test_other_learning_rate_still_compares_at_the_articles(capsys):
    code, out, _ = run(capsys, "--lr", "0.5")
    assert code == 0
    assert "learning rate = 0.5" in out
    assert "(at the article's learning rate 0.1, not 0.5)" in out
    assert "MISMATCH" not in out


@pytest.mark.parametrize("bad", ["-1", "0", "nan", "inf", "abc"])
def test_bad_learning_rate_is_a_one_line_error(capsys, bad):
    code, out, err = run(capsys, "--lr", bad)
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("autodiff walkthrough: error: argument --lr: expected a positive")
    assert line.endswith("(usage: autodiff walkthrough [options]; see autodiff walkthrough --help)")


def test_steps_print_a_falling_cost(capsys):
    code, out, _ = run(capsys, "--steps", "3")
    assert code == 0
    costs = [float(line.split(":")[1]) for line in out.splitlines() if "     step " in line]
    assert len(costs) == 3 and costs[0] > costs[1] > costs[2]


@needs_graphviz
def test_render_writes_the_graph_with_the_articles_names(capsys, tmp_path):
    path = tmp_path / "walk.svg"
    code, _, _ = run(capsys, "--render", str(path))
    assert code == 0
    svg = path.read_text()
    for name in ["x1", "x2", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"] + [
        "b1", "b2", "b3", "b4", "h1", "h2", "o1", "o2", "C"
    ]:  # fmt: skip
        assert f">{name}</text>" in svg, name


def test_walkthrough_names_the_article_its_author_and_publication(capsys):
    assert main(["walkthrough"]) == 0
    head = capsys.readouterr().out.splitlines()[:5]
    assert head[2] == (
        'The article: "Part 2 – Gradient descent and backpropagation", by Tobias Hill,'
    )
    assert head[3] == "published in Towards Data Science (on Medium)"


def test_walkthrough_prints_each_gradient_one_way(capsys):
    import re

    assert main(["walkthrough"]) == 0
    out = capsys.readouterr().out
    chains, update = out.split("\n6. Update")[0], out.split("\n6. Update")[1].split("\n7.")[0]
    for name, printed in re.findall(r"   (\w+)\+ = \S+ - 0.1 · \((\S+)\)", update):
        # the chain's last line for dC/d<name> prints the same digits
        section = chains[chains.index(f"   dC/d{name} = ") :]
        last = re.search(r"\n\s+= (\S+)\n", section).group(1)
        assert last == printed, name


def test_walkthrough_frames_are_one_page_under_a_megabyte(capsys, tmp_path):
    from graphs import HAVE_DOT, HAVE_PURE

    if not (HAVE_DOT or HAVE_PURE):
        import pytest

        pytest.skip("no Graphviz to draw with")
    out = tmp_path / "frames"
    assert main(["walkthrough", "--frames", str(out)]) == 0
    capsys.readouterr()
    assert [p.name for p in out.iterdir()] == ["index.html"]  # nothing else is needed
    page = (out / "index.html").read_text("utf-8")
    assert len(page.encode()) <= 1_000_000
    assert page.count("<svg") == 1 and '"head":"Step 41 of 41"' in page
