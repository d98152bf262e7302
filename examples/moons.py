"""micrograd's demo (demo.ipynb) redone with this library.

The same setup: 100 two-moons points with noise 0.1, labels -1/+1, an MLP 2-16-16-1
(ReLU, linear output, micrograd's initialisation), the mean hinge loss plus an L2
penalty 1e-4 * sum p^2, full-batch SGD for 100 steps with the learning rate falling
from 1.0 to 0.1. Added: a held-out set of fresh moons points to report test
accuracy, and the decision boundary saved as a PNG.

    python examples/moons.py [PATH.png]      (after pip install -e ".[plot]")

Without matplotlib it stops at once, before training, with the install command (exit 2).
"""

from __future__ import annotations

import random
import sys

from nn import MLP, SGD, accuracy, fit, losses, make_moons
from nn.plot import MissingMatplotlib, decision_boundary, require_matplotlib


def main(plot_path: str = "moons_decision_boundary.png") -> int:
    try:
        require_matplotlib()  # before ten seconds of training, not after
    except MissingMatplotlib as e:
        print(f"examples/moons.py: {e}", file=sys.stderr)
        return 2
    random.seed(1337)  # micrograd's demo seeds Python's random before building the MLP
    X, y = make_moons(100, noise=0.1, seed=1337)
    X_test, y_test = make_moons(200, noise=0.1, seed=2024)  # never seen in training
    y = [2 * t - 1 for t in y]
    y_test = [2 * t - 1 for t in y_test]

    model = MLP(2, [16, 16, 1])
    print(model, f"with {len(model.parameters())} parameters")

    def loss(scores, labels):
        return losses.hinge(scores, labels) + losses.l2(model.parameters(), 1e-4)

    history = fit(
        model,
        X,
        y,
        loss=loss,
        optimizer=SGD(model.parameters(), lr=1.0),
        epochs=100,
        lr_schedule=lambda k: 1.0 - 0.9 * k / 100,
        validation=(X_test, y_test),
    )
    print(f"final loss {history.loss[-1]:.4f}")
    print(f"train accuracy: {accuracy(model, X, y):.1%}")
    print(f"test accuracy: {accuracy(model, X_test, y_test):.1%} (held-out, {len(X_test)} points)")
    decision_boundary(model, X, y, plot_path, title="moons: 2-16-16-1 MLP")
    print(f"decision boundary saved to {plot_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
