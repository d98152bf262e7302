"""value_and_grad and outputs: a compiled step at parameter values given as one array."""

from __future__ import annotations

import math
import threading

import pytest

import autodiff
from autodiff import TraceError, Value

np = pytest.importorskip("numpy")

BACKENDS = ["python", "numpy"]


def _layer_and_l2():
    """Two inputs, a 2-2-1 tanh net and an l2 term on one weight (read outside the layers)."""
    w = [Value(v) for v in (0.5, -0.3, 0.8, 0.1, 0.2, -0.4, 0.7, -0.6, 0.05)]

    def f(x0, x1, t):
        h = [(w[0] * x0 + w[1] * x1 + w[2]).tanh(), (w[3] * x0 + w[4] * x1 + w[5]).tanh()]
        y = w[6] * h[0] + w[7] * h[1] + w[8]
        return (y - t) ** 2 + 0.01 * w[0] * w[0]

    return w, f


@pytest.mark.parametrize("backend", BACKENDS)
def test_value_and_grad_is_the_values_call_after_zero_grad(backend):
    w, f = _layer_and_l2()
    step = autodiff.compile(f, params=w, batch="mean", backend=backend)
    X0, X1, T = [0.1, -1.0, 2.0], [0.5, 0.25, -3.0], [1.0, 0.0, -1.0]
    step(X0, X1, T)
    theta = np.array([0.3, 0.2, -0.1, 0.9, -0.5, 0.4, 1.1, 0.3, -0.2])
    loss, grads = step.value_and_grad(np.array(X0), np.array(X1), np.array(T), theta=theta)
    for p, t in zip(w, theta.tolist(), strict=True):
        p.data, p.grad = t, 0.0
    assert loss == step(X0, X1, T)
    assert grads.tolist() == [p.grad for p in w]
    # closed form of the l2 term's share: d(0.01 w0^2)/dw0 = 0.02 w0, added to the net's
    assert grads[0] != 0.0


def test_value_and_grad_reads_and_writes_no_value():
    w, f = _layer_and_l2()
    step = autodiff.compile(f, params=w, batch="sum", backend="numpy")
    step([0.1], [0.2], [0.3])
    before = [(p.data, p.grad) for p in w]
    step.value_and_grad(np.array([0.1]), np.array([0.2]), np.array([0.3]), theta=np.zeros(9))
    assert [(p.data, p.grad) for p in w] == before


def test_a_single_unbatched_call():
    a, b = Value(2.0), Value(-1.0)
    step = autodiff.compile(lambda x: (a * x + b).exp(), params=[a, b])
    loss, grads = step.value_and_grad(0.5, theta=np.array([0.0, 1.0]))
    assert loss == math.exp(1.0)
    assert grads.tolist() == [0.5 * math.exp(1.0), math.exp(1.0)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_exact_fallback_runs_on_the_array_too(backend):
    # hoisting sums 1e-10 * 1e308 twice to inf; eager's per-example order stays finite
    w = Value(1.0)
    step = autodiff.compile(lambda x: x * (w * 1e-10), params=[w], batch="sum", backend=backend)
    step([1.0, 1.0])
    loss, grads = step.value_and_grad(np.array([1e308, 1e308]), theta=np.array([1.0]))
    assert grads.tolist() == [1e-10 * 1e308 + 1e-10 * 1e308]
    assert math.isfinite(grads[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_outputs_give_a_row_per_example(backend):
    w, _ = _layer_and_l2()

    def net(x0, x1):
        return [(w[0] * x0 + w[1] * x1 + w[2]).relu(), w[3] * x0 + w[4] * x1 + w[5]]

    forward = autodiff.compile(net, params=w, grad=False, batch="each", backend=backend)
    X0, X1 = [0.1, -1.0, 2.0], [0.5, 0.25, -3.0]
    theta = np.array([p.data for p in w])
    rows = forward.outputs(np.array(X0), np.array(X1), theta=theta)
    assert rows.shape == (3, 2)
    assert rows.tolist() == forward(X0, X1)
    by_hand = [max(0.0, 0.5 * a - 0.3 * b + 0.8) for a, b in zip(X0, X1, strict=True)]
    assert rows[:, 0].tolist() == pytest.approx(by_hand, rel=1e-15)
    single = autodiff.compile(lambda x0: w[0] * x0, params=w, grad=False, batch="each",
                              backend=backend)  # fmt: skip
    column = single.outputs(np.array(X0), theta=theta * 2.0)
    assert column.shape == (3,)
    assert column.tolist() == [2 * 0.5 * x for x in X0]


def test_parameters_are_theta_order_once_traced():
    a, b = Value(1.0), Value(2.0)
    step = autodiff.compile(lambda x: a * x + b, params=[b, a], batch="sum", backend="numpy")
    with pytest.raises(TraceError, match="not traced yet"):
        step.parameters  # noqa: B018
    loss, grads = step.value_and_grad(np.array([3.0]), theta=np.array([10.0, 1.0]))
    assert step.parameters == [b, a]
    assert loss == 13.0 and grads.tolist() == [1.0, 3.0]


@pytest.mark.parametrize(
    ("theta", "message"),
    [
        ([1.0], r"theta expected 2 numbers .* got shape \(1,\)"),
        (np.array([[1.0, 2.0]]), r"got shape \(1, 2\)"),
        (["a", "b"], "not numbers"),
        (["1.5", "2"], "not numbers"),
        ([1.0, True], "not numbers"),
        (np.array([True, False]), "not numbers"),
        ([[1.0], [2.0]], "not numbers"),
        ("12", "not numbers"),
    ],
)
def test_a_bad_theta_is_one_line(theta, message):
    a, b = Value(1.0), Value(2.0)
    step = autodiff.compile(lambda x: a * x + b, params=[a, b], batch="sum", backend="numpy")
    with pytest.raises(TraceError, match=message):
        step.value_and_grad(np.array([3.0]), theta=theta)


def test_no_theta_reads_the_parameters_current_data():
    a, b = Value(2.0), Value(1.0)
    step = autodiff.compile(lambda x: a * x + b, params=[a, b], batch="sum", backend="numpy")
    loss, grads = step.value_and_grad(np.array([3.0, 4.0]))
    assert loss == 16.0 and grads.tolist() == [7.0, 2.0]
    assert (a.grad, b.grad) == (0.0, 0.0)  # and writes no gradient


def test_bad_batches_are_refused():
    a = Value(1.0)
    step = autodiff.compile(lambda x, y: a * x + y, params=[a], batch="sum", backend="numpy")
    theta = np.array([1.0])
    with pytest.raises(TraceError, match="different numbers of examples"):
        step.value_and_grad(np.array([1.0, 2.0]), np.array([1.0]), theta=theta)
    with pytest.raises(TraceError, match="dtype object"):
        step.value_and_grad(np.array([1.0, "x"], dtype=object), np.array([1.0, 2.0]), theta=theta)
    with pytest.raises(TraceError, match="expected a number"):
        step.value_and_grad([1.0, True], [1.0, 2.0], theta=theta)


def test_the_wrong_kind_of_step_says_which_to_use():
    a = Value(1.0)
    forward = autodiff.compile(lambda x: a * x, params=[a], grad=False)
    with pytest.raises(TypeError, match="grad=True"):
        forward.value_and_grad(1.0, theta=np.array([1.0]))
    step = autodiff.compile(lambda x: a * x, params=[a])
    with pytest.raises(TypeError, match="grad=False"):
        step.outputs(1.0, theta=np.array([1.0]))


def test_threads_share_a_step_on_their_own_arrays():
    w, f = _layer_and_l2()
    step = autodiff.compile(f, params=w, batch="mean", backend="numpy")
    X0, X1, T = (np.linspace(-1, 1, 16) * k for k in (1.0, 2.0, 3.0))
    step(X0.tolist(), X1.tolist(), T.tolist())
    thetas = [np.full(9, 0.1 * k) for k in range(8)]
    expected = [step.value_and_grad(X0, X1, T, theta=t) for t in thetas]
    got: dict[int, tuple] = {}

    def work(k: int) -> None:
        for _ in range(50):
            got[k] = step.value_and_grad(X0, X1, T, theta=thetas[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(8):
        assert got[k][0] == expected[k][0]
        assert got[k][1].tolist() == expected[k][1].tolist()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_exact_fallback_takes_rows_of_a_matrix_too(backend):
    # a gradient that overflows sends the call to the per-example replay, which must take
    # each example's row of a 2-D array as numbers (it failed on numpy rows)
    w = [Value(1.0), Value(-1.0)]
    b = Value(0.0)

    def f(x, t):
        return (w[0] * x[0] + w[1] * x[1] + b - t) ** 2

    step = autodiff.compile(f, params=[*w, b], batch="mean", backend=backend)
    X, T = [[1e200, 3.0], [-1e200, 1.0]], [0.0, 0.0]
    loss, grads = step.value_and_grad(np.array(X), np.array(T))
    for p in (*w, b):
        p.grad = 0.0
    assert loss == step(X, T) == math.inf
    assert grads.tolist() == [p.grad for p in (*w, b)] == [math.inf, 2e200, 0.0]


@pytest.mark.parametrize("reverse", [False, True], ids=["inputs in order", "reversed"])
def test_the_floats_do_not_depend_on_how_the_callers_array_lies(reverse):
    # BLAS rounds a matrix product of another memory layout differently: the inputs are
    # put in C order, as the call on lists gives them, and a layer's gathered inputs too
    rng = np.random.default_rng(0)
    w = [Value(float(v)) for v in rng.uniform(-1, 1, size=3 * 9)]
    order = [8 - i if reverse else i for i in range(9)]

    def f(x, t):  # three neurons over the inputs, then a square loss
        zs = [sum((w[9 * k + i] * x[order[i]] for i in range(9)), Value(0.0)) for k in range(3)]
        return sum(((z.tanh() - t) ** 2 for z in zs), Value(0.0))

    step = autodiff.compile(f, params=w, batch="sum", backend="numpy")
    X, T = rng.uniform(-2, 2, size=(40, 9)), rng.uniform(-1, 1, size=40)
    for p in w:
        p.grad = 0.0
    on_lists = step(X.tolist(), T.tolist())
    expected = [p.grad for p in w]
    for layout in (X, np.asfortranarray(X), X[:, ::-1][:, ::-1]):
        loss, grads = step.value_and_grad(layout, T)
        assert loss == on_lists
        assert grads.tolist() == expected
