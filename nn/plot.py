"""Pictures of trained classifiers (need matplotlib: the ``plot`` extra): the decision
boundary of a 2-D classifier, and a page of digit images with their predictions.

matplotlib is imported only when a plot is drawn, and drawn on the non-interactive
Agg canvas directly, so no window opens and pyplot's global backend is untouched.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from autodiff import Value, no_grad
from nn.metrics import Model, _label_class, default_threshold, predict

INSTALL_HINT = 'matplotlib is not installed; install it with: pip install "autodiff-scalar[plot]"'


class MissingMatplotlib(ImportError):
    """matplotlib is needed for this and is not installed."""


PLOT_FORMATS = ("png", "svg", "pdf")


def decision_boundary(
    model: Model,
    X: Sequence[Sequence[float]],
    y: Sequence[Any],
    path: str | os.PathLike[str],
    resolution: int = 60,
    threshold: float | None = None,
    title: str | None = None,
) -> None:
    """Save a PNG of the model's predicted class over the plane, with the samples.

    The plane is a ``resolution`` x ``resolution`` grid covering the samples plus a
    margin; each grid point is classified as ``nn.accuracy`` does. Raises
    MissingMatplotlib (an ImportError) with the install command if needed.
    """
    Figure, FigureCanvasAgg = _matplotlib()
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution expected an int >= 2, got {resolution!r}")
    if len(X) == 0 or any(len(x) != 2 for x in X):
        raise ValueError("decision_boundary expected a non-empty list of 2-D points")
    if threshold is None:
        threshold = default_threshold(model)
    xs = _span([x[0] for x in X], resolution)
    ys = _span([x[1] for x in X], resolution)
    grid = [[a, b] for b in ys for a in xs]
    predicted = predict(model, grid, threshold)  # compiled when the model compiles
    classes = [predicted[k * len(xs) : (k + 1) * len(xs)] for k in range(len(ys))]
    with no_grad():
        first = model([Value(X[0][0]), Value(X[0][1])])  # tells how labels are read
    labels = [_label_class(first, t) for t in y]
    n_classes = max(max(max(row) for row in classes), max(labels)) + 1
    colors = {"cmap": "coolwarm", "vmin": 0, "vmax": max(n_classes - 1, 1)}

    fig = Figure(figsize=(5, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    levels = [k - 0.5 for k in range(n_classes + 1)]
    ax.contourf(xs, ys, classes, levels=levels, alpha=0.35, **colors)
    px, py = [x[0] for x in X], [x[1] for x in X]
    ax.scatter(px, py, c=labels, s=18, edgecolors="k", linewidths=0.5, **colors)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=100, format=_format(path))


def digit_predictions(
    images: Sequence[Sequence[float]],
    labels: Sequence[int],
    predicted: Sequence[int],
    loss_curve: Sequence[float],
    path: str | os.PathLike[str],
    title: str | None = None,
    columns: int = 10,
    rows: int = 5,
) -> None:
    """Save a page: a grid of 8x8 images with the predicted digit over each (the true one
    beside it, in red with a red frame, where they differ), and the loss per epoch.

    The grid shows every mistake first (up to half of it), then images predicted right,
    each group in the order given. Pixels are in [0, 1] (ink = 1), 64 per image.
    """
    Figure, FigureCanvasAgg = _matplotlib()
    if not len(images) == len(labels) == len(predicted) > 0:
        raise ValueError(
            f"digit_predictions: {len(images)} images, {len(labels)} labels and "
            f"{len(predicted)} predictions should be as many, and not none"
        )
    if any(len(image) != 64 for image in images):
        raise ValueError("digit_predictions expected images of 64 pixels (8x8)")
    if not loss_curve:
        raise ValueError("digit_predictions expected a loss per epoch, got none")
    cells = columns * rows
    wrong = [i for i in range(len(images)) if labels[i] != predicted[i]]
    right = [i for i in range(len(images)) if labels[i] == predicted[i]]
    shown = (wrong[: cells // 2] + right)[:cells]

    fig = Figure(figsize=(columns * 0.9 + 4.2, rows * 1.0 + 0.9))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(rows, columns + 5, wspace=0.15, hspace=0.45)
    for cell, i in enumerate(shown):
        ax = fig.add_subplot(grid[cell // columns, cell % columns])
        pixels = [list(images[i][r * 8 : r * 8 + 8]) for r in range(8)]
        ax.imshow(pixels, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if labels[i] == predicted[i]:
            ax.set_title(str(predicted[i]), fontsize=11, pad=2)
        else:
            ax.set_title(f"{predicted[i]} (true {labels[i]})", fontsize=9, color="red", pad=2)
            for side in ax.spines.values():
                side.set_edgecolor("red")
                side.set_linewidth(2.5)
    curve = fig.add_subplot(grid[:, columns + 1 :])
    epochs = list(range(1, len(loss_curve) + 1))
    curve.plot(epochs, list(loss_curve), marker="o", markersize=3)
    curve.set_xlabel("epoch")
    curve.set_ylabel("training loss")
    curve.set_title("loss per epoch", fontsize=11)
    curve.grid(alpha=0.3)
    n_wrong = len(wrong)
    summary = (
        f"predicted digit over each image; {len(images) - n_wrong} of {len(images)} right, "
        f"{n_wrong} mistake{'s' if n_wrong != 1 else ''}"
        + (f" (the first {cells // 2} shown, in red)" if n_wrong > cells // 2 else " (in red)")
    )
    fig.suptitle(f"{title}\n{summary}" if title else summary, fontsize=12)
    fig.savefig(os.fspath(path), dpi=100, format=_format(path), bbox_inches="tight")


def _format(path: str | os.PathLike[str]) -> str:
    """The image format named by the path's extension: png, svg or pdf."""
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if ext not in PLOT_FORMATS:
        raise ValueError(
            f"plot path {os.fspath(path)!r} should end in one of "
            f"{', '.join('.' + f for f in PLOT_FORMATS)}"
        )
    return ext


def _span(values: list[float], n: int) -> list[float]:
    low, high = min(values), max(values)
    margin = 0.25 * (high - low) or 1.0
    low, high = low - margin, high + margin
    return [low + (high - low) * i / (n - 1) for i in range(n)]


def require_matplotlib() -> None:
    """Raise MissingMatplotlib (with the install command) unless plots can be drawn."""
    _matplotlib()


def _matplotlib() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingMatplotlib(INSTALL_HINT) from None
    return Figure, FigureCanvasAgg
