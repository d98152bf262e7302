"""The `autodiff` command line. The one module that may use both autodiff and nn.

``main`` returns the exit status and never lets a traceback reach the user: usage
errors are one line (exit 2), a closed pipe ends the output quietly (exit 0, as for
other Unix tools under ``| head``), Ctrl-C prints one line (exit 130), a failing
stdout (disk full, I/O error) one line (exit 1), and a terminal that cannot show a
character gets an ASCII stand-in ("*" for "·").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from autodiff.core.value import Value
from autodiff.frontend import trace_command
from autodiff.frontend.expr import ExpressionError, evaluate_expression, parse_bindings
from autodiff.frontend.expression_arguments import (
    add_expression_arguments,
    expression_help,
)
from autodiff.frontend.expression_arguments import fail as _fail
from autodiff.frontend.terminal import (
    ClosedStream,
    UsageParser,
    discard_stdout,
    fall_back_to_ascii,
    leading_minus_hint,
    say,
)
from autodiff.readers import drawing
from autodiff.readers.drawing import RANKDIRS, GraphTooLarge, GraphvizError, render
from autodiff.readers.frames import check_frames_folder, render_backward_steps
from autodiff.readers.renderers import check_file_target


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line (``sys.argv[1:]`` by default) and return its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if sys.stdout is None:  # started with stdout closed
        sys.stdout = ClosedStream()
    for stream in (sys.stdout, sys.stderr):
        fall_back_to_ascii(stream)
    prog = "autodiff"
    try:
        parser = build_parser()
        UsageParser.hint = leading_minus_hint(argv)
        try:
            args = _parse(parser, argv)
            prog = f"autodiff {args.command}" if args.command else prog
            if args.command is None:
                parser.print_help()
                code = 0
            else:
                code = args.run(args)
        except SystemExit as done:  # argparse's --help, --version and usage errors
            code = done.code if isinstance(done.code, int) else int(done.code is not None)
        finally:
            UsageParser.hint = ""
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
        return code
    except KeyboardInterrupt:
        pass  # reported below
    except BrokenPipeError:  # the reader went away (| head): stop quietly, as Unix tools do
        discard_stdout()
        return 0
    except OSError as error:  # files are handled by each command: this is stdout failing
        discard_stdout()
        say(f"{prog}: error: cannot write the output: {error.strerror or error}")
        return 1
    # Ctrl-C, reported after the handler: the interrupted frames are gone by now and a
    # progress bar has closed its line, so the message stands on a line of its own
    say(f"{prog}: interrupted")
    return 130


def build_parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="autodiff",
        description="A scalar autodiff engine for learning how backpropagation works.",
    )
    parser.add_argument(
        "--version", action=_Version, help="print the version and the Graphviz renderer, and exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_walkthrough(sub)
    _add_grad(sub)
    _add_graph(sub)
    _add_train(sub)
    trace_command.add_parser(sub)
    return parser


def _add_walkthrough(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "walkthrough",
        help="the source article's 2-2-2 network, backpropagated step by step",
        description="Work the article's example: forward pass, cost, every gradient as a "
        "chain of factors, one SGD step, and the article's published numbers vs computed.",
    )
    p.add_argument(
        "--convention",
        choices=["correct", "article"],
        default="correct",
        help="sigmoid derivative: the chain rule's o(1-o) (default) or the article's "
        "sigma(o)(1-sigma(o)), which reproduces its published numbers",
    )
    p.add_argument("--json", action="store_true", help="print every number as JSON")
    p.add_argument("--lr", type=_learning_rate, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--steps", type=_positive_int, default=1, help="SGD steps (default 1)")
    p.add_argument(
        "--render", metavar="PATH", type=_path, help="draw the graph after backward (.svg, .png...)"
    )
    p.add_argument(
        "--frames", metavar="DIR", type=_path, help="write the backward pass as teaching frames"
    )
    _add_rankdir(p)
    _add_timeout(p)
    p.set_defaults(run=_run_walkthrough, parser=p)


def _learning_rate(text: str) -> float:
    try:
        lr = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(lr) and lr > 0):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return lr


def _int_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse type: an int >= minimum, else one line saying ``what`` was expected."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = minimum - 1
        if n < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return n

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_node_limit = _int_at_least(0, "a whole number >= 0")


def _run_walkthrough(args: argparse.Namespace) -> int:
    from nn import article
    from nn.article_report import report

    if _outputs_refused(args):
        return 2
    result = article.walkthrough(args.convention, lr=args.lr, steps=args.steps)
    if args.json:
        print(json.dumps(article.to_json(result), indent=2))
    else:
        # the published numbers were computed at the article's learning rate
        same = args.lr == article.LEARNING_RATE
        reference = result if same else article.walkthrough(args.convention)
        other = article.walkthrough("article") if args.convention == "correct" else None
        print(report(result, reference, other), end="")
    if args.render or args.frames:
        net = article.forward(*article.build_network(args.convention))
        net.cost.backward()
        return _draw(args, net.cost, article.graph_groups(net))
    return 0


def _add_rankdir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rankdir", choices=RANKDIRS, default="LR", help="layout direction (LR)")


def _path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file or folder name, got an empty one")
    return text


def _add_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout", type=_seconds, default=20.0, help="Graphviz time limit in s (20); 0: none"
    )


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not seconds >= 0.0 or math.isinf(seconds):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return seconds


def _draw(args: argparse.Namespace, root: Value, groups: dict | None = None) -> int:
    """--render PATH and --frames DIR of walkthrough and grad; 0, or 2 after one line.
    ``groups`` draws those Values as labelled clusters (the walkthrough's neurons)."""
    limit = getattr(args, "max_nodes", None)
    options: dict = {} if limit is None else {"max_nodes": limit or None}  # 0: no limit
    options["timeout"] = args.timeout or None  # 0: no limit
    if groups:
        options["groups"] = groups
    try:
        _check_outputs(args)
        if args.render:
            try:
                path = render(root, args.render, rankdir=args.rankdir, **options)
            except OSError as error:
                raise _FileError(args.render, error) from None
            _note(args.command, f"wrote {path}")
        if args.frames:
            try:
                index = render_backward_steps(root, args.frames, rankdir=args.rankdir, **options)
            except OSError as error:
                raise _FileError(args.frames, error) from None
            _note(args.command, f"wrote the backward pass, step by step: {index}")
    except GraphTooLarge as error:
        if not hasattr(args, "max_nodes"):
            return _fail(args.command, error)
        return _fail(args.command, f"{error} (here: --max-nodes N, or 0 for no limit)")
    except (_FileError, GraphvizError, ValueError) as error:
        return _fail(args.command, error)
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """Every path to write, checked before any work (a bad one costs no time)."""
    if getattr(args, "render", None):
        try:
            check_file_target(Path(args.render))
        except OSError as error:
            raise _FileError(args.render, error) from None
    if getattr(args, "frames", None):
        try:
            check_frames_folder(Path(args.frames))
        except OSError as error:
            raise _FileError(args.frames, error) from None


def _outputs_refused(args: argparse.Namespace) -> bool:
    """True after one line when a path to write is bad: said before any result is printed,
    so a refused command's stdout is empty."""
    try:
        _check_outputs(args)
    except _FileError as error:
        _fail(args.command, error)
        return True
    return False


class _FileError(Exception):
    """A file or folder the user named could not be written: names their path, not ours."""

    def __init__(self, path: str | os.PathLike[str], error: OSError) -> None:
        blocker = _file_in_the_way(Path(path))
        if blocker:
            reason = f"{blocker} is a file, not a folder"
        else:
            reason = error.strerror or str(error)
            if reason.startswith("cannot write ") and ": " in reason:
                reason = reason.split(": ", 1)[1]  # the library named the path already
        super().__init__(f"cannot write {os.fspath(path)}: {reason}")


def _file_in_the_way(path: Path) -> Path | None:
    """The first folder of ``path`` that is in fact a file ("File exists" says too little)."""
    for folder in reversed(path.parents):
        try:
            if folder.is_file():
                return folder
        except OSError:
            return None
    return None


# autodiff grad / autodiff graph: an expression from the command line


def _add_grad(sub: Any) -> None:
    p = sub.add_parser(
        "grad",
        help="the value of an expression and its gradient with respect to each variable",
        description="Print the value of EXPR and d(EXPR)/dNAME for each NAME=VALUE.",
        epilog=expression_help() + ' Example: autodiff grad "tanh(w*x + b)" w=0.5 x=2 b=-1',
    )
    add_expression_arguments(p)
    p.add_argument(
        "--json", action="store_true", help='print {"value": v, "gradients": {"x": ...}}'
    )
    p.add_argument(
        "--render", metavar="PATH", type=_path, help="also draw the graph (.svg .png .pdf .dot)"
    )
    p.add_argument(
        "--frames", metavar="DIR", type=_path, help="also write the backward pass as frames"
    )
    _add_rankdir(p)
    p.add_argument(
        "--max-nodes",
        type=_node_limit,
        metavar="N",
        help="refuse to draw larger graphs (default 2000, frames 200); 0: no limit",
    )
    _add_timeout(p)
    p.set_defaults(run=_run_grad, parser=p)


def _add_graph(sub: Any) -> None:
    p = sub.add_parser(
        "graph",
        help="draw the computation graph of an expression, with gradients",
        description="Draw EXPR's graph after the backward pass, with Graphviz.",
        epilog=expression_help() + ' Example: autodiff graph "x*y + x" x=2 y=3 -o graph.svg',
    )
    add_expression_arguments(p)
    p.add_argument(
        "-o", "--output", metavar="PATH", type=_path, required=True, help=".svg .png .pdf or .dot"
    )
    _add_rankdir(p)
    p.add_argument("--no-grad", action="store_true", help="draw values only, no backward pass")
    p.add_argument("--precision", type=int, default=4, help="decimals shown (4)")
    p.add_argument("--color-grad", action="store_true", help="tint gradients by sign and size")
    p.add_argument("--local", action="store_true", help="write local derivatives on the edges")
    p.add_argument(
        "--max-nodes", type=_node_limit, default=2000, help="refuse larger graphs; 0: no limit"
    )
    _add_timeout(p)
    p.set_defaults(run=_run_graph, parser=p)


def _run_grad(args: argparse.Namespace) -> int:
    try:
        out, gradients = _differentiate(args)
    except ExpressionError as error:
        return _fail("grad", error)
    if _outputs_refused(args):
        return 2
    if args.json:
        report = {"value": _json_number(out.data), "gradients": {}}
        report["gradients"] = {name: _json_number(g) for name, g in gradients.items()}
        print(json.dumps(report))
    else:
        print(f"value = {out.data!r}")
        for name, g in gradients.items():
            print(f"d/d{name} = {g!r}")
    return _draw(args, out)


def _run_graph(args: argparse.Namespace) -> int:
    try:
        out, _ = _differentiate(args, backward=not args.no_grad)
    except ExpressionError as error:
        return _fail("graph", error)
    try:
        path = render(
            out,
            args.output,
            rankdir=args.rankdir,
            precision=args.precision,
            show_grad=not args.no_grad,
            color_grad=args.color_grad,
            show_local=args.local,
            max_nodes=args.max_nodes or None,
            timeout=args.timeout or None,
        )
    except GraphTooLarge as error:
        return _fail("graph", f"{error} (here: --max-nodes N, or 0 for no limit)")
    except OSError as error:
        return _fail("graph", _FileError(args.output, error))
    except (GraphvizError, ValueError) as error:
        return _fail("graph", error)
    _note("graph", f"wrote {path}")
    return 0


def _differentiate(args: argparse.Namespace, backward: bool = True) -> tuple[Value, dict]:
    """EXPR's output Value and {NAME: d(EXPR)/dNAME} in the order NAME=VALUE were given."""
    values = parse_bindings(args.bindings)
    out, leaves = evaluate_expression(args.expression, values)
    unused = [name for name in values if name not in leaves]
    for name in unused:
        _note(args.command, f"warning: {name} does not appear in EXPR (its gradient is 0)")
    if backward:
        out.backward()
    return out, {name: leaves[name].grad if name in leaves else 0.0 for name in values}


def _json_number(x: float) -> float | str:
    """Non-finite numbers as the strings "NaN", "Infinity", "-Infinity" (strict JSON has
    no such numbers; both Python's float() and JavaScript's Number() read these)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def _note(command: str, message: str) -> None:
    say(f"autodiff {command}: {message}")


# autodiff train ------------------------------------------------------------------

# noise of each toy data set, and the default learning rate of each optimiser
_TRAIN_NOISE = {"moons": 0.1, "circles": 0.08, "xor": 0.0}
_TRAIN_LR = {"sgd": 0.1, "adam": 0.02}
# the defaults that differ between the toy sets and the digits
_TOY_DEFAULTS = {"epochs": 40, "hidden": "16,16", "optimizer": "sgd", "batch_size": 16}
_DIGITS_DEFAULTS = {"epochs": 20, "hidden": "32", "optimizer": "adam", "batch_size": 32}
_DIGITS_LR = 0.01


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train an MLP on a toy 2-D data set or the 8x8 digits and report its accuracy",
        description=(
            "Train an MLP on a seeded 75/25 training split and report train and held-out "
            "test accuracy. Toy sets (moons, circles, xor): hinge loss, labels -1/+1, "
            "linear output; the decision boundary is saved as a PNG (needs matplotlib: the "
            "plot extra). digits (1,797 8x8 images of 0-9, shipped with the package): "
            "softmax cross-entropy, a 10x10 confusion matrix, and with --plot a page of "
            "test digits with their predictions and the loss curve."
        ),
    )
    p.add_argument("dataset", choices=["moons", "circles", "xor", "digits"])
    p.add_argument("--epochs", type=int, help="passes over the data (toy sets 40, digits 20)")
    p.add_argument("--hidden", help="hidden widths, comma-separated (toy sets 16,16, digits 32)")
    p.add_argument("--activation", default="relu", choices=["relu", "tanh", "sigmoid", "linear"])
    p.add_argument("--lr", type=float, help="learning rate (sgd 0.1, adam 0.02; digits 0.01)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], help="toy sets sgd, digits adam")
    p.add_argument("--batch-size", type=int, help="samples per step (toy sets 16, digits 32)")
    p.add_argument("--samples", type=int, help="toy data set size (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of data, split and weights")
    plot = p.add_mutually_exclusive_group()
    plot.add_argument(
        "--plot",
        metavar="PATH",
        type=_path,
        help="PNG path (toy sets: default DATASET-boundary.png; digits: only when given)",
    )
    plot.add_argument("--no-plot", action="store_true", help="do not draw the picture")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--eager", action="store_true", help="train eagerly, not compiled")
    p.set_defaults(run=_run_train, parser=p)


def _run_train(args: argparse.Namespace) -> int:
    from nn.plot import PLOT_FORMATS, MissingMatplotlib, require_matplotlib

    digits = args.dataset == "digits"
    for name, value in (_DIGITS_DEFAULTS if digits else _TOY_DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    try:
        hidden = _parse_widths(args.hidden)
        if digits and args.samples is not None:
            raise ValueError("--samples sets a toy data set's size; digits has its 1,797 images")
        if args.samples is None:
            args.samples = 200
        for name, value, low in (
            ("--epochs", args.epochs, 1),
            ("--batch-size", args.batch_size, 1),
            ("--samples", args.samples, 8),
        ):
            if value < low:
                raise ValueError(f"{name} must be at least {low}, got {value}")
        default_lr = _DIGITS_LR if digits and args.optimizer == "adam" else None
        lr = args.lr if args.lr is not None else default_lr or _TRAIN_LR[args.optimizer]
        if not lr > 0.0 or lr == float("inf"):
            raise ValueError(f"--lr must be a positive number, got {lr}")
        default_plot = None if digits else f"{args.dataset}-boundary.png"
        plot_path = None if args.no_plot else (args.plot or default_plot)
        if plot_path is not None:
            if os.path.isdir(plot_path):
                raise ValueError(f"--plot {plot_path} is a folder; give a file name like b.png")
            ext = os.path.splitext(plot_path)[1].lower().lstrip(".")
            if ext not in PLOT_FORMATS:
                raise ValueError(f"--plot {plot_path} should end in .png, .svg or .pdf")
            try:  # before training, so a bad path costs no time
                check_file_target(Path(plot_path))
            except OSError as error:
                raise _FileError(plot_path, error) from None
            require_matplotlib()
    except MissingMatplotlib as e:
        if args.plot:  # asked for: fail now rather than after training
            return _fail("train", f"--plot needs matplotlib: {e}")
        _note("train", f"no plot: {e}")  # the default plot is skipped, training goes on
        plot_path = None
    except (ValueError, _FileError) as e:
        return _fail("train", e)
    if digits:
        return _train_digits(args, hidden, lr, plot_path)
    return _train_toy(args, hidden, lr, plot_path)


def _train_toy(
    args: argparse.Namespace, hidden: list[int], lr: float, plot_path: str | None
) -> int:
    import nn
    from nn.plot import decision_boundary

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
        f"{args.optimizer} lr {lr:g}, {_epochs(args.epochs)}, batches of {args.batch_size}"
    )
    history = nn.fit(
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
        compile=not args.eager,
    )
    print(f"trained: {history.path}")
    print(f"train accuracy: {nn.accuracy(model, X_train, y_train):.1%}")
    print(f"test accuracy: {nn.accuracy(model, X_test, y_test):.1%} (held-out split)")
    if plot_path is None:
        return 0
    try:
        decision_boundary(model, X, y, plot_path, title=f"{args.dataset}: {model}")
    except OSError as e:
        return _fail("train", _FileError(plot_path, e))
    except ValueError as e:
        return _fail("train", f"cannot write the plot to {plot_path}: {e}")
    print(f"decision boundary saved to {plot_path}")
    return 0


def _epochs(n: int) -> str:
    return "1 epoch" if n == 1 else f"{n} epochs"


def _train_digits(
    args: argparse.Namespace, hidden: list[int], lr: float, plot_path: str | None
) -> int:
    import nn

    X, y = nn.load_digits()
    X_train, X_test, y_train, y_test = nn.train_test_split(X, y, test_size=0.25, seed=args.seed)
    rng = random.Random(args.seed)
    model = nn.MLP(64, [*hidden, 10], activation=args.activation, init="xavier", rng=rng)
    optimizer_class = nn.SGD if args.optimizer == "sgd" else nn.Adam
    optimizer = optimizer_class(model.parameters(), lr=lr)
    print(
        f"digits: {len(X_train)} training and {len(X_test)} test images (8x8); {model}; "
        f"softmax cross-entropy; {args.optimizer} lr {lr:g}, {_epochs(args.epochs)}, "
        f"batches of {args.batch_size}"
    )
    if not args.eager and not nn.compiled.numpy_available():
        # said before the wait: digits take about 10 s on the Python backend, 0.7 s on numpy
        _note(
            "train",
            "numpy is not installed: the compiled run uses the Python backend, several times "
            'slower; pip install "autodiff-scalar[fast]" for the numpy one',
        )
    history = nn.fit(
        model,
        X_train,
        y_train,
        loss=nn.losses.cross_entropy,
        optimizer=optimizer,
        epochs=args.epochs,
        batch_size=args.batch_size,
        progress=not args.no_progress,
        rng=rng,
        compile=not args.eager,
    )
    print(f"trained: {history.path}")
    print(f"train accuracy: {nn.accuracy(model, X_train, y_train):.1%}")
    matrix = nn.confusion_matrix(model, X_test, y_test, classes=10)
    right = sum(matrix[k][k] for k in range(10))
    print(f"test accuracy: {right / len(y_test):.1%} (held-out split)")
    print("confusion matrix (test images; rows: true digit, columns: predicted):")
    print("       " + "".join(f"{k:>4}" for k in range(10)))
    for k, row in enumerate(matrix):
        print(f"  {k:>3}  " + "".join(f"{c:>4}" if c else "   ." for c in row))
    if plot_path is None:
        return 0
    from nn.plot import digit_predictions

    try:
        predicted = nn.predict(model, X_test)
        digit_predictions(
            X_test, y_test, predicted, history.loss, plot_path, title=f"digits: {model}"
        )
    except OSError as e:
        return _fail("train", _FileError(plot_path, e))
    except ValueError as e:
        return _fail("train", f"cannot write the plot to {plot_path}: {e}")
    print(f"test digits and their predictions saved to {plot_path}")
    return 0


def _parse_widths(text: str) -> list[int]:
    try:
        widths = [int(part) for part in text.split(",")] if text.strip() else []
    except ValueError:
        widths = []
    if not widths or min(widths) < 1:
        raise ValueError(f"--hidden expected positive widths like 16,16, got {text!r}")
    return widths


# --version, and arguments no parser took


class _Version(argparse.Action):
    """--version: the package version, Python's, and the Graphviz renderer to be used."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None):
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        import autodiff

        print(f"autodiff {autodiff.__version__} (Python {platform.python_version()})")
        print(f"renderer: {drawing.renderer()}")
        parser.exit(0)


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    args, extra = parser.parse_known_args(argv)
    if extra:  # reported by the subcommand's parser, with its usage
        getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    return args


if __name__ == "__main__":
    sys.exit(main())
