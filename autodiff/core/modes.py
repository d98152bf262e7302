"""Switches that change how operations are recorded: no_grad, enable_grad, detect_anomaly.

The modes belong to a thread, as PyTorch's grad mode does: a block entered in one
thread changes nothing in any other, and a new thread starts with recording on and
anomaly detection off, whatever the thread that started it is doing. (PyTorch keeps
its anomaly mode process-wide; here it is per thread too, so one thread's debugging
cannot make another thread's ``log(0)`` raise.)

Every operation reads one flag on the hot path, ``state.plain``: a module-global
that is True exactly when no thread has a mode in effect that changes recording
(inside no_grad, or inside detect_anomaly). Only when it is False does an operation
look up its own thread's modes (``state.recording``, ``state.anomaly``). A
lock-protected count of the threads whose modes differ from the defaults keeps the
flag exact: it turns False when the first such thread enters a block and True again
when the last one leaves. A trace (``autodiff.trace``/``compile``) is a mode of its
thread too: its hook sees every op that thread records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager


class _ThreadModes(threading.local):
    """One thread's modes. Each thread sees its own copy, made with these defaults."""

    def __init__(self) -> None:
        self.recording = True  # record each op's inputs so backward can reach them
        self.anomaly = False  # raise at the first op that makes nan or inf
        self.tracer: Callable[..., None] | None = None  # autodiff.compiler's hook, tracing


_modes = _ThreadModes()
_lock = threading.Lock()
_threads_not_plain = 0  # threads recording, checking or tracing unusually; under _lock


class _State:
    """What every operation reads: ``plain`` (one global check), then this thread's modes.

    ``recording`` and ``anomaly`` read the calling thread's modes. Change them with the
    context managers below.
    """

    __slots__ = ("plain",)

    def __init__(self) -> None:
        self.plain = True  # no thread records differently: the one check on the hot path

    @property
    def recording(self) -> bool:
        """Whether this thread records ops (False inside no_grad)."""
        return _modes.recording

    @property
    def anomaly(self) -> bool:
        """Whether this thread checks every op for nan and inf (inside detect_anomaly)."""
        return _modes.anomaly

    @property
    def tracer(self) -> Callable[..., None] | None:
        """This thread's trace hook (inside autodiff.trace), or None."""
        return _modes.tracer


state = _State()


def _set(recording: bool, anomaly: bool) -> None:
    """Set the calling thread's modes, and keep ``state.plain`` true to all threads."""
    _set_modes(recording, anomaly, _modes.tracer)


def _set_modes(recording: bool, anomaly: bool, tracer: Callable[..., None] | None) -> None:
    global _threads_not_plain
    modes = _modes
    was_plain = modes.recording and not modes.anomaly and modes.tracer is None
    plain = recording and not anomaly and tracer is None
    modes.recording = recording
    modes.anomaly = anomaly
    modes.tracer = tracer
    if plain != was_plain:
        with _lock:
            _threads_not_plain += -1 if plain else 1
            state.plain = _threads_not_plain == 0


@contextmanager
def _switched(recording: bool | None = None, anomaly: bool | None = None) -> Iterator[None]:
    """This thread's modes changed for the block (None: as they are), then restored."""
    before = (_modes.recording, _modes.anomaly)
    _set(
        before[0] if recording is None else recording,
        before[1] if anomaly is None else anomaly,
    )
    try:
        yield
    finally:
        _set(*before)


def no_grad() -> AbstractContextManager[None]:
    """Inside this block, in this thread, operations record no inputs: results are leaves.

    Use it for parameter updates and evaluation, where no gradient is wanted and
    recording the graph would only cost time and memory.
    """
    return _switched(recording=False)


def enable_grad() -> AbstractContextManager[None]:
    """Record operations again in this thread, even inside a no_grad block."""
    return _switched(recording=True)


def detect_anomaly() -> AbstractContextManager[None]:
    """Raise FloatingPointError at the first op whose output or gradient is nan or inf.

    The error names the op and its input values, so a nan deep in training can be
    traced to the operation that produced it (forward or backward). Only operations
    and backward passes run by this thread are checked.
    """
    return _switched(anomaly=True)


def _recording_derivatives() -> AbstractContextManager[None]:
    """Record ops while backward builds a gradient's graph (create_graph=True).

    Forward anomaly checks are off here: a nan made while differentiating is reported
    by backward's own check, which names the op being differentiated.
    """
    return _switched(recording=True, anomaly=False)


@contextmanager
def _trace_hook(hook: Callable[..., None]) -> Iterator[None]:
    """Call ``hook(out, rule, x, y)`` for every op this thread records (and, with
    ``rule`` None, for every leaf Value it makes) until the block ends."""
    _set_modes(_modes.recording, _modes.anomaly, hook)
    try:
        yield
    finally:
        _set_modes(_modes.recording, _modes.anomaly, None)
