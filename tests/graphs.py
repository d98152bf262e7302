"""Small graphs and renderer checks shared by the drawing tests."""

import os

import pytest

from autodiff import Value
from autodiff.readers import renderer


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


def _renderer_kind(kind: str) -> str:
    """renderer()'s line with only Graphviz's `dot` or only graphviz-pure allowed."""
    old = os.environ.get("AUTODIFF_GRAPHVIZ")
    os.environ["AUTODIFF_GRAPHVIZ"] = kind
    try:
        return renderer()
    finally:
        if old is None:
            del os.environ["AUTODIFF_GRAPHVIZ"]
        else:
            os.environ["AUTODIFF_GRAPHVIZ"] = old


_ALLOWED = os.environ.get("AUTODIFF_GRAPHVIZ", "").strip().lower()
HAVE_DOT = _ALLOWED in ("", "dot") and not _renderer_kind("dot").startswith("none")
HAVE_PURE = _ALLOWED in ("", "graphviz-pure") and not _renderer_kind("graphviz-pure").startswith(
    "none"
)

needs_graphviz = pytest.mark.skipif(
    not (HAVE_DOT or HAVE_PURE),
    reason="no Graphviz to draw with: neither `dot` on PATH nor graphviz-pure "
    "(pip install graphviz-pure, where it has a wheel)",
)
needs_system_dot = pytest.mark.skipif(
    not HAVE_DOT, reason="Graphviz's own `dot` is not installed (PDF and the system renderer)"
)
needs_pure = pytest.mark.skipif(
    not HAVE_PURE, reason="graphviz-pure is not installed (no wheel for this platform?)"
)
