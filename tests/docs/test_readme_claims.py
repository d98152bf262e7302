"""Sentences of the README that state what the library does, checked against what it does."""

import re
from pathlib import Path

import autodiff
from autodiff import Value
from nn import losses

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def _loss_compiles(loss) -> bool:
    logits = [Value(v, label=f"z{i}") for i, v in enumerate([0.5, -1.0, 2.0])]
    step = autodiff.compile(lambda: loss(logits, 2), params=logits)
    try:
        step()
    except autodiff.TraceError:
        return False
    return True


def test_a_loss_the_readme_calls_refused_by_the_guard_is_refused():
    prose = " ".join(README.split())
    # within one sentence (". " ends it; `.data` does not)
    named = re.findall(r"`nn\.losses\.(\w+)`(?:(?!\. ).)*?refused by the guard", prose)
    for name in named:
        assert not _loss_compiles(getattr(losses, name)), f"the README says {name} is refused"


def test_cross_entropy_compiles_as_the_digits_section_says():
    # -log softmax(z)_2 = logsumexp(z) - z_2, traced without reading a value to pick the max
    assert _loss_compiles(losses.cross_entropy)


def test_the_progress_line_the_readme_shows_has_the_format_fit_writes():
    import io

    from nn.progress import EpochProgress

    (shown,) = re.findall(r"`(training: epoch [^`]*)`", README)
    epoch, epochs = (int(n) for n in re.search(r"epoch +(\d+)/(\d+)", shown).groups())
    stream = io.StringIO()
    progress = EpochProgress(epochs, enabled=True, stream=stream)
    for _ in range(epoch):
        progress.done({"loss": "0.1234", "acc": "0.961"})
    real = stream.getvalue().splitlines()[-1]
    # the same line up to its numbers: same spacing, same keys
    assert re.sub(r"\d", "9", shown) == re.sub(r"\d", "9", real)
