"""fit, accuracy and the decision-boundary plot."""

import random
import sys

import pytest

from autodiff import Value
from nn import MLP, SGD, Adam, History, accuracy, fit, losses
from nn.plot import MissingMatplotlib, decision_boundary

# 1-D points, separable at 0: label +1 right of it, -1 left
LINE_X = [[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]]
LINE_Y = [-1, -1, -1, 1, 1, 1]


def identity_model(output_activation="linear"):
    """out = x (one input, one output)."""
    return MLP.from_weights([[[1.0]]], [[0.0]], activation=output_activation)


def test_fit_full_batch_is_forward_loss_zero_grad_backward_step():
    a = MLP(1, [4, 1], rng=random.Random(0))
    b = MLP(1, [4, 1], rng=random.Random(0))
    history = fit(
        a,
        LINE_X,
        LINE_Y,
        loss=losses.hinge,
        optimizer=SGD(a.parameters(), lr=0.1),
        epochs=3,
        progress=False,
    )
    optimizer = SGD(b.parameters(), lr=0.1)
    manual = []
    for _ in range(3):
        loss = losses.hinge([b([Value(x[0])]) for x in LINE_X], LINE_Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        manual.append(loss.data)
    assert history.loss == manual
    assert a.state_dict() == b.state_dict()


def test_fit_learns_a_separable_problem_and_records_every_epoch():
    model = MLP(1, [1], rng=random.Random(0))
    history = fit(
        model,
        LINE_X,
        LINE_Y,
        loss=losses.hinge,
        optimizer=SGD(model.parameters(), lr=0.5),
        epochs=15,
        validation=([[3.0], [-3.0]], [1, -1]),
        progress=False,
    )
    assert isinstance(history, History)
    assert len(history.loss) == len(history.train_accuracy) == len(history.test_accuracy) == 15
    assert history.loss[-1] < history.loss[0]
    assert history.train_accuracy[-1] == 1.0 and history.test_accuracy[-1] == 1.0
    assert accuracy(model, LINE_X, LINE_Y) == 1.0


def test_minibatches_are_shuffled_reproducibly_by_rng():
    def run():
        model = MLP(1, [3, 1], rng=random.Random(1))
        fit(
            model,
            LINE_X,
            LINE_Y,
            loss=losses.hinge,
            optimizer=Adam(model.parameters(), lr=0.05),
            epochs=4,
            batch_size=4,
            progress=False,
            rng=random.Random(9),
        )
        return model.state_dict()

    assert run() == run()


def test_lr_schedule_sets_the_learning_rate_each_epoch():
    model = MLP(1, [1], rng=random.Random(0))
    seen = []
    optimizer = SGD(model.parameters(), lr=1.0)

    def schedule(epoch):
        seen.append(epoch)
        return 1.0 - 0.1 * epoch

    fit(
        model,
        LINE_X,
        LINE_Y,
        loss=losses.hinge,
        optimizer=optimizer,
        epochs=3,
        lr_schedule=schedule,
        progress=False,
    )
    assert seen == [0, 1, 2] and optimizer.lr == pytest.approx(0.8)


def test_progress_bar_shows_loss_and_accuracy_only_when_asked(capsys):
    model = MLP(1, [1], rng=random.Random(0))
    optimizer = SGD(model.parameters(), lr=0.1)
    fit(model, LINE_X, LINE_Y, loss=losses.hinge, optimizer=optimizer, epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    fit(model, LINE_X, LINE_Y, loss=losses.hinge, optimizer=optimizer, epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "loss=" in err and "acc=" in err and "2/2" in err


def test_accuracy_uses_the_sign_for_plus_minus_one_labels():
    assert accuracy(identity_model(), [[1.0], [-1.0], [2.0]], [1, 1, 1]) == pytest.approx(2 / 3)
    assert accuracy(identity_model(), [[0.3], [-0.2]], [1, -1]) == 1.0


def test_accuracy_thresholds_sigmoid_outputs_at_one_half_for_zero_one_labels():
    model = identity_model("sigmoid")  # out = sigmoid(x): > 0.5 exactly when x > 0
    assert accuracy(model, [[1.0], [-1.0], [0.5], [-0.1]], [1, 0, 0, 0]) == 0.75
    assert accuracy(identity_model(), [[0.2], [-0.2]], [1, 0]) == 1.0  # logits: threshold 0
    assert accuracy(identity_model(), [[0.2]], [1], threshold=0.5) == 0.0


def test_accuracy_of_several_outputs_is_argmax_against_class_index_or_one_hot():
    model = MLP.from_weights([[[1.0, 0.0], [0.0, 1.0]]], [[0.0, 0.0]], activation="linear")
    X = [[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]]
    assert accuracy(model, X, [0, 1, 0]) == pytest.approx(2 / 3)
    assert accuracy(model, X, [[1, 0], [0, 1], [0, 1]]) == 1.0


def test_cross_entropy_training_on_two_outputs():
    model = MLP(1, [4, 2], rng=random.Random(2))
    labels = [0 if t < 0 else 1 for t in LINE_Y]
    history = fit(
        model,
        LINE_X,
        labels,
        loss=losses.cross_entropy,
        optimizer=Adam(model.parameters(), 0.1),
        epochs=30,
        progress=False,
    )
    assert history.loss[-1] < history.loss[0]
    assert accuracy(model, LINE_X, labels) == 1.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y": [1]}, "6 samples in X but 1 targets in y"),
        ({"epochs": -1}, "epochs expected an int >= 0"),
        ({"batch_size": 0}, "batch_size expected a positive int"),
        ({"optimizer": "sgd"}, "optimizer expected an nn.optim optimizer"),
        ({"validation": ([[1.0]], [1, 1])}, "1 samples in X but 2 targets"),
        ({"loss": lambda out, t: 1.0}, "loss must return a Value, got float"),
    ],
)
def test_fit_argument_errors(kwargs, message):
    model = MLP(1, [1], rng=random.Random(0))
    args = {
        "y": LINE_Y,
        "loss": losses.hinge,
        "optimizer": SGD(model.parameters(), lr=0.1),
        "epochs": 1,
        "progress": False,
    }
    args.update(kwargs)
    with pytest.raises((TypeError, ValueError), match=message):
        fit(model, LINE_X, **args)


def test_decision_boundary_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    model = MLP(2, [4, 1], rng=random.Random(0))
    path = tmp_path / "boundary.png"
    decision_boundary(model, [[0.0, 0.0], [1.0, 1.0]], [1, -1], path, resolution=10)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_decision_boundary_without_matplotlib_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    model = MLP(2, [1], rng=random.Random(0))
    with pytest.raises(MissingMatplotlib, match='pip install "autodiff-scalar\\[plot\\]"'):
        decision_boundary(model, [[0.0, 0.0]], [1], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("compile_", [False, True])
@pytest.mark.parametrize(
    "bad, message",
    [(10, "class index in 0..2, got 10"), (True, "got True"), (1.0, "got 1.0")],
)
def test_a_bad_class_label_among_repeated_ones_fails_before_any_update(compile_, bad, message):
    # many samples share each label, so fit checks one sample per label: the bad one,
    # late in the set, must still be found, with the whole set's message
    rng = random.Random(1)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(40)]
    y = [i % 3 for i in range(40)]
    y[33] = bad
    model = MLP(2, [4, 3], rng=random.Random(0))
    before = [p.data for p in model.parameters()]
    with pytest.raises((TypeError, ValueError), match=message):
        fit(model, X, y, loss=losses.cross_entropy, optimizer=Adam(model.parameters()),
            epochs=1, batch_size=8, progress=False, compile=compile_)  # fmt: skip
    assert [p.data for p in model.parameters()] == before
    with pytest.raises((TypeError, ValueError)) as whole:
        losses.cross_entropy([[Value(0.0)] * 3] * 40, y)
    with pytest.raises((TypeError, ValueError)) as from_fit:
        fit(model, X, y, loss=losses.cross_entropy, optimizer=Adam(model.parameters()),
            epochs=1, progress=False)  # fmt: skip
    assert str(from_fit.value) == str(whole.value)


def test_a_bad_hinge_label_among_repeated_ones_fails_before_any_update():
    X = [[float(i)] for i in range(30)]
    y = [1 if i % 2 else -1 for i in range(30)]
    y[25] = 0
    model = MLP(1, [3, 1], rng=random.Random(0))
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match="labels -1 or \\+1, got 0.0"):
        fit(model, X, y, loss=losses.hinge, optimizer=SGD(model.parameters(), lr=0.1),
            epochs=1, batch_size=4, progress=False)  # fmt: skip
    assert [p.data for p in model.parameters()] == before
