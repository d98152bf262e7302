"""nn: neural networks built on autodiff's public API.

from nn import MLP, SGD, fit, losses, data
X, y = data.make_moons(100, noise=0.1, seed=0)
model = MLP(2, [16, 16, 1])
history = fit(model, X, [2 * t - 1 for t in y], loss=losses.hinge,
              optimizer=SGD(model.parameters(), lr=0.1), epochs=50)
"""

from nn import data, losses, optim
from nn.data import make_circles, make_moons, make_xor, train_test_split
from nn.layers import MLP, Layer, Neuron
from nn.module import Module
from nn.optim import SGD, Adam, Optimizer
from nn.plot import MissingMatplotlib, decision_boundary
from nn.train import History, accuracy, fit

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
    "data",
    "decision_boundary",
    "fit",
    "losses",
    "make_circles",
    "make_moons",
    "make_xor",
    "optim",
    "train_test_split",
]
