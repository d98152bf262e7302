"""Trace once, replay fast: the moons training step on every path, each in its own process.

Run by hand (not a test):

    python benchmarks/bench_compile.py            # 15 timed steps per engine
    python benchmarks/bench_compile.py --quick    # 9 timed steps, rougher
    python benchmarks/bench_compile.py --train    # also time `autodiff train moons`
    python benchmarks/bench_compile.py --sizes    # generation time and memory by tape size

``--sizes`` times the first call's parts on tapes of about 1k, 10k, 65k and 250k ops
(``--sizes 1000 1000000`` for others), each in its own process: the Python backend on
the demo's whole-batch tape (more moons points for more ops), the numpy backend on a
per-example tape of an MLP 2-H-H-1 with the L2 term (a wider H for more ops). CPU
seconds (time.process_time, so another process on the machine counts less) and the
process's peak resident memory.

The step is micrograd's demo (benchmarks/bench_engine.py): 100 moons points, MLP
2-16-16-1 (ReLU), mean hinge loss + 1e-4 * sum p^2, SGD. Engines: micrograd 0.1.0
(collector on and off), autodiff eager, autodiff compiled (Python backend, the whole
batch as one tape), autodiff compiled (numpy backend, batch="mean" over a per-example
tape) and PyTorch on batched tensors with one thread (skipped if torch is missing).
Each prints the median of the timed steps after warm-up; the table gives ratios.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKERS = (
    "micrograd (gc on)",
    "micrograd (gc off)",
    "autodiff eager",
    "compiled python",
    "compiled numpy",
    "torch batched, 1 thread",
)


def _timed(step, steps: int, warmup: int, collect: bool = False) -> list[float]:
    times = []
    for k in range(warmup + steps):
        if collect:
            gc.collect()
        start = time.perf_counter()
        step(k)
        if k >= warmup:
            times.append(time.perf_counter() - start)
    return times


def _demo(engine: str):
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    import bench_engine

    bench_engine._use_engine(engine)
    return bench_engine


def worker_eager(engine: str, steps: int, warmup: int, gc_off: bool) -> dict:
    demo = _demo(engine)
    X, y = demo.make_moons()
    model = demo._demo_model()
    if gc_off:
        gc.disable()
    times = _timed(lambda k: demo.train_step(model, X, y, k), steps, warmup, collect=gc_off)
    return {"times": times}


def worker_compiled(backend: str, steps: int, warmup: int) -> dict:
    demo = _demo("autodiff")
    import autodiff

    X, y = demo.make_moons()
    model = demo._demo_model()
    params = model.parameters()

    if backend == "python":

        def f(xs, ys):  # the demo's loss, the whole batch in one tape
            scores = [model(x) for x in xs]
            data = sum((1 + -t * s).relu() for t, s in zip(ys, scores, strict=True))
            return data * (1.0 / len(xs)) + 1e-4 * sum(p * p for p in params)

        step = autodiff.compile(f)
    else:

        def f(x, t):  # one example; the mean over the batch is the demo's loss
            return (1 + -t * model(x)).relu() + 1e-4 * sum(p * p for p in params)

        step = autodiff.compile(f, batch="mean", backend="numpy")
    start = time.perf_counter()
    step(X, y)
    compile_time = time.perf_counter() - start

    def train(k: int) -> None:
        for p in params:
            p.grad = 0.0
        step(X, y)
        lr = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= lr * p.grad

    return {"times": _timed(train, steps, warmup), "compile": compile_time, "ops": len(step.tape)}


def worker_torch(steps: int, warmup: int) -> dict:
    try:
        import torch
    except ImportError:
        return {"skipped": "torch is not importable"}
    torch.set_num_threads(1)
    demo = _demo("autodiff")
    X, y = demo.make_moons()
    Xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    gen = torch.Generator().manual_seed(1337)
    sizes = [2, 16, 16, 1]
    params = []
    for i in range(3):
        params.append(
            torch.rand(sizes[i], sizes[i + 1], generator=gen, dtype=torch.float64) * 2 - 1
        )
        params.append(torch.zeros(sizes[i + 1], dtype=torch.float64))
    for p in params:
        p.requires_grad_(True)

    def train(k: int) -> None:
        h = torch.relu(Xt @ params[0] + params[1])
        h = torch.relu(h @ params[2] + params[3])
        scores = (h @ params[4] + params[5]).squeeze(1)
        loss = torch.relu(1 - yt * scores).mean() + 1e-4 * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad

    return {"times": _timed(train, steps, warmup), "version": torch.__version__}


def worker_size(backend: str, size: int) -> dict:
    """CPU seconds of the first call's parts, and the peak memory, for a tape of ~size ops."""
    import resource

    demo = _demo("autodiff")
    import autodiff
    from autodiff.compiler import numpy_backend, python_backend
    from autodiff.compiler.structure import check

    clock = time.process_time
    if backend == "python":  # the demo's whole-batch tape: about 650 ops per point
        X, y = demo.make_moons(max(4, round(size / 650)))
        model = demo._demo_model()
        params = model.parameters()

        def f(xs, ys):
            scores = [model(x) for x in xs]
            data = sum((1 + -t * s).relu() for t, s in zip(ys, scores, strict=True))
            return data * (1.0 / len(xs)) + 1e-4 * sum(p * p for p in params)

        args: list = [X, y]
    else:  # one example of an MLP 2-H-H-1 (hinge + L2): about 4.15 H^2 ops
        import random

        rng = random.Random(0)
        width = max(2, round((size / 4.15) ** 0.5))
        sizes = [2, width, width, 1]
        layers = [
            [[autodiff.Value(rng.uniform(-1, 1)) for _ in range(m + 1)] for _ in range(k)]
            for m, k in zip(sizes, sizes[1:], strict=False)
        ]
        params = [p for layer in layers for row in layer for p in row]

        def f(x, t):
            h = x
            for k, layer in enumerate(layers):
                z = [sum((w * a for w, a in zip(r[:-1], h, strict=True)), r[-1]) for r in layer]
                h = z if k == len(layers) - 1 else [zk.relu() for zk in z]
            return (1 + -t * h[0]).relu() + 1e-4 * sum(p * p for p in params)

        args = [[0.5, -0.25], 1.0]
    start = clock()
    tape = autodiff.trace(f, *args, params=params)
    traced = clock()
    if backend == "python":
        source, namespace = python_backend.generate(tape, batch=False)
        parts = [source]
        if source.count("\n") > python_backend.CHUNK_LINES:  # as python_backend.build does
            parts = python_backend.chunks(source, python_backend.CHUNK_LINES)
    else:
        source, namespace = numpy_backend.generate(tape)
        parts = [source]
    generated = clock()
    for part in parts:
        exec(compile(part, "<bench>", "exec"), namespace)
    compiled = clock()
    if backend == "python":
        namespace["replay"](check(tape.structure, args, "args"), tape.params, 1.0)
    else:
        namespace["replay"]([[a] for a in args], tape.params, 1.0)
    done = clock()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "ops": len(tape),
        "trace": traced - start,
        "generate": generated - traced,
        "compile": compiled - generated,
        "first call": done - start,
        "peak MiB": peak,
    }


def sweep(sizes: list[int]) -> None:
    print("first call by tape size (CPU seconds; peak resident memory of the process)")
    print(
        f"{'backend':8}{'ops':>9}{'trace':>8}{'generate':>10}{'compile':>9}{'first':>8}{'MiB':>7}"
    )
    for backend in ("numpy", "python"):
        for size in sizes:
            command = [sys.executable, __file__, "--worker", f"size {backend} {size}"]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(
                f"{backend:8}{r['ops']:9d}{r['trace']:8.2f}{r['generate']:10.2f}"
                f"{r['compile']:9.2f}{r['first call']:8.2f}{r['peak MiB']:7.0f}"
            )


def run_worker(name: str, steps: int, warmup: int) -> dict:
    if name.startswith("size "):
        _, backend, size = name.split()
        return worker_size(backend, int(size))
    if name.startswith("micrograd"):
        return worker_eager("micrograd", steps, warmup, gc_off="off" in name)
    if name == "autodiff eager":
        return worker_eager("autodiff", steps, warmup, gc_off=False)
    if name.startswith("compiled"):
        return worker_compiled(name.split()[1], steps, warmup)
    return worker_torch(steps, warmup)


def _spawn(name: str, steps: int, warmup: int) -> dict:
    command = [sys.executable, __file__, "--worker", name, "--steps", str(steps)]
    command += ["--warmup", str(warmup)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _train_wall_time(eager: bool) -> float:
    command = [sys.executable, "-m", "autodiff", "train", "moons", "--no-plot", "--no-progress"]
    start = time.perf_counter()
    subprocess.run(command + (["--eager"] if eager else []), capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--train", action="store_true", help="also time autodiff train moons")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--sizes",
        nargs="*",
        type=int,
        help="time generation on tapes of these sizes (default 1000 10000 65000 250000)",
    )
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.steps, args.warmup)))
        return
    if args.sizes is not None:
        sweep(args.sizes or [1000, 10000, 65000, 250000])
        return
    steps = 9 if args.quick else args.steps
    results = {}
    for name in WORKERS:
        # micrograd and eager take ~0.1-1 s a step: fewer warm-up steps there
        results[name] = _spawn(name, steps, 1 if "compiled" not in name else args.warmup)
        print(f"  measured {name}", file=sys.stderr)
    median = {n: statistics.median(r["times"]) for n, r in results.items() if "times" in r}
    print(f"moons step (100 points, MLP 2-16-16-1), median of {steps} steps after warm-up")
    print(f"{datetime.date.today()}, Python {platform.python_version()}, {platform.machine()}")
    header = f"{'engine':26}{'ms/step':>10}{'vs mg gc on':>13}{'vs mg gc off':>14}{'vs torch':>10}"
    print(header)
    torch_ms = median.get("torch batched, 1 thread")
    for name in WORKERS:
        if name not in median:
            print(f"{name:26}{'skipped: ' + results[name].get('skipped', '?'):>47}")
            continue
        ms = median[name] * 1e3
        on = median["micrograd (gc on)"] / median[name]
        off = median["micrograd (gc off)"] / median[name]
        vs_torch = f"{median[name] / torch_ms:9.2f}" if torch_ms else "        -"
        print(f"{name:26}{ms:10.3f}{on:12.1f}x{off:13.1f}x {vs_torch}")
    for name in ("compiled python", "compiled numpy"):
        r = results[name]
        print(
            f"{name}: first call (trace + generate + compile) {r['compile']:.2f} s, {r['ops']} ops"
        )
    print(
        "ratios: 'vs mg' = micrograd's time / this engine's (higher is faster); "
        "'vs torch' = this engine's time / torch's (<= 1.0 is as fast or faster)"
    )
    if args.train:
        eager, compiled = _train_wall_time(True), _train_wall_time(False)
        print(f"autodiff train moons: eager {eager:.1f} s, compiled {compiled:.1f} s")


if __name__ == "__main__":
    main()
