"""nn edge cases found in review: nothing half-trained, clear errors, dict-held parameters."""

import pytest

import nn
from autodiff.frontend.cli import main
from nn.module import Module


def test_fit_refuses_a_bad_label_before_changing_any_parameter():
    X, y = nn.make_moons(40, noise=0.1, seed=0)
    y = [2 * t - 1 for t in y]
    y[-1] = 0  # hinge wants -1 or +1; with batches of 8 this sample comes late
    model = nn.MLP(2, [4, 1])
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match="labels -1 or \\+1"):
        nn.fit(model, X, y, loss=nn.losses.hinge, optimizer=nn.SGD(model.parameters(), lr=0.1),
               epochs=2, batch_size=8, progress=False)  # fmt: skip
    assert [p.data for p in model.parameters()] == before


def test_fit_refuses_a_schedule_that_returns_no_number():
    X, y = nn.make_xor(16, seed=0)
    y = [2 * t - 1 for t in y]
    model = nn.MLP(2, [3, 1])
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"lr_schedule\(0\)"):
        nn.fit(model, X, y, loss=nn.losses.hinge, optimizer=optimizer, epochs=2,
               lr_schedule=lambda epoch: None, progress=False)  # fmt: skip
    assert optimizer.lr == 0.1


def test_parameters_held_in_a_dict_are_found_and_named():
    class Parts(Module):
        def __init__(self):
            self.parts = {"a": nn.Neuron(2)}

    names = [name for name, _ in Parts().named_parameters()]
    assert names == ["parts.a.w.0", "parts.a.w.1", "parts.a.b"]


def test_loading_a_non_utf8_file_is_a_clear_error(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    model = nn.MLP(2, [2, 1])
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match="not a saved model"):
        model.load(path)
    assert [p.data for p in model.parameters()] == before


def test_optimizer_given_a_model_says_to_pass_its_parameters():
    with pytest.raises(TypeError, match=r"model.parameters\(\)"):
        nn.SGD(nn.MLP(2, [1]), lr=0.1)


@pytest.mark.parametrize("plot", ["out.txt", "noext"])
def test_train_refuses_a_plot_path_it_cannot_write_before_training(capsys, tmp_path, plot):
    code = main(["train", "xor", "--epochs", "1", "--no-progress", "--plot", str(tmp_path / plot)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "should end in .png, .svg or .pdf" in err
    assert "accuracy" not in out  # refused before training
