"""Small graphs shared by the drawing tests."""

from autodiff import Value


def micrograd_neuron() -> Value:
    """micrograd's traced neuron: o = tanh(x1*w1 + x2*w2 + b), b chosen so n = 0.8814; 10 Values."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o
