"""Module: parameter names, state dicts, and JSON save/load."""

import json
import math
import os
import random

import pytest

from autodiff import Value
from nn import MLP, Module


def small_mlp(seed=0):
    return MLP(2, [2, 1], rng=random.Random(seed))


def test_named_parameters_are_stable_paths():
    names = [name for name, _ in small_mlp().named_parameters()]
    assert names == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0",
        "layers.0.neurons.1.w.1",
        "layers.0.neurons.1.b",
        "layers.1.neurons.0.w.0",
        "layers.1.neurons.0.w.1",
        "layers.1.neurons.0.b",
    ]


def test_custom_module_finds_values_and_submodules_and_counts_shared_once():
    class Pair(Module):
        def __init__(self):
            self.scale = Value(2.0)
            self.inner = small_mlp()
            self.tied = [self.scale]  # the same Value again
            self._cache = Value(9.0)  # private: not a parameter

    pair = Pair()
    names = [name for name, _ in pair.named_parameters()]
    assert names[0] == "scale" and names[1] == "inner.layers.0.neurons.0.w.0"
    assert len(names) == 1 + 9
    assert pair.parameters()[0] is pair.scale


def test_zero_grad_clears_every_parameter():
    model = small_mlp()
    for p in model.parameters():
        p.grad = 3.0
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_state_dict_round_trip_copies_values():
    a, b = small_mlp(1), small_mlp(2)
    b.load_state_dict(a.state_dict())
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]
    assert b.parameters()[0] is not a.parameters()[0]


def test_save_then_load_reproduces_outputs_exactly(tmp_path):
    path = tmp_path / "model.json"
    a = small_mlp(1)
    a.save(path)
    b = small_mlp(2).load(path)
    assert b([0.3, -1.7]).data == a([0.3, -1.7]).data
    document = json.loads(path.read_text())
    assert document["format"] == "autodiff-nn-state" and document["version"] == 1
    assert document["parameters"] == a.state_dict()
    assert os.listdir(tmp_path) == ["model.json"]  # no temporary file left behind


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("old")
    small_mlp().save(path)
    assert json.loads(path.read_text())["format"] == "autodiff-nn-state"


def test_loading_another_architecture_fails_and_leaves_model_unchanged(tmp_path):
    path = tmp_path / "wide.json"
    MLP(2, [3, 1], rng=random.Random(0)).save(path)
    model = MLP(3, [2, 1], rng=random.Random(5))
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"missing 2 name\(s\).*unexpected 4 name\(s\)") as err:
        model.load(path)
    assert "'layers.0.neurons.0.w.2'" in str(err.value)  # the model's, absent from the file
    assert "'layers.0.neurons.2.w.0'" in str(err.value)  # the file's, absent from the model
    assert model.state_dict() == before


def test_a_bad_value_late_in_the_state_changes_nothing():
    model = small_mlp()
    before = model.state_dict()
    state = {name: 0.0 for name in before}
    state["layers.1.neurons.0.b"] = "0.5"
    with pytest.raises(TypeError, match="'layers.1.neurons.0.b' expected a number, got str"):
        model.load_state_dict(state)
    state["layers.1.neurons.0.b"] = math.inf
    with pytest.raises(ValueError, match="not finite"):
        model.load_state_dict(state)
    assert model.state_dict() == before


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json", "invalid JSON"),
        ('{"parameters": {}}', "no 'autodiff-nn-state' header"),
        ('{"format": "autodiff-nn-state", "version": 9, "parameters": {}}', "version 9"),
    ],
)
def test_loading_a_file_that_is_not_a_saved_model_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    model = small_mlp()
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        model.load(path)
    assert model.state_dict() == before


def test_nonfinite_parameters_are_not_saved(tmp_path):
    model = small_mlp()
    model.parameters()[4].data = math.nan
    with pytest.raises(ValueError, match="'layers.0.neurons.1.w.1' is nan"):
        model.save(tmp_path / "m.json")
    assert os.listdir(tmp_path) == []


class Bag(Module):
    def __init__(self, **attributes):
        for name, value in attributes.items():
            setattr(self, name, value)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"0": [Value(1.0)], "0.0": Value(2.0)}, "params.0.0"),
        ({0: Value(1.0), "0": Value(2.0)}, "params.0"),
        ({"a.b": Value(1.0), "a": {"b": Value(2.0)}}, "params.a.b"),
    ],
)
def test_two_parameters_with_one_name_are_an_error_not_a_silent_loss(tmp_path, params, name):
    bag = Bag(params=params)
    with pytest.raises(ValueError, match=f"two different parameters are both named '{name}'"):
        bag.parameters()
    with pytest.raises(ValueError, match="both named"):
        bag.save(tmp_path / "bag.json")
    assert os.listdir(tmp_path) == []


def test_one_value_under_two_equal_paths_is_one_parameter():
    v = Value(1.0)
    bag = Bag(params={0: v, "0": v})
    assert bag.named_parameters() == [("params.0", v)]


def test_a_module_that_refers_to_itself_is_walked_once(tmp_path):
    bag = Bag(w=Value(1.0))
    bag.me = bag
    bag.loop = [bag, {"again": bag}]
    assert bag.named_parameters() == [("w", bag.w)]
    bag.save(tmp_path / "bag.json")
    bag.w.data = 5.0
    assert bag.load(tmp_path / "bag.json").w.data == 1.0


def test_a_child_reached_twice_keeps_its_first_names():
    child = Bag(w=Value(1.0))
    bag = Bag(first=child, second=[child], own=Value(2.0))
    assert [name for name, _ in bag.named_parameters()] == ["first.w", "own"]
