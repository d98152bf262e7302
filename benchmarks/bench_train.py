"""Whole training runs, each in its own process: moons and the 8x8 digits, every path.

Run by hand (not a test):

    python benchmarks/bench_train.py              # every run 3 times, medians
    python benchmarks/bench_train.py --repeat 1   # once each, rougher
    python benchmarks/bench_train.py --only "compiled numpy,torch,cli"   # some runs only

Two setups, the same for every engine (architecture, initialisation scheme,
optimiser, epochs, batch size, float64, one thread):

- moons, ``autodiff train moons``'s defaults: 200 points (noise 0.1, seed 0), a
  seeded 75/25 split, MLP 2-16-16-1 (ReLU, weights U(-1, 1), biases 0), mean hinge
  loss, SGD lr 0.1, 40 epochs, batches of 16.
- digits, ``autodiff train digits``'s defaults: the 1,797 images, a seeded 75/25
  split, MLP 64-32-10 (ReLU, Xavier-uniform weights, biases 0), softmax
  cross-entropy, Adam lr 0.01, 20 epochs, batches of 32.

Runs: ``fit(compile=True)`` on the numpy and on the Python backend, eager ``fit``,
micrograd 0.1.0 (moons only: it has no cross-entropy), and an idiomatic PyTorch loop
(skipped where torch is not importable). Eager digits is measured on 2 epochs and
scaled to 20 (marked "~"): the whole run would take minutes. Also the whole process
of ``autodiff train moons --no-plot`` and ``autodiff train digits``.

Reported per run: training time (``fit`` or the loop, compile included, accuracy
measured inside fit included; data loading and model building not), the whole
process's wall time (interpreter start and imports included), test accuracy, peak
memory (max RSS) and the training time's ratio to PyTorch's loop.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SETUPS = {
    "moons": {"epochs": 40, "batch": 16, "hidden": [16, 16], "lr": 0.1},
    "digits": {"epochs": 20, "batch": 32, "hidden": [32], "lr": 0.01},
}
RUNS = {
    "moons": ["compiled numpy", "compiled python", "eager", "micrograd", "torch"],
    "digits": ["compiled numpy", "compiled python", "eager", "torch"],
}
EAGER_DIGITS_EPOCHS = 2  # scaled to 20 in the table


# the data, the same for every engine ------------------------------------------------


def _data(setup: str):
    sys.path.insert(0, str(ROOT))
    import nn

    if setup == "moons":
        X, y = nn.make_moons(200, noise=0.1, seed=0)
        y = [2 * t - 1 for t in y]  # hinge labels
    else:
        X, y = nn.load_digits()
    return nn.train_test_split(X, y, test_size=0.25, seed=0)


# one run, in this process ----------------------------------------------------------


def _run_autodiff(setup: str, how: str) -> tuple[float, float]:
    import nn

    X_train, X_test, y_train, y_test = _data(setup)
    config = SETUPS[setup]
    epochs = config["epochs"]
    rng = random.Random(0)
    if setup == "moons":
        model = nn.MLP(2, [*config["hidden"], 1], rng=rng)
        optimizer = nn.SGD(model.parameters(), lr=config["lr"])
        loss = nn.losses.hinge
    else:
        model = nn.MLP(64, [*config["hidden"], 10], init="xavier", rng=rng)
        optimizer = nn.Adam(model.parameters(), lr=config["lr"])
        loss = nn.losses.cross_entropy
        if how == "eager":
            epochs = EAGER_DIGITS_EPOCHS
    if how == "compiled python":
        import nn.compiled

        nn.compiled.numpy_available = lambda: False  # the per-sample tape on Python
    start = time.perf_counter()
    history = nn.fit(model, X_train, y_train, loss=loss, optimizer=optimizer, epochs=epochs,
                     batch_size=config["batch"], progress=False, rng=rng,
                     compile=how != "eager")  # fmt: skip
    seconds = time.perf_counter() - start
    expected = "eager" if how == "eager" else f"compiled ({how.split()[1]} backend)"
    assert history.path == expected, history.path
    return seconds * config["epochs"] / epochs, nn.accuracy(model, X_test, y_test)


def _run_micrograd(setup: str) -> tuple[float, float]:
    from micrograd.engine import Value
    from micrograd.nn import MLP

    X_train, X_test, y_train, y_test = _data(setup)
    config = SETUPS[setup]
    random.seed(0)  # micrograd draws its weights from Python's random
    model = MLP(2, [*config["hidden"], 1])
    rng = random.Random(0)
    order = list(range(len(X_train)))
    start = time.perf_counter()
    for _ in range(config["epochs"]):
        rng.shuffle(order)
        for first in range(0, len(order), config["batch"]):
            batch = order[first : first + config["batch"]]
            scores = [model([Value(v) for v in X_train[i]]) for i in batch]
            margins = [(1 + -y_train[i] * s).relu() for i, s in zip(batch, scores, strict=True)]
            loss = sum(margins) * (1.0 / len(margins))
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= config["lr"] * p.grad
    seconds = time.perf_counter() - start
    right = sum((model(x).data > 0) == (t > 0) for x, t in zip(X_test, y_test, strict=True))
    return seconds, right / len(X_test)


def _run_torch(setup: str) -> tuple[float, float]:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    X_train, X_test, y_train, y_test = _data(setup)
    config = SETUPS[setup]
    widths = [2 if setup == "moons" else 64, *config["hidden"], 1 if setup == "moons" else 10]
    layers: list[torch.nn.Module] = []
    for k in range(len(widths) - 1):
        linear = torch.nn.Linear(widths[k], widths[k + 1], dtype=torch.float64)
        with torch.no_grad():
            if setup == "moons":
                linear.weight.uniform_(-1.0, 1.0)  # micrograd's U(-1, 1), as nn.MLP's default
            else:
                torch.nn.init.xavier_uniform_(linear.weight)
            linear.bias.zero_()
        layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])  # no ReLU after the last layer
    X = torch.tensor(X_train, dtype=torch.float64)
    if setup == "moons":
        y = torch.tensor(y_train, dtype=torch.float64)
        optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"])
    else:
        y = torch.tensor(y_train)
        optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    start = time.perf_counter()
    for _ in range(config["epochs"]):
        order = torch.randperm(len(X))
        for first in range(0, len(X), config["batch"]):
            batch = order[first : first + config["batch"]]
            out = model(X[batch])
            if setup == "moons":
                loss = torch.relu(1 - y[batch] * out[:, 0]).mean()
            else:
                loss = torch.nn.functional.cross_entropy(out, y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        out = model(torch.tensor(X_test, dtype=torch.float64))
        if setup == "moons":
            predicted = [1 if s > 0 else -1 for s in out[:, 0].tolist()]
        else:
            predicted = out.argmax(1).tolist()
    right = sum(p == t for p, t in zip(predicted, y_test, strict=True))
    return seconds, right / len(y_test)


def _child(setup: str, how: str) -> None:
    if how == "torch":
        seconds, test_accuracy = _run_torch(setup)
    elif how == "micrograd":
        seconds, test_accuracy = _run_micrograd(setup)
    else:
        seconds, test_accuracy = _run_autodiff(setup, how)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"train": seconds, "accuracy": test_accuracy, "peak_mb": peak_mb}))


# the suite: every run in a process of its own ------------------------------------------


def _available(module: str) -> bool:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return done.returncode == 0


def _spawn(args: list[str]) -> tuple[float, str]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return wall, done.stdout


def _autodiff_command() -> list[str]:
    return [sys.executable, "-m", "autodiff"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median)")
    parser.add_argument(
        "--only", help="comma-separated runs to time (e.g. 'compiled numpy,torch,cli')"
    )
    parser.add_argument("--child", nargs=2, metavar=("SETUP", "RUN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    have = {"torch": _available("torch"), "micrograd": _available("micrograd")}
    only = None if args.only is None else {name.strip() for name in args.only.split(",")}
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores; "
          f"medians of {args.repeat} runs, each in its own process")  # fmt: skip
    rows = []
    for setup, runs in RUNS.items():
        results = {}
        for how in runs:
            if only is not None and how not in only:
                continue
            if how in have and not have[how]:
                print(f"  {setup} / {how}: skipped ({how} is not importable)")
                continue
            samples = []
            for _ in range(args.repeat):
                wall, out = _spawn([sys.executable, __file__, "--child", setup, how])
                samples.append({**json.loads(out.strip().splitlines()[-1]), "wall": wall})
            results[how] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
        cli = _autodiff_command() + ["train", setup, "--no-progress"]
        if setup == "moons":
            cli.append("--no-plot")
        if only is None or "cli" in only:
            walls = [_spawn(cli)[0] for _ in range(args.repeat)]
            results[f"autodiff train {setup}"] = {"wall": statistics.median(walls)}
        torch_time = results.get("torch", {}).get("train")
        for how, r in results.items():
            rows.append((setup, how, r, torch_time))
    print()
    print("| data | run | training (s) | ratio to PyTorch | whole process (s) "
          "| test accuracy | peak memory (MB) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for setup, how, r, torch_time in rows:
        approx = "~" if setup == "digits" and how == "eager" else ""
        train = f"{approx}{r['train']:.2f}" if "train" in r else "-"
        ratio = f"{approx}{r['train'] / torch_time:.1f}x" if "train" in r and torch_time else "-"
        accuracy = f"{r['accuracy']:.1%}" if "accuracy" in r else "-"
        peak = f"{r['peak_mb']:.0f}" if "peak_mb" in r else "-"
        print(f"| {setup} | {how} | {train} | {ratio} | {r['wall']:.2f} | {accuracy} | {peak} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
