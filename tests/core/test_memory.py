"""Memory: graphs hold no reference cycles, the collector is left alone, and a
10^6-op chain goes through backward under the default recursion limit."""

from __future__ import annotations

import subprocess
import sys
import time
import weakref

import pytest
from collector import collector_off

from autodiff import Rule, Value, detect_anomaly, gradients, no_grad

cube = Rule("cube", lambda x: x**3, lambda x, out: (3 * x * x,))


def _every_kind_of_op(a, b):
    """A graph with every op, reuse, number operands, a Value exponent and a custom op."""
    h = a * b + a - b / (a * a + 1.0)
    h = h + (-h) * 0.5 + abs(h) + 2**b + a**b + h**2 + h**-1 + 3 - a + 2 * b + 1 / a
    h = h + h.exp().log() + (h * h).sqrt() + h.sin() * h.cos() + h.tanh() + h.sigmoid()
    return cube(h.relu() + h)


def test_dropping_the_output_frees_the_whole_graph_without_the_collector():
    a, b = Value(0.7), Value(1.3)
    with collector_off():
        out = _every_kind_of_op(a, b)
        out.backward()
        inner = [weakref.ref(v) for v in _walk(out) if v is not a and v is not b]
        assert len(inner) > 40
        del out
        assert all(r() is None for r in inner)


def test_graphs_of_gradients_are_freed_without_the_collector():
    a, b = Value(0.7), Value(1.3)
    with collector_off():
        out = _every_kind_of_op(a, b)
        da, db = gradients(out, [a, b], create_graph=True)
        refs = [weakref.ref(v) for v in (*_walk(out), *_walk(da), *_walk(db))]
        refs = [r for r in refs if r() is not a and r() is not b]
        del out, da, db
        assert all(r() is None for r in refs)


def test_graphs_built_in_no_grad_and_anomaly_mode_are_freed_without_the_collector():
    a = Value(0.5)
    with collector_off():
        with no_grad():
            quiet = (a * 2).tanh()
        with detect_anomaly():
            checked = (a * 2).tanh()
            checked.backward()
        refs = [weakref.ref(quiet), weakref.ref(checked), weakref.ref(list(checked._prev)[0])]
        del quiet, checked
        assert all(r() is None for r in refs)


def _walk(root):
    """Every Value reachable from root through _prev (iterative, like a micrograd user would)."""
    seen, stack = {id(root): root}, [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen[id(child)] = child
                stack.append(child)
    return list(seen.values())


def test_importing_and_training_leaves_the_garbage_collector_settings_alone():
    script = (
        "import gc\n"
        "before = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())\n"
        "from autodiff import Value\n"
        "w = [Value(0.1 * i) for i in range(50)]\n"
        "for _ in range(3):\n"
        "    loss = sum((wi * wi).tanh() for wi in w)\n"
        "    loss.backward()\n"
        "after = (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count())\n"
        "assert before == after, (before, after)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=_repo_root())


def _repo_root():
    import pathlib

    return pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_backward_through_a_million_op_chain_under_the_default_recursion_limit():
    n = 1_000_000
    assert sys.getrecursionlimit() <= 10_000  # nothing here raised it
    start = time.perf_counter()
    x0, c = Value(0.0), Value(1.0)
    # the collector is off only to save time building the chain (it would scan the
    # growing graph repeatedly); it also proves dropping the chain needs no collector
    with collector_off():
        x = x0 + c
        first = weakref.ref(x)  # the op furthest from the root
        for _ in range(n - 1):
            x = x + c
        x.backward()
        assert x.data == float(n)
        assert x0.grad == 1.0
        assert c.grad == float(n)  # c is reused by every op
        del x
        assert first() is None
    elapsed = time.perf_counter() - start
    print(f"10^6-op chain: build + backward + free in {elapsed:.2f} s")
