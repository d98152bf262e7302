"""Grad modes belong to a thread, as in PyTorch: one thread's no_grad, detect_anomaly or
grad() changes nothing in another, and ``state.plain`` (the hot path's one check) stays
exact. Threads are stepped with events and barriers, never sleeps; every wait is bounded."""

from __future__ import annotations

import math
import random
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager

import pytest

from autodiff import Value, detect_anomaly, enable_grad, grad, no_grad
from autodiff.core.modes import state

TIMEOUT = 5.0  # a wait that takes longer means a thread died or hung: fail, do not hang


def run_threads(*targets: Callable[[], None]) -> None:
    """Run each target in its own thread and re-raise the first error any of them raised."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # reported in the main thread below
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "a thread is still running"
    if errors:
        raise errors[0]


def wait(event: threading.Event) -> None:
    assert event.wait(TIMEOUT), "the other thread never got there"


def test_no_grad_in_one_thread_leaves_another_threads_gradients_right():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def a():
        with no_grad():
            seen["leaf in A"] = (Value(2.0) * 3).is_leaf
            inside.set()
            wait(done)

    def b():
        try:
            wait(inside)
            x = Value(3.0)
            (x * x).backward()
            seen["dx in B"] = x.grad
        finally:
            done.set()

    run_threads(a, b)
    assert seen == {"leaf in A": True, "dx in B": 6.0}


def test_overlapping_no_grad_blocks_exiting_in_entry_order_restore_each_thread():
    # A enters, B enters, A leaves, B leaves: with process-wide flags, B's exit
    # restored A's "off" and recording stayed off for the whole process.
    a_in, b_in, a_out, b_checked = (threading.Event() for _ in range(4))
    seen = {}

    def a():
        try:
            with no_grad():
                a_in.set()
                wait(b_in)
            seen["A records after its block"] = not (Value(1.0) * 2).is_leaf
        finally:
            a_out.set()
        wait(b_checked)

    def b():
        try:
            wait(a_in)
            with no_grad():
                b_in.set()
                wait(a_out)
                seen["B still in no_grad"] = (Value(1.0) * 2).is_leaf
        finally:
            b_in.set()
            b_checked.set()
        seen["B records after its block"] = not (Value(1.0) * 2).is_leaf

    run_threads(a, b)
    assert seen == {
        "A records after its block": True,
        "B still in no_grad": True,
        "B records after its block": True,
    }
    x = Value(2.0)
    y = x * x
    assert y._prev == (x, x) and state.plain and state.recording
    y.backward()
    assert x.grad == 4.0


def test_detect_anomaly_in_one_thread_does_not_raise_in_another():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def a():
        with detect_anomaly():
            with pytest.raises(FloatingPointError, match="'log'"):
                Value(0.0).log()
            inside.set()
            wait(done)

    def b():
        try:
            wait(inside)
            x = Value(0.0)
            y = x.log()  # -inf, as IEEE says; only A asked to be stopped
            y.backward()
            seen["B"] = (y.data, x.grad)
        finally:
            done.set()

    run_threads(a, b)
    assert seen == {"B": (-math.inf, math.inf)}


def test_grad_in_one_thread_leaves_another_threads_grad_in_float_mode():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def f(x):
        inside.set()  # A is now inside grad(f): its nesting depth is 1
        wait(done)
        return x * x * x

    def a():
        seen["A"] = grad(f)(2.0)

    def b():
        try:
            wait(inside)
            seen["B"] = grad(lambda v: v * v)(3.0)
        finally:
            done.set()

    run_threads(a, b)
    assert seen == {"A": 12.0, "B": 6.0}
    assert type(seen["B"]) is float


def test_a_new_thread_starts_with_recording_on_and_anomaly_off():
    seen = {}

    def fresh():
        seen["modes"] = (state.recording, state.anomaly)
        seen["records"] = not (Value(1.0) * 2).is_leaf
        seen["log 0"] = Value(0.0).log().data

    with no_grad(), detect_anomaly():
        assert (state.recording, state.anomaly) == (False, True)
        run_threads(fresh)
        assert (Value(1.0) * 2).is_leaf  # the block still holds in this thread
    assert seen == {"modes": (True, False), "records": True, "log 0": -math.inf}


def test_plain_is_true_exactly_when_no_thread_has_a_mode_in_effect():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def a():
        with no_grad():
            inside.set()
            wait(done)

    def check():
        try:
            wait(inside)
            seen["plain while A is in no_grad"] = state.plain
            x = Value(2.0)
            y = x * x  # the slow path, reading this thread's modes: recorded
            seen["recorded"] = y._prev == (x, x)
        finally:
            done.set()

    assert state.plain
    with enable_grad():  # grad mode was already on: nothing changes, no slow path
        assert state.plain
    run_threads(a, check)
    assert seen == {"plain while A is in no_grad": False, "recorded": True}
    assert state.plain


def test_plain_counts_threads_not_blocks():
    with no_grad():
        with detect_anomaly():
            with no_grad():
                assert not state.plain
            with enable_grad():
                assert not state.plain  # anomaly is still on
        assert not state.plain
        with enable_grad():
            assert state.plain  # back to the defaults inside this block
        assert not state.plain
    assert state.plain and state.recording and not state.anomaly


@contextmanager
def frequent_thread_switches():
    """Switch threads every few bytecodes, so modes and ops interleave as much as possible."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_stress_threads_in_modes_never_disturb_threads_computing_gradients():
    workers, modal, rounds = 5, 3, 150
    start = threading.Barrier(workers + modal)
    finished = threading.Event()
    wrong: list[str] = []
    checks = [0] * modal

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait(TIMEOUT)
        for _ in range(rounds):
            x0, y0 = rng.uniform(-2, 2), rng.uniform(-2, 2)
            x, y = Value(x0), Value(y0)
            f = x * x * y + (x * y).tanh()
            f.backward()
            t = math.tanh(x0 * y0)
            want = (2 * x0 * y0 + y0 * (1 - t * t), x0 * x0 + x0 * (1 - t * t))
            if (x.grad, y.grad) != pytest.approx(want, rel=1e-12):
                wrong.append(f"backward at ({x0}, {y0}): {(x.grad, y.grad)} != {want}")
            g = grad(lambda v: v * v)(x0)
            if type(g) is not float or g != pytest.approx(2 * x0):
                wrong.append(f"grad at {x0}: {g!r}")
            if Value(0.0).log().data != -math.inf:
                wrong.append("log(0) changed")

    def in_modes(k: int) -> None:
        start.wait(TIMEOUT)
        n = 0
        while not finished.is_set() and n < 100 * rounds:
            n += 1
            with no_grad():
                if not (Value(1.0) * 2).is_leaf:
                    wrong.append(f"thread {k}: recorded inside no_grad")
                with enable_grad():
                    if (Value(1.0) * 2).is_leaf:
                        wrong.append(f"thread {k}: not recorded inside enable_grad")
            with detect_anomaly():
                try:
                    Value(0.0).log()
                    wrong.append(f"thread {k}: log(0) did not raise inside detect_anomaly")
                except FloatingPointError:
                    pass
            if grad(lambda v: grad(lambda w: w * w * w)(v))(1.5) != pytest.approx(9.0):
                wrong.append(f"thread {k}: nested grad wrong")
            checks[k] += 1

    def all_workers() -> None:
        run_threads(*[lambda s=s: worker(s) for s in range(workers)])
        finished.set()

    with frequent_thread_switches():
        run_threads(all_workers, *[lambda k=k: in_modes(k) for k in range(modal)])
    assert wrong == []
    assert all(c > 0 for c in checks)  # the mode threads really overlapped the workers
    assert state.plain and state.recording and not state.anomaly
