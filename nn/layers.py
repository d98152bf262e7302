"""Neuron, Layer and MLP: micrograd's three building blocks, with choices.

The defaults are micrograd's, number for number: weights U(-1, 1) drawn from
Python's ``random`` module (each neuron draws its weights in input order, neurons
in layer order, layers in order), bias 0, ReLU hidden layers, a linear output, and
a one-neuron layer returns its single Value. The micrograd lecture's network (tanh
everywhere, biases U(-1, 1) drawn after each neuron's weights) is one line::

    MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", bias="uniform")

A neuron computes

    out = activation(b + w_0 x_0 + w_1 x_1 + ...)

summed in that order, so the floats are micrograd's too.

Each parameter is labelled with its name in the model, the key of a saved file:
``layers.1.neurons.3.w.2`` is weight 2 of neuron 3 of layer 1 (all counted from 0),
``layers.1.neurons.3.b`` its bias; a Neuron alone names them ``w.2`` and ``b``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from numbers import Real

from autodiff import Value
from nn.activations import Activation, name_of, resolve
from nn.init import check_bias, check_rng, initial_bias, initial_weights
from nn.module import Module

Inputs = Value | float | Sequence[Value | float]


class Neuron(Module):
    """One neuron: ``nin`` weights ``w``, a bias ``b`` and an activation.

    ``nonlin`` is micrograd's switch (True: ReLU, False: linear); ``activation``
    ("relu", "sigmoid", "tanh", "linear" or a callable Value -> Value) overrides it.
    ``init`` and ``rng``: see ``nn.init.initial_weights``; ``fan_out`` is the width
    of the neuron's layer (used by "xavier"). ``bias``: "zero" (micrograd's package)
    or "uniform" (U(-1, 1), the lecture's), see ``nn.init.initial_bias``.
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        *,
        activation: Activation | None = None,
        init: str = "uniform",
        rng: random.Random | None = None,
        fan_out: int = 1,
        bias: str = "zero",
    ) -> None:
        _check_width(nin, "Neuron nin")
        _check_width(fan_out, "Neuron fan_out")
        check_rng(rng)
        check_bias(bias)
        if activation is None:
            activation = "relu" if nonlin else "linear"
        resolve(activation)  # a bad name fails before any random number is drawn
        weights = initial_weights(init, nin, fan_out, rng)
        self._set(weights, initial_bias(bias, rng), activation)

    @classmethod
    def _from_weights(cls, weights: Sequence[float], bias: float, activation: Activation) -> Neuron:
        neuron = cls.__new__(cls)
        neuron._set(weights, bias, activation)
        return neuron

    def _set(self, weights: Sequence[float], bias: float, activation: Activation) -> None:
        self.w = [Value(x) for x in weights]
        self.b = Value(bias)
        self.activation = activation
        self._act = resolve(activation)
        self.name_parameters()

    @property
    def nin(self) -> int:
        """Number of inputs."""
        return len(self.w)

    def __call__(self, x: Inputs) -> Value:
        xs = _as_inputs(x, len(self.w), "Neuron")
        act = self.b
        for wi, xi in zip(self.w, xs, strict=True):
            act = act + wi * xi
        return self._act(act)

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {name_of(self.activation)})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs.

    Returns a list of ``nout`` Values, or the single Value when ``nout == 1``
    (micrograd's convention). Arguments as for ``Neuron``.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        nonlin: bool = True,
        *,
        activation: Activation | None = None,
        init: str = "uniform",
        rng: random.Random | None = None,
        bias: str = "zero",
    ) -> None:
        _check_width(nout, "Layer nout")
        self.neurons = [
            Neuron(nin, nonlin, activation=activation, init=init, rng=rng, fan_out=nout, bias=bias)
            for _ in range(nout)
        ]
        self.name_parameters()

    @classmethod
    def _from_neurons(cls, neurons: list[Neuron]) -> Layer:
        layer = cls.__new__(cls)
        layer.neurons = neurons
        layer.name_parameters()
        return layer

    @property
    def nin(self) -> int:
        """Number of inputs."""
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        """Number of outputs (neurons)."""
        return len(self.neurons)

    @property
    def activation(self) -> Activation:
        """The neurons' activation."""
        return self.neurons[0].activation

    def __call__(self, x: Inputs) -> Value | list[Value]:
        # numbers become Values once here, not once per neuron
        xs = [xi if isinstance(xi, Value) else Value(xi) for xi in _as_inputs(x, self.nin, "Layer")]
        out = [n(xs) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        return f"Layer({self.nin} -> {self.nout}, {name_of(self.activation)})"


class MLP(Module):
    """A multi-layer perceptron: ``nin`` inputs, then one Layer per entry of ``nouts``.

    ``activation`` is used by every hidden layer (or give a sequence, one per hidden
    layer); ``output_activation`` by the last layer (None: the same as
    ``activation``); ``init`` and ``bias`` choose the initial weights and biases
    (``nn.init``). ``MLP(2, [16, 16, 1])`` is micrograd's package MLP, draw for draw;
    the micrograd lecture's network, also draw for draw, is::

        MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", bias="uniform")
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: Activation | Sequence[Activation] = "relu",
        output_activation: Activation | None = "linear",
        init: str = "uniform",
        rng: random.Random | None = None,
        bias: str = "zero",
    ) -> None:
        _check_width(nin, "MLP nin")
        if not isinstance(nouts, (list, tuple)) or not nouts:
            raise ValueError(f"MLP nouts expected a non-empty list of layer widths, got {nouts!r}")
        for i, n in enumerate(nouts):
            _check_width(n, f"MLP nouts[{i}]")
        acts = _layer_activations(activation, output_activation, len(nouts))
        check_rng(rng)
        check_bias(bias)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation=acts[i], init=init, rng=rng, bias=bias)
            for i in range(len(nouts))
        ]
        self.name_parameters()

    @classmethod
    def from_weights(
        cls,
        weights: Sequence[Sequence[Sequence[float]]],
        biases: Sequence[Sequence[float]],
        activation: Activation | Sequence[Activation] = "relu",
        output_activation: Activation | None = None,
    ) -> MLP:
        """An MLP with given parameters.

        ``weights[l][j]`` is the list of input weights of neuron j in layer l and
        ``biases[l][j]`` its bias. ``activation`` applies to every layer, the output
        layer too unless ``output_activation`` is given. The article's network::

            MLP.from_weights([[[0.3, -0.4], [0.2, 0.6]], [[0.7, 0.5], [-0.3, -0.1]]],
                             [[0.25, 0.45], [0.15, 0.35]], activation="sigmoid")

        Ragged or mismatched shapes raise ValueError naming the offending entry.
        """
        _check_weight_shapes(weights, biases)
        acts = _layer_activations(activation, output_activation, len(weights))
        model = cls.__new__(cls)
        model.layers = [
            Layer._from_neurons(
                [Neuron._from_weights(w, b, act) for w, b in zip(ws, bs, strict=True)]
            )
            for ws, bs, act in zip(weights, biases, acts, strict=True)
        ]
        model.name_parameters()
        return model

    @property
    def nin(self) -> int:
        """Number of inputs."""
        return self.layers[0].nin

    @property
    def nouts(self) -> list[int]:
        """Width of each layer."""
        return [layer.nout for layer in self.layers]

    @property
    def output_activation(self) -> Activation:
        """The last layer's activation."""
        return self.layers[-1].activation

    def __call__(self, x: Inputs) -> Value | list[Value]:
        out: Value | list[Value] = x  # type: ignore[assignment]
        for layer in self.layers:
            out = layer(out)
        return out

    def __repr__(self) -> str:
        inner = " -> ".join(f"{layer.nout} {name_of(layer.activation)}" for layer in self.layers)
        return f"MLP({self.nin} -> {inner})"


def _as_inputs(x: Inputs, n: int, who: str) -> Sequence[Value | float]:
    if isinstance(x, (Value, Real)):
        x = (x,)
    elif not isinstance(x, (list, tuple)):
        raise TypeError(f"{who} expected a list of {n} inputs, got {type(x).__name__}")
    if len(x) != n:
        raise ValueError(f"{who} expected {n} input(s), got {len(x)}")
    return x


def _check_width(n: object, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} expected a positive int, got {n!r}")


def _layer_activations(
    activation: Activation | Sequence[Activation],
    output_activation: Activation | None,
    n_layers: int,
) -> list[Activation]:
    if isinstance(activation, (list, tuple)):
        if len(activation) != n_layers - 1:
            raise ValueError(
                f"activation: expected one per hidden layer ({n_layers - 1}), got {len(activation)}"
            )
        if output_activation is None:
            raise ValueError("with one activation per hidden layer, give output_activation too")
        acts = [*activation, output_activation]
    else:
        resolve(activation)  # a typo fails even when there is no hidden layer
        output = activation if output_activation is None else output_activation
        acts = [activation] * (n_layers - 1) + [output]
    for act in acts:
        resolve(act)
    return acts


def _check_weight_shapes(weights: object, biases: object) -> None:
    if not isinstance(weights, (list, tuple)) or not weights:
        raise ValueError("weights expected a non-empty list of layers (lists of neurons' weights)")
    if not isinstance(biases, (list, tuple)) or len(biases) != len(weights):
        got = len(biases) if isinstance(biases, (list, tuple)) else type(biases).__name__
        raise ValueError(f"biases expected a list of {len(weights)} layers, got {got}")
    width = None  # inputs each neuron of the current layer must have
    for li, (layer_w, layer_b) in enumerate(zip(weights, biases, strict=True)):
        if not isinstance(layer_w, (list, tuple)) or not layer_w:
            raise ValueError(f"weights[{li}] expected a non-empty list of neurons' weights")
        if not isinstance(layer_b, (list, tuple)) or len(layer_b) != len(layer_w):
            raise ValueError(
                f"biases[{li}] expected {len(layer_w)} biases (one per neuron of weights[{li}]), "
                f"got {layer_b!r}"
            )
        for ni, neuron_w in enumerate(layer_w):
            if not isinstance(neuron_w, (list, tuple)) or not neuron_w:
                raise ValueError(f"weights[{li}][{ni}] expected a non-empty list of weights")
            if width is None:
                width = len(neuron_w)
            if len(neuron_w) != width:
                source = "like weights[0][0]" if li == 0 else f"layer {li - 1} has {width} neurons"
                raise ValueError(
                    f"weights[{li}][{ni}] has {len(neuron_w)} weights, expected {width} ({source})"
                )
            for wi, w in enumerate(neuron_w):
                _check_number(w, f"weights[{li}][{ni}][{wi}]")
            _check_number(layer_b[ni], f"biases[{li}][{ni}]")
        width = len(layer_w)


def _check_number(x: object, where: str) -> None:
    if isinstance(x, bool) or not isinstance(x, Real):
        raise ValueError(f"{where} expected a number, got {x!r}")
