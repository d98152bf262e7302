"""Module.save and Module.load on disk: permissions, symlinks, atomicity, strict reading."""

import json
import os
import random
import stat

import pytest

from nn import MLP


def small_mlp(seed=0):
    return MLP(2, [2, 1], rng=random.Random(seed))


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test, then restore it."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_the_mode_open_would_give(tmp_path, umask, mask, expected):
    umask(mask)
    small_mlp().save(tmp_path / "m.json")
    with open(tmp_path / "plain.txt", "w") as f:  # what a normal open() gives
        f.write("x")
    assert mode_of(tmp_path / "m.json") == mode_of(tmp_path / "plain.txt") == expected


@pytest.mark.parametrize("existing, mask", [(0o644, 0o077), (0o600, 0o022), (0o440, 0o022)])
def test_existing_file_keeps_its_mode(tmp_path, umask, existing, mask):
    umask(mask)
    path = tmp_path / "m.json"
    path.write_text("old")
    os.chmod(path, existing)
    small_mlp().save(path)
    assert mode_of(path) == existing
    assert json.loads(path.read_text())["format"] == "autodiff-nn-state"


def test_save_writes_through_a_symlink_to_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(os.path.join("real", "model.json"))  # relative, as ln -s makes them
    a = small_mlp(1)
    a.save(link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "model.json")
    assert json.loads(target.read_text())["parameters"] == a.state_dict()
    assert mode_of(target) == 0o640
    assert sorted(os.listdir(tmp_path / "real")) == ["model.json"]
    assert small_mlp(2).load(link).state_dict() == a.state_dict()


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")
    small_mlp().save(link)
    assert link.is_symlink()
    assert json.loads((tmp_path / "new.json").read_text())["version"] == 1


class Boom(BaseException):
    pass


class HalfWriter:
    """A file that writes the first half of what it is given, then raises."""

    def __init__(self, file, error):
        self.file, self.error = file, error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def write(self, text):
        self.file.write(text[: len(text) // 2])
        self.file.flush()
        raise self.error


@pytest.mark.parametrize("step", ["write", "fsync", "chmod", "replace"])
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), Boom()])
def test_a_failing_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, step, error):
    path = tmp_path / "m.json"
    path.write_text("old")  # existing, so chmod is reached too

    def fail(*args, **kwargs):
        raise error

    if step == "write":  # half the text reaches the disk, then the write fails
        real_fdopen = os.fdopen
        monkeypatch.setattr(
            os, "fdopen", lambda fd, *a, **k: HalfWriter(real_fdopen(fd, *a, **k), error)
        )
    else:
        monkeypatch.setattr(os, step, fail)
    with pytest.raises(type(error)):
        small_mlp().save(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m.json"]
    assert path.read_text() == "old"


def test_saving_into_a_missing_directory_names_the_path(tmp_path):
    path = tmp_path / "no" / "m.json"
    with pytest.raises(FileNotFoundError, match="m.json"):
        small_mlp().save(path)
    assert os.listdir(tmp_path) == []


def test_saving_over_a_directory_fails_without_a_temporary(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        small_mlp().save(tmp_path / "d")
    assert os.listdir(tmp_path) == ["d"]


def _file_with(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    return path


def _document(parameters_text, version="1"):
    header = f'"format": "autodiff-nn-state", "version": {version}, "model": "MLP"'
    return "{" + header + ', "parameters": {' + parameters_text + "}}"


def _valid_parameters(value_of_last="0.5"):
    names = [name for name, _ in small_mlp().named_parameters()]
    values = ["0.25"] * (len(names) - 1) + [value_of_last]
    return ", ".join(f'"{n}": {v}' for n, v in zip(names, values, strict=True))


@pytest.mark.parametrize(
    "text, message",
    [
        (
            _document(_valid_parameters("1" * 5000)),
            r"bad.json is not a saved model: an integer of 5000",
        ),
        (
            _document(_valid_parameters("-" + "9" * 401)),
            r"an integer of 401 digits is out of range",
        ),
        (
            _document(_valid_parameters("1" + "0" * 399)),
            r"'layers.1.neurons.0.b' is out of a float",
        ),
        (_document(_valid_parameters("1e400")), r"'layers.1.neurons.0.b' is inf \(not finite\)"),
        (_document(_valid_parameters("-1e400")), r"'layers.1.neurons.0.b' is -inf"),
        (_document(_valid_parameters("NaN")), r"'layers.1.neurons.0.b' is nan"),
        (
            _document(_valid_parameters() + ', "layers.0.neurons.0.b": 1.0'),
            "duplicate key 'layers.0.n",
        ),
        (
            _document(_valid_parameters()).replace('"model"', '"version": 1, "model"'),
            "duplicate key 'version'",
        ),
        (_document(_valid_parameters(), version="true"), "format version True is not supported"),
        (_document(_valid_parameters(), version="1.0"), "format version 1.0 is not supported"),
        (_document(_valid_parameters(), version='"1"'), "format version '1' is not supported"),
        (_document(_valid_parameters(), version="null"), "format version None is not supported"),
        ("[1, 2]", "bad.json is not a saved model: expected a JSON object"),
        ("\ufeff{}", "bad.json is not a saved model: invalid JSON"),
        ("[" * 100_000, "bad.json is not a saved model: invalid JSON"),
    ],
    ids=lambda v: v[-40:] if isinstance(v, str) and len(v) > 40 else None,
)
def test_every_malformed_file_is_a_value_error_naming_the_file(tmp_path, text, message):
    path = _file_with(tmp_path, text)
    model = small_mlp()
    before = model.state_dict()
    with pytest.raises(ValueError, match=message) as caught:
        model.load(path)
    assert str(path) in str(caught.value)
    assert model.state_dict() == before


def test_the_valid_document_used_above_loads():
    # the malformed cases differ from this one only where they say
    model = small_mlp()
    model.load_state_dict(json.loads(_document(_valid_parameters()))["parameters"])
    assert model.parameters()[-1].data == 0.5


@pytest.mark.parametrize(
    "value, error, message",
    [
        (10**400, ValueError, r"'layers.1.neurons.0.b' is out of a float's range"),
        (10**5000, ValueError, r"'layers.1.neurons.0.b' is out of a float's range"),
        (-(10**309), ValueError, r"out of a float's range"),
        (float("inf"), ValueError, "not finite"),
        ([10**5000], TypeError, r"'layers.1.neurons.0.b' expected a number, got list"),
        (True, TypeError, "expected a number, got bool True"),
    ],
    ids=["10**400", "10**5000", "-10**309", "inf", "list of a huge int", "bool"],
)
def test_load_state_dict_out_of_range_is_value_error_naming_the_key(value, error, message):
    model = small_mlp()
    state = dict(model.state_dict())
    state["layers.1.neurons.0.b"] = value
    with pytest.raises(error, match=message) as caught:
        model.load_state_dict(state)
    assert "0000" not in str(caught.value)  # the huge int's digits are never printed


def test_load_state_dict_of_a_huge_int_instead_of_a_mapping_is_a_type_error():
    with pytest.raises(TypeError, match="got int \\(an integer of 16610 bits\\)"):
        small_mlp().load_state_dict(10**5000)


def test_load_state_dict_with_a_huge_int_key_names_it_without_its_digits():
    model = small_mlp()
    state = dict(model.state_dict())
    state[10**5000] = 1.0
    with pytest.raises(ValueError, match=r"unexpected 1 name\(s\): \(an integer of 16610 bits\)"):
        model.load_state_dict(state)
