"""fit's progress report: a bar where it can be redrawn, one line per epoch where not.

In a terminal it is tqdm's text bar; in Jupyter with ipywidgets, tqdm.auto's widget.
Anywhere else (a log file, a pipe, CI) a bar's carriage returns would pile up on one
line, so each finished epoch gets a line of its own instead. Either way the numbers
shown belong to the epoch the count says has finished: never one epoch behind.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, TextIO

from tqdm import std

with warnings.catch_warnings():
    # in a Jupyter kernel without ipywidgets tqdm.auto warns on stderr, then falls back to
    # the text bar: that fallback is what we want, so the warning would only be noise
    warnings.simplefilter("ignore", std.TqdmWarning)
    from tqdm import autonotebook
    from tqdm.auto import tqdm as auto_tqdm


def _redrawable(stream: Any) -> bool:
    """A bar can be redrawn in place: a terminal, or tqdm.auto picked the notebook widget."""
    if autonotebook.tqdm is not std.tqdm:  # tqdm.auto found a Jupyter kernel and ipywidgets
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed stream
        return False


class EpochProgress:
    """``done(numbers)`` after each epoch; ``close()`` at the end (also after an error)."""

    def __init__(self, epochs: int, enabled: bool, stream: TextIO | None = None) -> None:
        self.epochs = epochs
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.finished = 0
        self.bar: Any = None
        if enabled and _redrawable(self.stream):
            self.bar = auto_tqdm(total=epochs, desc="training", unit="epoch", file=stream)

    def done(self, numbers: dict[str, str]) -> None:
        """Epoch ``finished + 1`` is over and these are its numbers."""
        self.finished += 1
        if self.bar is not None:
            self.bar.set_postfix(numbers, refresh=False)  # shown by the update: same redraw
            self.bar.update(1)
        elif self.enabled:
            shown = " ".join(f"{k}={v}" for k, v in numbers.items())
            width = len(str(self.epochs))
            line = f"training: epoch {self.finished:>{width}}/{self.epochs} {shown}\n"
            self.stream.write(line)
            self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
