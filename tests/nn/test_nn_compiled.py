"""fit(compile=True) optimises the eager objective, through autodiff.compile."""

import random
import warnings

import pytest

from nn import MLP, SGD, accuracy, fit, losses, make_moons, train_test_split
from nn.compiled import CompiledStep, numpy_available


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


def test_a_declared_loss_is_compiled_per_sample_with_its_declared_reduction():
    model = MLP(2, [3, 1], rng=random.Random(1))
    assert CompiledStep(model, losses.hinge, 1).reduction.over == "mean"
    assert CompiledStep(model, losses.quadratic, 1).reduction.over == "sum"
    undeclared = CompiledStep(model, lambda out, t: losses.hinge(out, t), 1)
    assert undeclared.reduction is None and undeclared.backend == "python"


def test_an_undeclared_loss_trains_its_exact_objective_where_a_guess_from_numbers_would_not():
    # mse + (mean output)^2 is not a mean of per-sample losses, but on a batch whose rows
    # are all equal it agrees with one: a guess made from numbers would train another
    # objective. Undeclared, it is traced whole, and trains exactly as eager fit does.
    def run(compile_: bool):
        model = MLP(2, [3, 1], activation="tanh", rng=random.Random(3))
        X = [[0.5, -0.5]] * 8 + [[0.1, 0.9], [-0.7, 0.2], [0.3, 0.3], [1.0, -1.0]]
        y = [0.2] * 8 + [1.0, -1.0, 0.5, 0.0]

        def loss(outputs, targets):
            mean_output = sum(outputs, 0.0) / len(outputs)
            return losses.mse(outputs, targets) + mean_output**2

        history = fit(model, X, y, loss=loss, optimizer=SGD(model.parameters(), lr=0.1),
                      epochs=3, batch_size=8, progress=False, rng=random.Random(4),
                      compile=compile_)  # fmt: skip
        return history, [p.data for p in model.parameters()]

    (eager, eager_params), (compiled, compiled_params) = run(False), run(True)
    assert compiled.path == "compiled (python backend)"
    assert compiled.loss == eager.loss and compiled_params == eager_params


def _cross_entropy_run(compile_: bool):
    model = MLP(2, [4, 3], rng=random.Random(2))
    X = [[0.1, 0.2], [0.5, -0.3], [1.0, 0.0], [-0.2, 0.4], [0.9, 0.9]]
    y = [0, 2, 1, 1, 0]
    history = fit(model, X, y, loss=losses.cross_entropy,
                  optimizer=SGD(model.parameters(), lr=0.1), epochs=3, batch_size=2,
                  progress=False, rng=random.Random(7), compile=compile_)  # fmt: skip
    return history, [p.data for p in model.parameters()]


def test_cross_entropy_with_class_indices_compiles_and_trains_as_eager():
    (eager, eager_params), (compiled, compiled_params) = (
        _cross_entropy_run(False),
        _cross_entropy_run(True),
    )
    backend = "numpy" if numpy_available() else "python"
    assert compiled.path == f"compiled ({backend} backend)"
    assert compiled.loss == pytest.approx(eager.loss, rel=1e-12)
    assert compiled_params == pytest.approx(eager_params, rel=1e-12, abs=1e-15)
    # accuracy from the compiled forward pass, before each update, as eager counts it
    assert compiled.train_accuracy == eager.train_accuracy


def test_a_loss_that_cannot_be_traced_warns_once_with_its_line_and_trains_eagerly():
    model = MLP(2, [4, 3], rng=random.Random(2))
    X = [[0.1, 0.2], [0.5, -0.3], [1.0, 0.0]]
    y = [0, 2, 1]

    def clipped(outputs, targets):
        loss = losses.mse(outputs, [[float(t == k) for k in range(3)] for t in targets])
        return loss if loss.data < 10 else loss * 0.0  # branches on the loss's value

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(model, X, y, loss=clipped, optimizer=SGD(model.parameters(), lr=0.1),
                      epochs=2, progress=False, compile=True)  # fmt: skip
    assert history.path == "eager"
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith("fit(compile=True) trains eagerly: reading .data")
    assert "test_nn_compiled.py:" in message  # the user's line
    assert caught[0].filename == __file__  # reported at the call of fit


def test_a_wrapped_cross_entropy_with_class_indices_warns_with_the_users_line():
    model = MLP(2, [4, 3], rng=random.Random(2))
    X, y = [[0.1, 0.2], [0.5, -0.3], [1.0, 0.0]], [0, 2, 1]

    def undeclared(outputs, targets):  # traced whole: the indices become traced Values
        return losses.cross_entropy(outputs, targets)

    with pytest.warns(UserWarning) as caught:
        history = fit(model, X, y, loss=undeclared, optimizer=SGD(model.parameters(), lr=0.1),
                      epochs=1, progress=False, compile=True)  # fmt: skip
    assert history.path == "eager" and len(caught) == 1
    message = str(caught[0].message)
    assert "a class index that is a Value" in message and "one-hot list" in message
    line = undeclared.__code__.co_firstlineno + 1
    assert message.endswith(f"(at {__file__}:{line})")


def test_a_compiled_run_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _cross_entropy_run(True)[0].path.startswith("compiled")


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
