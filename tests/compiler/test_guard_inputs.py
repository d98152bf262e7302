"""The numpy backend refuses what the Python backend refuses, and a failed build fails the
same way on every call."""

import pytest

import autodiff
from autodiff import TraceError, Value

np = pytest.importorskip("numpy")


@pytest.mark.parametrize("bad", [None, "3", b"3", True])
@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_a_batch_with_a_non_number_is_refused_naming_it(bad, backend):
    w = Value(2.0)
    step = autodiff.compile(lambda x, y: w * x + y, batch="mean", backend=backend)
    step([1.0, 2.0], [0.0, 0.0])
    with pytest.raises(TraceError, match=r"example 1\[1\] expected a number .*got " + repr(bad)):
        step([1.0, 2.0], [0.0, bad])
    assert w.grad == 1.5  # the refused call added nothing


@pytest.mark.parametrize("bad", [None, "3", b"3", True])
def test_a_nested_batch_with_a_non_number_is_refused_on_numpy(bad):
    w = Value(2.0)
    step = autodiff.compile(lambda xs: w * xs[0] * xs[1], batch="sum", backend="numpy")
    step([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TraceError, match=r"example 1\[0\]\[1\] expected a number"):
        step([[1.0, 2.0], [3.0, bad]])


@pytest.mark.parametrize("bad", [None, "3", b"3", True])
def test_a_single_call_with_a_non_number_is_refused_on_numpy(bad):
    w = Value(2.0)
    step = autodiff.compile(lambda x: w * x, backend="numpy")
    step(1.0)
    with pytest.raises(TraceError, match=r"arguments\[0\] expected a number"):
        step(bad)


def test_numpy_numbers_are_numbers():
    w = Value(2.0)
    step = autodiff.compile(lambda x: w * x, batch="sum", backend="numpy")
    assert step([np.float64(1.5), np.int64(2), 3]) == 13.0


def test_a_failed_numpy_build_fails_the_same_way_on_every_call():
    from autodiff.compiler.numpy_backend import NumpyUnsupported

    w = Value(2.0)
    step = autodiff.compile(lambda xs: w * xs[0] * xs[1][0], backend="numpy", batch="sum")
    for _ in range(2):
        with pytest.raises(NumpyUnsupported, match="ragged"):
            step([[1.0, [2.0]]])
