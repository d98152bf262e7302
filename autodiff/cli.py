"""The `autodiff` command line. The one module that may use both autodiff and nn."""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autodiff",
        description="A scalar autodiff engine for learning how backpropagation works.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_train(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)


# autodiff train ------------------------------------------------------------------

# noise of each toy data set, and the default learning rate of each optimiser
_TRAIN_NOISE = {"moons": 0.1, "circles": 0.08, "xor": 0.0}
_TRAIN_LR = {"sgd": 0.1, "adam": 0.02}


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train an MLP on a toy 2-D data set and plot its decision boundary",
        description=(
            "Train an MLP (hinge loss, labels -1/+1, linear output) on a seeded training "
            "split of a toy data set, report train and held-out test accuracy, and save "
            "the decision boundary as a PNG (needs matplotlib: the plot extra)."
        ),
    )
    p.add_argument("dataset", choices=["moons", "circles", "xor"])
    p.add_argument("--epochs", type=int, default=40, help="passes over the data (default 40)")
    p.add_argument("--hidden", default="16,16", help="hidden widths, comma-separated (16,16)")
    p.add_argument("--activation", default="relu", choices=["relu", "tanh", "sigmoid", "linear"])
    p.add_argument("--lr", type=float, help="learning rate (sgd 0.1, adam 0.02)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--batch-size", type=int, default=16, help="samples per step (default 16)")
    p.add_argument("--samples", type=int, default=200, help="data set size (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of data, split and weights")
    plot = p.add_mutually_exclusive_group()
    plot.add_argument("--plot", metavar="PATH", help="PNG path (default DATASET-boundary.png)")
    plot.add_argument("--no-plot", action="store_true", help="do not draw the boundary")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(run=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    import nn
    from nn.plot import MissingMatplotlib, decision_boundary

    try:
        hidden = _parse_widths(args.hidden)
        for name, value, low in (
            ("--epochs", args.epochs, 1),
            ("--batch-size", args.batch_size, 1),
            ("--samples", args.samples, 8),
        ):
            if value < low:
                raise ValueError(f"{name} must be at least {low}, got {value}")
        lr = _TRAIN_LR[args.optimizer] if args.lr is None else args.lr
        if not lr > 0.0 or lr == float("inf"):
            raise ValueError(f"--lr must be a positive number, got {lr}")
        plot_path = None if args.no_plot else (args.plot or f"{args.dataset}-boundary.png")
        if plot_path is not None:
            folder = os.path.dirname(os.path.abspath(plot_path))
            if not os.path.isdir(folder):
                raise ValueError(f"cannot write the plot to {plot_path}: no folder {folder}")
    except ValueError as e:
        print(f"autodiff train: {e}", file=sys.stderr)
        return 2

    make = {"moons": nn.make_moons, "circles": nn.make_circles, "xor": nn.make_xor}[args.dataset]
    X, y = make(args.samples, noise=_TRAIN_NOISE[args.dataset], seed=args.seed)
    y = [2 * t - 1 for t in y]  # hinge loss labels
    X_train, X_test, y_train, y_test = nn.train_test_split(X, y, test_size=0.25, seed=args.seed)
    rng = random.Random(args.seed)
    model = nn.MLP(2, [*hidden, 1], activation=args.activation, rng=rng)
    optimizer_class = nn.SGD if args.optimizer == "sgd" else nn.Adam
    optimizer = optimizer_class(model.parameters(), lr=lr)
    print(
        f"{args.dataset}: {len(X_train)} training and {len(X_test)} test samples; {model}; "
        f"{args.optimizer} lr {lr:g}, {args.epochs} epochs, batches of {args.batch_size}"
    )
    nn.fit(
        model,
        X_train,
        y_train,
        loss=nn.losses.hinge,
        optimizer=optimizer,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation=(X_test, y_test),
        progress=not args.no_progress,
        rng=rng,
    )
    print(f"train accuracy: {nn.accuracy(model, X_train, y_train):.1%}")
    print(f"test accuracy: {nn.accuracy(model, X_test, y_test):.1%} (held-out split)")
    if plot_path is None:
        return 0
    try:
        decision_boundary(model, X, y, plot_path, title=f"{args.dataset}: {model}")
    except MissingMatplotlib as e:
        print(f"no plot: {e}", file=sys.stderr)
        return 0
    except OSError as e:
        print(f"autodiff train: cannot write the plot to {plot_path}: {e}", file=sys.stderr)
        return 2
    print(f"decision boundary saved to {plot_path}")
    return 0


def _parse_widths(text: str) -> list[int]:
    try:
        widths = [int(part) for part in text.split(",")] if text.strip() else []
    except ValueError:
        widths = []
    if not widths or min(widths) < 1:
        raise ValueError(f"--hidden expected positive widths like 16,16, got {text!r}")
    return widths


if __name__ == "__main__":
    sys.exit(main())
