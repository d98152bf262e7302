"""autodiff against micrograd 0.1.0: the same demo code, each engine in its own process.

Run by hand from anywhere (not a test; micrograd comes with the `bench` extra):

    python benchmarks/bench_engine.py            # full run, about a minute
    python benchmarks/bench_engine.py --quick    # a few seconds, rougher numbers
    python benchmarks/bench_engine.py --against 2d7bfa9 [--rounds 7] [--gc off]
                                                 # this engine vs an earlier commit's

It measures
  (a) micrograd's demo training step: 100 two-moons points, an MLP 2-16-16-1 of plain
      Values with ReLU, hinge loss + 1e-4 * sum(p^2), an SGD update. Median time per step,
      once with the garbage collector as Python sets it and once with it disabled;
  (b) memory per op, with tracemalloc: a chain of binary ops, and the demo's loss graph;
  (c) backward through a long chain x = x + 1.0: 10^6 ops on autodiff, and the longest
      chain micrograd's recursive topological sort survives;
  (d) with --against REV only: the demo step on this checkout against the autodiff of git
      revision REV (exported with `git archive` to a temporary directory and run by its own
      copy of this file), in alternating worker processes, and the ratio of their medians.

The orchestrator (no arguments) starts one worker process per engine and measurement, so
the engines never share an interpreter, a heap or collector state; the workers
(`--worker ENGINE --measure WHAT`) print one JSON line. The model, the data and the
training step are written once below and run unchanged on either engine's Value.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("micrograd", "autodiff")

Value = None  # the engine's Value class, set by _use_engine in a worker


def _use_engine(name: str, root: Path = ROOT) -> str:
    """Import the engine's Value into this module; return where it came from."""
    global Value
    if name == "autodiff":
        sys.path.insert(
            0, str(root)
        )  # this checkout's autodiff (or --root's), not an installed one
        import autodiff

        Value = autodiff.Value
        return str(Path(autodiff.__file__).parent)
    import micrograd
    import micrograd.engine

    Value = micrograd.engine.Value
    return f"micrograd {_version('micrograd')} at {Path(micrograd.__file__).parent}"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


# ---- the demo, written once: micrograd's demo notebook, with plain Values ----------------


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)  # noqa: B905 (as the demo)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        self.layers = [
            Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0


def make_moons(n=100, noise=0.1, seed=1):
    """Two interleaved half circles with Gaussian noise; labels -1 and +1.

    The upper moon is (cos t, sin t), the lower one (1 - cos t, 1/2 - sin t),
    t evenly spaced over [0, pi] (the construction sklearn's make_moons uses).
    """
    rng = random.Random(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    points, labels = [], []
    for i in range(n_upper):
        t = math.pi * i / (n_upper - 1)
        points.append([math.cos(t), math.sin(t)])
        labels.append(-1)
    for i in range(n_lower):
        t = math.pi * i / (n_lower - 1)
        points.append([1 - math.cos(t), 0.5 - math.sin(t)])
        labels.append(1)
    for p in points:
        p[0] += rng.gauss(0.0, noise)
        p[1] += rng.gauss(0.0, noise)
    return points, labels


def loss(model, X, y):
    """The demo's full-batch loss: mean hinge loss + 1e-4 * L2, and the accuracy."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]  # noqa: B905
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]  # noqa: B905
    return total_loss, sum(accuracy) / len(accuracy)


def train_step(model, X, y, k):
    total_loss, acc = loss(model, X, y)
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, acc


def _demo_model():
    random.seed(1337)
    return MLP(2, [16, 16, 1])


# ---- worker measurements ----------------------------------------------------------------


def measure_step(steps: int, warmup: int, collector: str) -> dict:
    """Median wall time of the demo's training step.

    collector "default": Python's settings, consecutive steps (the collector's work,
    including freeing the previous step's cyclic garbage, lands inside the timed steps).
    "off": gc.disable() in this process; gc.collect() between steps, outside the timer,
    so memory stays bounded and only the step's own work is timed.
    """
    X, y = make_moons()
    model = _demo_model()
    before = _collector_state()
    if collector == "off":
        gc.disable()
    times, cpu_times, losses = [], [], []
    for k in range(warmup + steps):
        if collector == "off":
            gc.collect()
        start, cpu_start = time.perf_counter(), time.process_time()
        loss_value, acc = train_step(model, X, y, k)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        losses.append(loss_value)
        if k >= warmup:
            times.append(elapsed)
            cpu_times.append(cpu)
    if collector == "off":
        gc.enable()
    return {
        "times": times,
        "median": statistics.median(times),
        "cpu_median": statistics.median(cpu_times),  # this process's CPU time: less load noise
        "losses": losses,
        "accuracy": acc,
        "collector_before": before,
        "collector_after": _collector_state(),
    }


def _collector_state() -> list:
    return [gc.isenabled(), list(gc.get_threshold()), gc.get_freeze_count()]


def _graph_nodes(root) -> int:
    """Values reachable from root through _prev (iterative: micrograd graphs are deep)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def measure_memory(chain_ops: int) -> dict:
    """tracemalloc bytes held by graphs: a chain of binary ops, and the demo's loss graph.

    The chain alternates x * w and x + b with Values w and b, so every op makes exactly
    one node in both engines. The loss graph is built by the same code in both engines,
    which could decompose ops differently (micrograd's a - b is a + (b * -1)), so its
    cost is given in total and per node of each engine's own graph.
    """
    w, b, x = Value(0.999), Value(0.001), Value(1.0)
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    for i in range(chain_ops):
        x = x * w if i % 2 == 0 else x + b
    chain_bytes = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    del x

    X, y = make_moons()
    model = _demo_model()
    params = len(model.parameters())
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    total_loss, _ = loss(model, X, y)
    graph_bytes = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    created = _graph_nodes(total_loss) - params  # ops, inputs and constants of the loss code
    return {
        "chain_ops": chain_ops,
        "chain_bytes_per_op": chain_bytes / chain_ops,
        "graph_bytes": graph_bytes,
        "graph_nodes": created,
        "graph_bytes_per_node": graph_bytes / created,
    }


def _chain(n: int):
    x0 = Value(0.0)
    x = x0
    for _ in range(n):
        x = x + 1.0
    return x0, x


def measure_chain(long_chain: int) -> dict:
    """backward through x = x + 1.0 repeated n times, default recursion limit.

    Tries n = 100, 500, 1000, 2000 and the long chain, stopping at the first failure;
    then bisects between the last n that worked and the first that failed.
    """
    tries = []
    for n in (100, 500, 1000, 2000, long_chain):
        tries.append(_try_chain(n))
        if not tries[-1]["ok"]:
            break
    result = {"recursion_limit": sys.getrecursionlimit(), "tries": tries}
    if not tries[-1]["ok"]:
        lo = max((t["n"] for t in tries if t["ok"]), default=0)
        hi = tries[-1]["n"]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if _try_chain(mid)["ok"] else (lo, mid)
        result["max_ok"], result["first_failure"] = lo, hi
    return result


def _try_chain(n: int) -> dict:
    start = time.perf_counter()
    x0, x = _chain(n)
    built = time.perf_counter()
    try:
        x.backward()
    except RecursionError:
        return {"n": n, "ok": False, "error": "RecursionError"}
    done = time.perf_counter()
    right = x.data == float(n) and x0.grad == 1.0
    return {"n": n, "ok": right, "build_s": built - start, "backward_s": done - built}


def worker(args: argparse.Namespace) -> None:
    source = _use_engine(args.worker, Path(args.root) if args.root else ROOT)
    quick = args.quick
    if args.measure == "step":
        out = measure_step(steps=3 if quick else 7, warmup=1, collector=args.gc)
    elif args.measure == "memory":
        out = measure_memory(chain_ops=20_000 if quick else 100_000)
    else:
        out = measure_chain(long_chain=100_000 if quick else 1_000_000)
    out["source"] = source
    print(json.dumps(out))


# ---- orchestrator -----------------------------------------------------------------------


def _run_worker(engine: str, measure: str, quick: bool, collector: str = "default") -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", engine]
    cmd += ["--measure", measure, "--gc", collector] + (["--quick"] if quick else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"worker {engine} {measure} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def orchestrate(quick: bool) -> None:
    started = datetime.datetime.now().astimezone()
    results: dict = {}
    for measure, collector in (("step", "default"), ("step", "off"), ("memory", "-")):
        for engine in ENGINES:
            print(f"  running {engine}: {measure} {collector} ...", file=sys.stderr)
            results[engine, measure, collector] = _run_worker(engine, measure, quick, collector)
    for engine in ENGINES:
        print(f"  running {engine}: chain ...", file=sys.stderr)
        results[engine, "chain"] = _run_worker(engine, "chain", quick)

    ad, mg = "autodiff", "micrograd"
    steps = len(results[ad, "step", "default"]["times"])
    print()
    print(
        f"autodiff vs micrograd 0.1.0   {started:%Y-%m-%d %H:%M %Z}"
        + ("   (--quick)" if quick else "")
    )
    print(f"Python {platform.python_version()} on {platform.platform()}, {_cpus()} CPU(s)")
    print(f"autodiff:  {results[ad, 'step', 'default']['source']}")
    print(f"micrograd: {results[mg, 'step', 'default']['source']}")
    print()
    print(f"(a) demo training step, median of {steps} steps after 1 warm-up (ms per step)")
    print(f"    {'collector':<24}{'micrograd':>12}{'autodiff':>12}{'speed-up':>11}   target")
    for collector, label, target in (
        ("default", "default settings", 15),
        ("off", "disabled (worker only)", 2),
    ):
        m = results[mg, "step", collector]["median"] * 1e3
        a = results[ad, "step", collector]["median"] * 1e3
        ratio = m / a
        verdict = _verdict(ratio >= target)
        print(f"    {label:<24}{m:>12.1f}{a:>12.1f}{ratio:>10.1f}x   >= {target}x {verdict}")
    ml = results[mg, "step", "default"]["losses"][-1]
    al = results[ad, "step", "default"]["losses"][-1]
    print(f"    same computation: last step's loss micrograd {ml:.12f}, autodiff {al:.12f}")
    state = results[ad, "step", "default"]
    print(
        f"    collector in the autodiff worker (enabled, thresholds, frozen) before "
        f"{state['collector_before']}, after {state['collector_after']}"
    )
    print()
    m_mem, a_mem = results[mg, "memory", "-"], results[ad, "memory", "-"]
    print("(b) memory (tracemalloc, bytes)")
    print(f"    {'':<40}{'micrograd':>12}{'autodiff':>12}{'ratio':>9}   target")
    m_op, a_op = m_mem["chain_bytes_per_op"], a_mem["chain_bytes_per_op"]
    print(
        f"    {'per op, chain of ' + format(a_mem['chain_ops'], ',') + ' binary ops':<40}"
        f"{m_op:>12.0f}{a_op:>12.0f}{a_op / m_op:>9.2f}   <= 0.25 {_verdict(a_op / m_op <= 0.25)}"
    )
    m_g, a_g = m_mem["graph_bytes"], a_mem["graph_bytes"]
    print(f"    {'demo loss graph, total':<40}{m_g:>12,}{a_g:>12,}{a_g / m_g:>9.2f}")
    m_c, a_c = m_mem["graph_nodes"], a_mem["graph_nodes"]
    print(f"    {'demo loss graph, nodes created':<40}{m_c:>12,}{a_c:>12,}")
    m_n, a_n = m_mem["graph_bytes_per_node"], a_mem["graph_bytes_per_node"]
    print(f"    {'demo loss graph, per node':<40}{m_n:>12.0f}{a_n:>12.0f}{a_n / m_n:>9.2f}")
    print()
    print("(c) backward through x = x + 1.0 repeated n times (default recursion limit)")
    for engine in ENGINES:
        r = results[engine, "chain"]
        line = f"    {engine:<10} recursion limit {r['recursion_limit']}: "
        if "first_failure" in r:
            line += (
                f"works up to n = {r['max_ok']:,}; RecursionError from n = {r['first_failure']:,}"
            )
        else:
            t = r["tries"][-1]
            line += f"n = {t['n']:,} works: build {t['build_s']:.2f} s, "
            line += f"backward {t['backward_s']:.2f} s"
        print(line)
    print()
    print("Notes: each engine and measurement ran in its own process. 'disabled' = gc.disable()")
    print("in the worker, with gc.collect() between steps outside the timer (micrograd's graphs")
    print("are reference cycles and would otherwise pile up). The library itself leaves the")
    print("collector alone (see the before/after line).")


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def compare_with_revision(rev: str, rounds: int, collector: str) -> None:
    """(d): the demo step here and at git revision ``rev``, alternating, ``rounds`` times each.

    Both engines run under this file's worker (``--root`` picks whose autodiff it imports),
    so both are timed the same way. Alternating spreads the load of a shared machine over
    both; each round is one worker process per engine reporting its median of 7 steps, in
    wall time and in the process's CPU time (which a busy machine disturbs less).
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="autodiff-") as old_root:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=False
        )
        if archive.returncode != 0:
            sys.exit(f"git archive {rev} failed: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", old_root], input=archive.stdout, check=True)
        roots = {rev: old_root, "this checkout": str(ROOT)}
        wall: dict[str, list[float]] = {name: [] for name in roots}
        cpu: dict[str, list[float]] = {name: [] for name in roots}
        losses = {}
        for k in range(rounds):
            for name, root in roots.items():
                print(f"  round {k + 1}/{rounds}: {name} ...", file=sys.stderr)
                cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "autodiff"]
                cmd += ["--measure", "step", "--gc", collector, "--root", root]
                done = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    sys.exit(f"worker for {name} failed:\n{done.stderr}")
                out = json.loads(done.stdout.strip().splitlines()[-1])
                if not out["source"].startswith(root):
                    sys.exit(f"worker for {name} imported autodiff from {out['source']}")
                wall[name].append(out["median"] * 1e3)
                cpu[name].append(out["cpu_median"] * 1e3)
                losses[name] = out["losses"][-1]
    print()
    print(f"(d) demo training step, this checkout vs autodiff at {rev} ({rounds} rounds)")
    print(f"    collector: {'disabled in the workers' if collector == 'off' else 'default'}")
    print("    ms per step, each round's median of 7 steps; the machine may be shared")
    for clock, table in (("wall", wall), ("cpu", cpu)):
        for name, values in table.items():
            row = " ".join(f"{v:6.1f}" for v in values)
            median = statistics.median(values)
            print(f"    {clock:<5}{name:<14} median {median:7.1f}   rounds: {row}")
        ratio = statistics.median(table[rev]) / statistics.median(table["this checkout"])
        print(f"    {clock:<5}speed-up {ratio:.2f}x   (target >= 1.2x: {_verdict(ratio >= 1.2)})")
    same = losses[rev] == losses["this checkout"]
    print(f"    same last loss: {same} ({losses['this checkout']!r})")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, shorter chains")
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=("step", "memory", "chain"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--gc",
        choices=("default", "off", "-"),
        default="default",
        help="with --against: 'off' disables the collector in the workers",
    )
    parser.add_argument("--against", metavar="REV", help="compare the step with git revision REV")
    parser.add_argument("--rounds", type=int, default=7, help="worker pairs for --against")
    parser.add_argument("--root", help=argparse.SUPPRESS)  # a worker's autodiff checkout
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
    elif args.against:
        compare_with_revision(args.against, args.rounds, "off" if args.gc == "off" else "default")
    else:
        orchestrate(args.quick)


if __name__ == "__main__":
    main()
