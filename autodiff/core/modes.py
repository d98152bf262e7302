"""Switches that change how operations are recorded: no_grad and detect_anomaly.

Both are plain process-wide flags read by every operation (cheaper than a
thread-local lookup on the hot path); like the rest of the engine they are not
meant to be flipped from several threads at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


class _State:
    """The flags every operation reads. Change them with the context managers below."""

    __slots__ = ("recording", "anomaly", "plain", "tracer")

    def __init__(self) -> None:
        self.recording = True  # record each op's inputs so backward can reach them
        self.anomaly = False  # raise at the first op that makes nan or inf
        self.plain = True  # recording, not anomaly, not tracing: the one check on the hot path
        self.tracer: Callable[..., None] | None = None  # autodiff.compiler's hook while tracing

    def set(self, recording: bool, anomaly: bool) -> None:
        self.recording = recording
        self.anomaly = anomaly
        self.plain = recording and not anomaly and self.tracer is None


state = _State()


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block operations record no inputs: results are leaves.

    Use it for parameter updates and evaluation, where no gradient is wanted and
    recording the graph would only cost time and memory.
    """
    before = state.recording
    state.set(False, state.anomaly)
    try:
        yield
    finally:
        state.set(before, state.anomaly)


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record operations again, even inside a no_grad block."""
    before = state.recording
    state.set(True, state.anomaly)
    try:
        yield
    finally:
        state.set(before, state.anomaly)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise FloatingPointError at the first op whose output or gradient is nan or inf.

    The error names the op and its input values, so a nan deep in training can be
    traced to the operation that produced it (forward or backward).
    """
    before = state.anomaly
    state.set(state.recording, True)
    try:
        yield
    finally:
        state.set(state.recording, before)


@contextmanager
def _recording_derivatives() -> Iterator[None]:
    """Record ops while backward builds a gradient's graph (create_graph=True).

    Forward anomaly checks are off here: a nan made while differentiating is reported
    by backward's own check, which names the op being differentiated.
    """
    before = (state.recording, state.anomaly)
    state.set(True, False)
    try:
        yield
    finally:
        state.set(*before)
