"""fit(compile=True) optimises the eager objective, through autodiff.compile."""

import random

import pytest

from nn import MLP, SGD, accuracy, fit, losses, make_moons, train_test_split
from nn.compiled import _decomposition


def _train(compile_: bool):
    X, y = make_moons(120, noise=0.1, seed=0)
    y = [2 * t - 1 for t in y]
    X_train, X_test, y_train, y_test = train_test_split(X, y, seed=0)
    rng = random.Random(0)
    model = MLP(2, [8, 8, 1], rng=rng)

    def loss(scores, labels):
        return losses.hinge(scores, labels) + losses.l2(model.parameters(), 1e-4)

    history = fit(
        model,
        X_train,
        y_train,
        loss=loss,
        optimizer=SGD(model.parameters(), lr=0.1),
        epochs=15,
        batch_size=16,
        progress=False,
        rng=rng,
        compile=compile_,
    )
    return history, accuracy(model, X_test, y_test)


def test_compiled_fit_reaches_the_eager_accuracy_on_moons():
    eager, eager_acc = _train(False)
    compiled, compiled_acc = _train(True)
    assert eager.path == "eager" and compiled.path.startswith("compiled")
    assert abs(compiled_acc - eager_acc) <= 0.01
    # same objective: the loss curves agree closely (the numpy backend rounds differently)
    assert compiled.loss == pytest.approx(eager.loss, rel=1e-6)


def test_a_mean_loss_is_compiled_per_sample_as_a_mean_and_a_sum_as_a_sum():
    model = MLP(2, [3, 1], rng=random.Random(1))
    X = [[0.1, 0.2], [0.5, -0.3], [1.0, 0.0], [-0.4, 0.9]]
    y = [1, -1, 1, -1]
    assert _decomposition(model, losses.hinge, X, y) == "mean"
    assert _decomposition(model, losses.quadratic, X, y) == "sum"


def test_samples_with_zero_loss_decide_nothing():
    # A batch loss that is a sum of hinges, on samples the model already gets right with a
    # margin: every loss is 0, so mean, sum and max all agree; no per-sample guess is made.
    def summed_hinge(scores, targets):
        return sum(((1 - t * s).relu() for s, t in zip(scores, targets, strict=True)), 0.0)

    model = MLP(1, [1], activation="linear", rng=random.Random(0))
    model.layers[0].neurons[0].w[0].data = 10.0
    model.layers[0].neurons[0].b.data = 0.0
    X = [[1.0], [2.0], [-1.0], [-3.0]]
    y = [1, 1, -1, -1]
    assert _decomposition(model, summed_hinge, X, y) is None

    def worst(scores, targets):  # a max over the batch: not a mean nor a sum
        losses_ = [(1 - t * s).relu() for s, t in zip(scores, targets, strict=True)]
        return max(losses_, key=lambda v: v.data)

    X2 = [[1.0], [0.05], [-1.0], [-0.01]]  # two samples inside the margin
    assert _decomposition(model, worst, X2, y) is None


def test_a_loss_that_cannot_be_traced_trains_eagerly():
    model = MLP(2, [4, 3], rng=random.Random(2))
    X = [[0.1, 0.2], [0.5, -0.3], [1.0, 0.0]]
    y = [0, 2, 1]  # class indices: cross_entropy needs them as ints, not traced inputs
    history = fit(
        model,
        X,
        y,
        loss=losses.cross_entropy,
        optimizer=SGD(model.parameters(), lr=0.1),
        epochs=2,
        progress=False,
        compile=True,
    )
    assert history.path == "eager"


@pytest.mark.parametrize(
    "extra, path", [([], "trained: compiled"), (["--eager"], "trained: eager")]
)
def test_autodiff_train_compiles_by_default_and_says_so(capsys, extra, path):
    from autodiff.frontend.cli import main

    argv = ["train", "moons", "--epochs", "2", "--samples", "40", "--no-plot", "--no-progress"]
    assert main(argv + extra) == 0
    assert path in capsys.readouterr().out


def test_a_loss_of_the_whole_batch_trains_bit_identically_through_the_python_backend():
    def run(compile_: bool):
        model = MLP(2, [4, 1], rng=random.Random(5))
        X = [[0.1, 0.2], [0.5, -0.3], [1.0, 0.0], [-0.4, 0.9], [0.3, 0.3], [-1, 0.2], [0, 1]]
        y = [1, -1, 1, -1, 1, -1, 1]

        def loss(scores, labels):  # the square of a mean: neither a mean nor a sum of parts
            return losses.hinge(scores, labels) ** 2

        history = fit(
            model,
            X,
            y,
            loss=loss,
            optimizer=SGD(model.parameters(), lr=0.1),
            epochs=3,
            batch_size=3,  # batches of 3, 3 and 1: one tape per size
            progress=False,
            rng=random.Random(6),
            compile=compile_,
        )
        return history, [p.data for p in model.parameters()]

    (eager, eager_params), (compiled, compiled_params) = run(False), run(True)
    assert compiled.path == "compiled (python backend)"
    assert compiled.loss == eager.loss and compiled_params == eager_params
