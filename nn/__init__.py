"""nn: neural networks built on autodiff's public API.

from nn import MLP, SGD, fit, losses, data
X, y = data.make_moons(100, noise=0.1, seed=0)
model = MLP(2, [16, 16, 1])
history = fit(model, X, [2 * t - 1 for t in y], loss=losses.hinge,
              optimizer=SGD(model.parameters(), lr=0.1), epochs=50)
"""

from nn import data, losses, metrics, optim
from nn.data import load_digits, make_circles, make_moons, make_xor, train_test_split
from nn.layers import MLP, Layer, Neuron
from nn.metrics import accuracy, confusion_matrix, predict
from nn.module import Module
from nn.optim import SGD, Adam, Optimizer
from nn.plot import MissingMatplotlib, decision_boundary
from nn.train import History, fit

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "History",
    "Layer",
    "MissingMatplotlib",
    "Module",
    "Neuron",
    "Optimizer",
    "accuracy",
    "confusion_matrix",
    "data",
    "decision_boundary",
    "fit",
    "load_digits",
    "losses",
    "make_circles",
    "make_moons",
    "make_xor",
    "metrics",
    "optim",
    "predict",
    "train_test_split",
]
