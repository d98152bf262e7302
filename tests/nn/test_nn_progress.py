"""fit's progress: a bar in a terminal, one line per epoch elsewhere, and the numbers
shown always those of the epoch the count says has finished."""

import io
import random
import re

from nn import MLP, SGD, fit, losses
from nn.progress import EpochProgress

X = [[0.1, 0.2], [0.5, -0.3], [1.0, 0.0], [-0.4, 0.9], [0.3, -0.8], [-0.6, -0.1]]
Y = [1, -1, 1, -1, 1, -1]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def _fit(epochs=3, validation=None):
    model = MLP(2, [3, 1], rng=random.Random(0))
    return fit(model, X, Y, loss=losses.hinge, optimizer=SGD(model.parameters(), lr=0.2),
               epochs=epochs, batch_size=4, rng=random.Random(1),
               validation=validation)  # fmt: skip


def test_a_stream_that_is_not_a_terminal_gets_one_line_per_epoch(capsys):
    history = _fit(validation=(X[:3], Y[:3]))
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert len(lines) == 3
    for k, line in enumerate(lines, start=1):
        assert line == (
            f"training: epoch {k}/3 loss={history.loss[k - 1]:.4f} "
            f"acc={history.train_accuracy[k - 1]:.3f} "
            f"test_acc={history.test_accuracy[k - 1]:.3f}"
        )


def test_a_terminal_gets_a_bar_whose_loss_is_the_finished_epochs(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    history = _fit(epochs=4)
    drawn = [part for part in terminal.getvalue().split("\r") if part.strip()]
    assert drawn, "the bar drew nothing"
    shown = []
    for part in drawn:
        count = int(re.search(r"(\d+)/4", part).group(1))
        loss = re.search(r"loss=([0-9.]+)", part)
        if count == 0:
            assert loss is None  # nothing finished yet, nothing to show
            continue
        shown.append(count)
        assert loss.group(1) == f"{history.loss[count - 1]:.4f}"  # never one behind
    assert shown[-1] == 4


def test_the_last_line_shows_every_epoch_finished_even_when_redraws_are_throttled():
    terminal = Terminal()
    progress = EpochProgress(50, enabled=True, stream=terminal)
    for k in range(50):
        progress.done({"loss": f"{k:.4f}"})
    progress.close()
    last = terminal.getvalue().rstrip("\n").split("\r")[-1]
    assert "50/50" in last and "loss=49.0000" in last


def test_no_progress_writes_nothing(capsys):
    model = MLP(2, [3, 1], rng=random.Random(0))
    fit(model, X, Y, loss=losses.hinge, optimizer=SGD(model.parameters(), lr=0.2), epochs=2,
        progress=False)  # fmt: skip
    assert capsys.readouterr().err == ""
