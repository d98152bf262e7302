"""micrograd 0.1.0 next to our Value, for tests that run the same code through both."""

import pytest

import autodiff

try:
    import micrograd.engine as micrograd_engine
except ImportError:  # the comparisons skip; the published numbers are still checked
    micrograd_engine = None

needs_micrograd = pytest.mark.skipif(
    micrograd_engine is None,
    reason="micrograd 0.1.0 (pip install micrograd==0.1.0) is not installed",
)
ENGINES = {"autodiff": autodiff.Value}
if micrograd_engine is not None:
    ENGINES["micrograd"] = micrograd_engine.Value
