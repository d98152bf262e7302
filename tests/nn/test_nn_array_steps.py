"""fit(compile=True) with the parameters in one array (nn.compiled.ArraySteps): the same
run as through the Values, float for float."""

from __future__ import annotations

import math
import random

import pytest

import nn
import nn.compiled
from nn import MLP, SGD, Adam, fit, load_digits, losses, make_moons, train_test_split
from nn.optim import Optimizer, has_array_form

pytest.importorskip("numpy")


def _run(monkeypatch, arrays: bool, setup: str, epochs: int = 3, **fit_args):
    if not arrays:
        monkeypatch.setattr(nn.compiled.ArraySteps, "or_none", classmethod(lambda *a: None))
    taken = []
    original = nn.compiled.ArraySteps.__init__

    def spy(self, *args, **kwargs):
        taken.append(True)
        original(self, *args, **kwargs)

    monkeypatch.setattr(nn.compiled.ArraySteps, "__init__", spy)
    rng = random.Random(0)
    if setup == "digits":
        X, y = load_digits()
        X_train, X_test, y_train, y_test = train_test_split(X[:300], y[:300], seed=0)
        model = MLP(64, [16, 10], init="xavier", rng=rng)
        optimizer: Optimizer = Adam(model.parameters(), lr=0.01)
        loss = losses.cross_entropy
    else:
        X, y = make_moons(100, noise=0.1, seed=0)
        y = [2 * t - 1 for t in y]
        X_train, X_test, y_train, y_test = train_test_split(X, y, seed=0)
        model = MLP(2, [16, 16, 1], rng=rng)
        optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
        loss = losses.hinge
    history = fit(model, X_train, y_train, loss=loss, optimizer=optimizer, epochs=epochs,
                  batch_size=16, progress=False, rng=rng, compile=True,
                  validation=(X_test, y_test), **fit_args)  # fmt: skip
    monkeypatch.undo()
    state = [(p.data, p.grad) for p in model.parameters()]
    return history, state, bool(taken)


@pytest.mark.parametrize("setup", ["digits", "moons"])
def test_the_array_path_trains_exactly_as_the_values_path(monkeypatch, setup):
    on_values, values_state, taken = _run(monkeypatch, False, setup)
    assert not taken
    on_arrays, arrays_state, taken = _run(monkeypatch, True, setup)
    assert taken
    assert on_arrays.path == on_values.path == "compiled (numpy backend)"
    assert on_arrays.loss == on_values.loss
    assert on_arrays.train_accuracy == on_values.train_accuracy
    assert on_arrays.test_accuracy == on_values.test_accuracy
    assert arrays_state == values_state  # .data and .grad (the last step's) of every one
    assert on_arrays.loss[-1] < on_arrays.loss[0]  # and it trains


def test_a_run_stopped_midway_leaves_the_model_at_its_last_finished_step(monkeypatch):
    # an lr_schedule that raises at epoch 2 stops the run between two steps: the Values
    # hold the parameters after epoch 1, as a run of 2 epochs leaves them
    def schedule(epoch: int) -> float:
        if epoch == 2:
            raise KeyboardInterrupt
        return 0.01

    _, two_epochs, taken = _run(monkeypatch, True, "digits", epochs=2, lr_schedule=schedule)
    assert taken
    captured = {}  # what the last write_back left, read when it happens
    original = nn.compiled.ArraySteps.write_back

    def keep(self):
        original(self)
        captured["state"] = [(p.data, p.grad) for p in self.params]

    monkeypatch.setattr(nn.compiled.ArraySteps, "write_back", keep)
    with pytest.raises(KeyboardInterrupt):
        rng = random.Random(0)
        X, y = load_digits()
        X_train, X_test, y_train, y_test = train_test_split(X[:300], y[:300], seed=0)
        model = MLP(64, [16, 10], init="xavier", rng=rng)
        fit(model, X_train, y_train, loss=losses.cross_entropy,
            optimizer=Adam(model.parameters(), lr=0.01), epochs=5, batch_size=16,
            progress=False, rng=rng, compile=True, validation=(X_test, y_test),
            lr_schedule=schedule)  # fmt: skip
    assert [(p.data, p.grad) for p in model.parameters()] == captured["state"] == two_epochs


def test_samples_holding_values_train_eagerly_after_one_warning():
    # (output_width used to fail on them with a traceback before the warning)
    from autodiff import Value

    X = [[Value(0.5), Value(-0.5)], [Value(0.1), Value(0.9)]] * 4
    y = [1, -1] * 4
    model = MLP(2, [3, 1], rng=random.Random(0))
    with pytest.warns(UserWarning, match=r"trains eagerly: .*expected a number .*got Value"):
        history = fit(model, X, y, loss=losses.hinge, optimizer=SGD(model.parameters(), lr=0.1),
                      epochs=2, batch_size=4, progress=False, compile=True)  # fmt: skip
    assert history.path == "eager" and len(history.loss) == 2


class _Halved(SGD):
    def _update(self, grads):
        super()._update([g / 2 for g in grads])


class _Named(Adam):
    name = "mine"


class _Own(Optimizer):
    def _update(self, grads):
        for p, g in zip(self.params, grads, strict=True):
            p.data -= self.lr * g


def test_only_an_optimiser_whose_array_form_is_its_step_has_one():
    from autodiff import Value

    params = [Value(1.0)]
    assert has_array_form(SGD(params, lr=0.1)) and has_array_form(Adam(params))
    assert has_array_form(_Named(params))  # inherits Adam's step and its array form
    assert not has_array_form(_Halved(params, lr=0.1))  # changed the step, not moved()
    assert not has_array_form(_Own(params, lr=0.1))
    with pytest.raises(NotImplementedError, match="_Own has no array form"):
        _Own(params, lr=0.1).moved(None, None)


def test_a_run_that_diverges_ends_in_nan_as_through_the_values(monkeypatch):
    # inf and nan gradients send steps to the exact per-example replay: the run goes on
    # and reports nan, as the Values path does, instead of failing
    def run(arrays: bool):
        if not arrays:
            monkeypatch.setattr(nn.compiled.ArraySteps, "or_none", classmethod(lambda *a: None))
        X, y = make_moons(80, noise=0.1, seed=0)
        rng = random.Random(0)
        model = MLP(2, [8, 1], rng=rng)
        history = fit(model, X, y, loss=losses.mse, optimizer=SGD(model.parameters(), lr=1e3),
                      epochs=6, batch_size=16, progress=False, rng=rng, compile=True)  # fmt: skip
        monkeypatch.undo()
        return history.loss, [p.data for p in model.parameters()]

    on_arrays, on_values = run(True), run(False)
    assert str(on_arrays) == str(on_values)  # nan == nan as text
    assert any(map(math.isnan, on_arrays[0]))


def test_losses_still_check_targets_that_are_values_outside_a_trace():
    from autodiff import Value

    with pytest.raises(ValueError, match="hinge expected labels -1 or \\+1, got 2.0"):
        losses.hinge([Value(0.3)], [Value(2.0)])
    with pytest.raises(ValueError, match="targets in \\[0, 1\\], got 1.5"):
        losses.binary_cross_entropy([Value(0.3)], [Value(1.5)])
    with pytest.raises(ValueError, match="one-hot target"):
        losses.cross_entropy([[Value(0.3), Value(0.1)]], [[Value(1.0), Value(1.0)]])
