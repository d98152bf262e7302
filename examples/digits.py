"""Handwritten digits: a small network, written in Values, trained to read 8x8 images.

The 1,797 images come with the package (the UCI "Optical Recognition of Handwritten
Digits" test set, CC BY 4.0). Each is 64 pixels in [0, 1]; the label is the digit.
The network: 64 inputs -> 32 ReLU units -> 10 outputs, one logit per digit. The
loss: softmax cross-entropy, -log of the probability the softmax gives the right
digit. fit(compile=True) traces one training step once and replays it for every
batch, so twenty passes over the data take seconds, not minutes.

    python examples/digits.py [PATH.png]      (the picture needs pip install -e ".[plot]")

It prints the accuracy on images the network never saw and which digits it mixes up,
and, where matplotlib is installed, saves a page of test digits with their predictions
and the loss curve (without it, everything else still runs).
"""

from __future__ import annotations

import random
import sys

from nn import (
    MLP,
    Adam,
    accuracy,
    confusion_matrix,
    fit,
    load_digits,
    losses,
    predict,
    train_test_split,
)
from nn.plot import MissingMatplotlib, digit_predictions, require_matplotlib


def main(plot_path: str = "digits_predictions.png") -> int:
    try:
        require_matplotlib()  # say it before training, not after
        drawing = True
    except MissingMatplotlib as e:
        print(f"examples/digits.py: no picture: {e}", file=sys.stderr)
        drawing = False

    # 1. The data: three quarters to learn from, a quarter kept aside to test on.
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    print(f"{len(X_train)} training images, {len(X_test)} test images, 8x8 pixels each")

    # 2. The model: Xavier-initialised weights keep the 64 inputs' sum at a sane scale.
    rng = random.Random(0)
    model = MLP(64, [32, 10], activation="relu", init="xavier", rng=rng)
    print(model, f"with {len(model.parameters())} parameters")

    # 3. Training: Adam, batches of 32, 20 epochs. cross_entropy takes the logits and
    #    the digit itself (a class index) and says it is a mean over the batch, which
    #    is what lets fit compile one step per sample and replay it over each batch.
    history = fit(
        model,
        X_train,
        y_train,
        loss=losses.cross_entropy,
        optimizer=Adam(model.parameters(), lr=0.01),
        epochs=20,
        batch_size=32,
        rng=rng,
        compile=True,
    )
    print(f"trained: {history.path}; final loss {history.loss[-1]:.4f}")

    # 4. How good is it? Accuracy on the training images and on the unseen ones.
    print(f"train accuracy: {accuracy(model, X_train, y_train):.1%}")
    print(f"test accuracy: {accuracy(model, X_test, y_test):.1%}")

    # 5. Which digits does it confuse? Row: the true digit; column: the prediction.
    matrix = confusion_matrix(model, X_test, y_test, classes=10)
    print("confusion matrix (rows: true digit, columns: predicted):")
    print("     " + "".join(f"{k:>4}" for k in range(10)))
    for k, row in enumerate(matrix):
        print(f"{k:>4} " + "".join(f"{c:>4}" if c else "   ." for c in row))

    # 6. A picture: test digits with the network's answers, mistakes in red.
    if not drawing:
        return 0
    digit_predictions(
        X_test, y_test, predict(model, X_test), history.loss, plot_path, title=f"digits: {model}"
    )
    print(f"test digits and their predictions saved to {plot_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
