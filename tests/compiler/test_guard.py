"""The guard decides by kind, not by caller: every way for a number to leave a trace
into Python is refused (or made right), and a refusal f swallowed still fails the trace."""

import random
import threading

import pytest

import autodiff
from autodiff import TraceError, Value


def _step(f, *args, **kwargs):
    return autodiff.compile(f, **kwargs)(*args)


def test_a_trace_error_caught_by_f_still_fails_the_compile():
    w = Value(1.0)

    def f(x):
        h = w * x
        try:
            if h.data > 0:
                return h
        except TraceError:
            pass  # the user "handles" it: the branch below would be baked into the trace
        return -h

    with pytest.raises(TraceError, match="caught this error"):
        _step(f, 3.0)


def test_a_caught_refusal_of_a_parameter_read_also_poisons():
    w = Value(2.0, label="w")

    def f(x):
        try:
            scale = w.data
        except TraceError:
            scale = 1.0
        return w * x * scale

    with pytest.raises(TraceError, match="parameter 'w'"):
        _step(f, 3.0, params=[w])


@pytest.mark.parametrize(
    "use",
    [
        lambda x, w: x * w.data,
        lambda x, w: x * Value(w.data),
        lambda x, w: x * float(w),
        lambda x, w: x * float(f"{w}"[12:15]),
    ],
    ids=["x*w.data", "Value(w.data)", "float(w)", "format"],
)
def test_a_parameter_number_used_inside_f_is_refused_not_frozen(use):
    w = Value(2.0, label="w")
    with pytest.raises(TraceError, match="parameter 'w'"):
        _step(lambda x: w * x + use(x, w), 3.0, params=[w])


def test_reading_a_parameter_after_f_used_it_is_refused_without_params():
    w = Value(2.0, label="w")

    def f(x):
        h = w * x
        return h * w.data  # w is known to be a parameter from its first use

    with pytest.raises(TraceError, match="parameter 'w'"):
        _step(f, 3.0)


@pytest.mark.parametrize(
    "leak",
    [
        lambda h: f"{h}",
        lambda h: f"{h:.3f}",
        repr,
        str,
        lambda h: "%s" % h,  # noqa: UP031 - the old formatting leaks as well
    ],
    ids=["f-string", "format spec", "repr", "str", "percent"],
)
def test_the_text_of_a_traced_number_is_refused(leak):
    w = Value(1.0)

    def f(x):
        h = w * x
        leak(h)
        return h

    with pytest.raises(TraceError, match="test_guard.py"):
        autodiff.trace(f, 2.0)


def test_writing_data_of_a_traced_value_is_refused():
    w = Value(1.0)

    def f(x):
        h = w * x
        h.data = 0.0
        return h

    with pytest.raises(TraceError, match="writing .data"):
        _step(f, 3.0)


def test_writing_data_of_an_input_is_refused():
    w = Value(1.0)

    def f(x):
        x.data /= 10
        return w * x

    with pytest.raises(TraceError, match="writing .data of an input"):
        _step(f, 3.0)


def test_writing_data_of_a_parameter_inside_f_is_refused():
    w = Value(1.0, label="w")

    def f(x):
        w.data = 5.0
        return w * x

    with pytest.raises(TraceError, match="writing .data of parameter 'w'"):
        _step(f, 3.0, params=[w])
    assert w.data == 1.0


def test_a_leaf_outside_params_is_refused_with_its_label():
    w = Value(2.0, label="w")
    scale = Value(5.0, label="scale")
    with pytest.raises(TraceError, match="'scale', which is not in params"):
        _step(lambda x: w * x * scale, 3.0, params=[w])


def test_duplicate_parameters_count_once():
    w = Value(2.0)
    step = autodiff.compile(lambda x: w * x * x, params=[w, w])
    assert step(3.0) == 18.0
    assert w.grad == 9.0  # d(w x^2)/dw = x^2, added once
    assert step.tape.params == [w]
    traced = step.tape
    step(3.0)
    assert step.tape is traced and w.grad == 18.0  # the same list: no new trace


def test_params_that_are_not_leaf_values_are_refused_at_compile():
    w = Value(1.0)
    with pytest.raises(TypeError, match="params expected a list of Values, got int"):
        autodiff.compile(lambda x: w * x, params=5)
    with pytest.raises(TypeError, match="params expected leaf Values"):
        autodiff.compile(lambda x: w * x, params=[w * 2])


def test_a_parameter_appended_after_the_trace_gets_its_gradient():
    w, b = Value(2.0), Value(1.0)
    uses_b = [False]
    params = [w]
    step = autodiff.compile(lambda x: w * x + b if uses_b[0] else w * x, params=params)
    assert step(3.0) == 6.0
    uses_b[0] = True
    params.append(b)  # the step sees the change and traces again
    assert step(3.0) == 7.0
    assert (w.grad, b.grad) == (6.0, 1.0)


def test_a_parameter_removed_after_the_trace_is_refused_by_label():
    w, b = Value(2.0, label="w"), Value(1.0, label="b")
    params = [w, b]
    step = autodiff.compile(lambda x: w * x + b, params=params)
    step(3.0)
    params.remove(b)
    with pytest.raises(TraceError, match="'b', which is not in params"):
        step(3.0)


def test_random_draws_inside_f_are_refused():
    w = Value(1.0)
    with pytest.raises(TraceError, match="random numbers"):
        _step(lambda x: w * x * random.random(), 3.0)


def test_parameters_read_live_after_an_update_outside_f():
    w = Value(2.0)
    step = autodiff.compile(lambda x: w * x, params=[w])
    assert step(3.0) == 6.0
    w.data = 4.0  # outside f: the next call reads the new number
    assert step(3.0) == 12.0


def test_no_trusted_module_names():
    """Code in a module named like the engine's is refused like any other."""
    namespace = {"__name__": "autodiff.compiler.user_code"}
    exec("def peek(h):\n    return h.data", namespace)  # noqa: S102 - a module of that name
    w = Value(1.0)
    with pytest.raises(TraceError, match="reading .data"):
        autodiff.trace(lambda x: w * x * namespace["peek"](w * x), 2.0)


def test_values_are_their_plain_kind_again_after_a_refused_trace():
    w, c = Value(2.0), autodiff.rules.MUL(Value(1.0), 1.0)
    kept = []

    def f(x):
        kept.extend([x, w * x])
        return w * x * w.data

    with pytest.raises(TraceError):
        autodiff.trace(f, 3.0, params=[w])
    assert [type(v) for v in (w, c, *kept)] == [Value] * 4
    assert repr(kept[1]) == "Value(data=6.0, grad=0.0)"


def test_ops_under_detect_anomaly_inside_f_read_traced_inputs():
    w = Value(2.0)

    def f(x):
        with autodiff.detect_anomaly():
            return (w * x).tanh() + (w * x) ** 2

    tape = autodiff.trace(f, 0.5)
    assert len(tape) == 5  # two w * x, tanh, ** 2, +


def test_two_threads_calling_one_step_lose_no_gradient():
    import sys

    # a batched replay keeps each .grad in a local over its whole loop: the widest window
    w = Value(0.5)
    step = autodiff.compile(lambda x: (w * x).tanh() * w, params=[w], batch="sum")
    xs = [0.01 * i for i in range(400)]
    step(xs)
    one, w.grad = w.grad, 0.0
    calls = 100
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often (before the lock: 0.5-7.5% lost)
    try:
        threads = [
            threading.Thread(target=lambda: [step(xs) for _ in range(calls)]) for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert w.grad == pytest.approx(2 * calls * one, rel=1e-12)


SCALE = 2.0


def test_a_global_number_f_reads_is_read_again_when_it_changes():
    global SCALE
    w = Value(1.0)
    step = autodiff.compile(lambda x: w * x * SCALE, params=[w])
    assert step(3.0) == 6.0
    SCALE = 5.0
    try:
        assert step(3.0) == 15.0  # traced again, not the frozen 2.0
        assert w.grad == 6.0 + 15.0
    finally:
        SCALE = 2.0


def test_a_closure_number_f_reads_is_read_again_when_it_changes():
    w = Value(1.0)
    scale = 2.0

    def f(x):
        return w * x * scale

    step = autodiff.compile(f, params=[w])
    assert step(3.0) == 6.0
    scale = 0.5  # noqa: F841 - read by f through its closure
    assert step(3.0) == 1.5
    traced = step.tape
    assert step(3.0) == 1.5 and step.tape is traced  # unchanged: no new trace


@pytest.mark.parametrize(
    "use",
    [
        lambda x: x * x.data,
        lambda x: x * Value(x.data),
        lambda x: x**x.data,
        # a number Python's operators compute from it carries the mark on
        lambda x: x * (2 * x.data),
        lambda x: x + (1.0 - x.data),
        lambda x: x * (x.data**2 / 3.0),
        lambda x: x * abs(-x.data),
    ],
    ids=[
        "x*x.data",
        "Value(x.data)",
        "x**x.data",
        "2*x.data",
        "1-x.data",
        "x.data**2/3",
        "abs(-x.data)",
    ],  # fmt: skip
)
def test_an_input_number_used_as_a_constant_is_refused(use):
    w = Value(1.0)
    with pytest.raises(TraceError, match="number of an input"):
        _step(lambda x: w * use(x), 3.0)


def test_an_input_number_may_still_be_read_and_compared():
    w = Value(1.0)

    def f(x, t):
        if t.data not in (-1.0, 1.0):  # validating a label, as nn's losses do
            raise ValueError("labels are -1 or +1")
        return w * x * t

    step = autodiff.compile(f)
    assert step(3.0, -1.0) == -3.0


def test_numbers_computed_from_an_input_stay_numbers_for_python():
    w = Value(1.0)

    def f(x):
        half = x.data / 2  # still a float: Python may format it and round it
        assert f"{half:.1f}" == "1.5" and int(half) == 1
        return w * x

    assert autodiff.compile(f)(3.0) == 3.0


def test_comparing_a_number_computed_from_an_input_is_refused():
    w = Value(1.0)

    def f(x):
        if 2 * x.data > 1:  # the step could not check this on the next inputs
            return w * x
        return w

    with pytest.raises(TraceError, match="comparison of a number computed from an input"):
        autodiff.compile(f)(3.0)


def test_another_thread_reads_a_parameter_while_this_one_traces():
    w = Value(2.0, label="w")
    seen = []
    started, release = threading.Event(), threading.Event()

    def reader():
        started.wait()
        seen.append((w.data, float(w), repr(w)))  # eager code elsewhere: plain behaviour
        release.set()

    def f(x):
        started.set()
        release.wait(5)
        return w * x

    t = threading.Thread(target=reader)
    t.start()
    autodiff.trace(f, 3.0, params=[w])
    t.join()
    assert seen == [(2.0, 2.0, "Value(data=2.0, grad=0.0, label='w')")]


def test_draws_from_numpys_global_generator_inside_f_are_refused():
    np = pytest.importorskip("numpy")
    w = Value(1.0)
    with pytest.raises(TraceError, match="random numbers"):
        _step(lambda x: w * x * float(np.random.rand()), 3.0)


# comparisons of an input's number: recorded, checked on every call


def _branchy(w: Value):
    def f(x):
        return w * x * x if x.data > 0 else -(w * x)  # eager: 2x^2 for x > 0, else -2x

    return f


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_a_branch_on_an_input_traces_again_where_it_comes_out_otherwise(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    w = Value(2.0)
    step = autodiff.compile(_branchy(w), params=[w], backend=backend)
    for x, loss, grad in ((3.0, 18.0, 9.0), (-3.0, 6.0, 3.0), (1.0, 2.0, 1.0)):
        w.grad = 0.0
        assert step(x) == loss  # eager: 2 * 9, -2 * -3, 2 * 1
        assert w.grad == grad
    (comparison,) = step.tape.comparisons
    assert (comparison.slot, comparison.op, comparison.other, comparison.outcome) == (
        0, ">", 0.0, True)  # fmt: skip
    assert "test_guard.py" in comparison.where


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_a_batch_follows_its_branch_or_is_refused_when_it_splits(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    w = Value(2.0)
    step = autodiff.compile(_branchy(w), params=[w], batch="sum", backend=backend)
    assert step([1.0, 2.0]) == 2.0 + 8.0
    assert step([-1.0, -2.0]) == 2.0 + 4.0  # the other branch for all: traced again
    with pytest.raises(
        TraceError, match=r"input 0's number > 0.0 at .*test_guard.py.* examples 0 and 1"
    ):
        step([1.0, -1.0])
    forward = autodiff.compile(_branchy(w), params=[w], batch="each", grad=False, backend=backend)
    assert forward([1.0, 2.0]) == [2.0, 8.0]
    assert forward([-1.0]) == [2.0]
    with pytest.raises(TraceError, match="come out differently"):
        forward([3.0, -3.0])


def test_value_and_grad_and_outputs_follow_the_comparisons_too():
    np = pytest.importorskip("numpy")
    w = Value(2.0)
    step = autodiff.compile(_branchy(w), params=[w], batch="sum", backend="numpy")
    step([1.0])
    loss, grads = step.value_and_grad(np.array([-1.0, -2.0]), theta=np.array([3.0]))
    assert loss == 3.0 + 6.0 and grads.tolist() == [3.0]
    with pytest.raises(TraceError, match="come out differently"):
        step.value_and_grad(np.array([1.0, -2.0]))
    forward = autodiff.compile(_branchy(w), params=[w], batch="each", grad=False, backend="numpy")
    assert forward.outputs(np.array([-4.0]), theta=np.array([1.0])).tolist() == [4.0]


def test_truth_and_comparisons_between_inputs_are_followed():
    w = Value(1.0)

    def f(x, y):
        if not x.data:  # `if x.data:` is x != 0
            return w * y
        return w * x if x.data > y.data else w * y  # the larger one

    step = autodiff.compile(f, params=[w])
    for x, y in ((1.0, 5.0), (5.0, 1.0), (0.0, -2.0), (-1.0, -3.0)):
        assert step(x, y) == f(Value(x), Value(y)).data
    assert {c.op for c in step.tape.comparisons} == {"!=", ">"}


def test_a_label_check_in_a_batch_of_mixed_labels_is_refused_not_baked_in():
    # reading and comparing labels is allowed; in a batch the check's comparisons split
    # on mixed labels, so the step refuses rather than follow one example's outcomes
    w = Value(1.0)

    def f(x, t):
        if t.data not in (-1.0, 1.0):
            raise ValueError("labels are -1 or +1")
        return w * x * t

    step = autodiff.compile(f, batch="sum")
    assert step([3.0, 2.0], [1.0, 1.0]) == 5.0
    with pytest.raises(TraceError, match="move a check that only validates out of f"):
        step([3.0, 2.0], [1.0, -1.0])


@pytest.mark.parametrize(
    ("name", "branch"),
    [
        ("numpy int", lambda x: x.data > __import__("numpy").int64(0)),
        ("Fraction", lambda x: x.data > __import__("fractions").Fraction(1, 2)),
        ("True", lambda x: x.data == True),  # noqa: E712 - 1.0 == True is True
        ("chained", lambda x: 0.5 < x.data < 10),
        ("max", lambda x: max(x.data, 0.5) == x.data),
        ("sorted", lambda x: sorted([x.data, 0.5])[0] == 0.5),
    ],
)
def test_comparisons_with_other_kinds_of_numbers_are_followed(name, branch):
    if name == "numpy int":
        pytest.importorskip("numpy")
    w = Value(2.0)

    def f(x):
        return w * x if branch(x) else -(w * x * x)

    step = autodiff.compile(f, params=[w])
    for x in (1.0, -3.0, 1.0, 0.25):
        assert step(x) == f(Value(x)).data, (name, x)


def test_a_lookup_by_hash_and_an_inexact_comparison_are_refused():
    w = Value(2.0)
    with pytest.raises(TraceError, match="dict key or set member"):
        autodiff.compile(lambda x: w * x if x.data in {1.0, 2.0} else w)(3.0)
    with pytest.raises(TraceError, match="which no float equals"):
        autodiff.compile(lambda x: w * x if x.data == 10**16 + 1 else w)(1e16)


def test_a_number_kept_from_another_trace_is_a_constant():
    w = Value(2.0)
    kept = []
    autodiff.compile(lambda x: kept.append(x.data) or w * x)(3.0)  # kept[0] is 3.0

    def f(y):
        return w * y if y.data > kept[0] else w * y * y

    step = autodiff.compile(f, params=[w])
    for y in (5.0, 2.0, 4.0):
        assert step(y) == f(Value(y)).data
    (comparison,) = step.tape.comparisons
    assert (comparison.slot, comparison.op, comparison.other) == (0, ">", 3.0)


def test_theta_is_refused_without_params_when_f_branches_on_its_inputs():
    # each branch's trace may reach the parameters in another order: theta has none
    np = pytest.importorskip("numpy")
    w1, w2 = Value(1.0), Value(2.0)

    def g(x):  # without params=, the parameters are found in the order ops reach them
        return w1 * x + 10 * w2 if x.data > 0 else w2 * x + 10 * w1

    step = autodiff.compile(g)
    for x in (3.0, -3.0, -3.0):  # the same answer every time, whatever came before
        with pytest.raises(TraceError, match="give compile params"):
            step.value_and_grad(x, theta=np.array([100.0, 7.0]))
    assert step.value_and_grad(-3.0)[0] == 2.0 * -3.0 + 10 * 1.0  # theta=None: their data
    fixed = autodiff.compile(g, params=[w1, w2])  # with params= the order stays
    assert fixed(3.0) == 23.0
    assert fixed.value_and_grad(-3.0, theta=np.array([100.0, 7.0]))[0] == 7.0 * -3.0 + 1000.0


def test_float_of_an_input_is_refused_and_decimal_comparisons_are_followed():
    from decimal import Decimal

    w = Value(2.0)
    with pytest.raises(TraceError, match="float\\(\\) of an input"):
        autodiff.compile(lambda x: w * x if float(x) > 0 else -(w * x))(2.5)
    step = autodiff.compile(lambda x: w * x if x.data > Decimal("0") else -(w * x), params=[w])
    assert (step(2.5), step(-2.5)) == (5.0, 5.0)


def test_a_step_keeps_the_traces_of_the_branches_it_has_taken():
    w = Value(2.0)
    step = autodiff.compile(_branchy(w), params=[w])
    step(1.0)
    positive = step.tape
    step(-1.0)
    negative = step.tape
    for x in (3.0, -3.0, 0.5, -0.5):  # back and forth without tracing again
        assert step(x) == _branchy(w)(Value(x)).data
        assert step.tape is (positive if x > 0 else negative)


def test_a_comparison_past_the_branch_a_batch_leaves_is_not_held_against_it():
    w = Value(2.0)

    def f(x, y):  # y is compared only where x > 0
        if x.data > 0:
            return w * y if y.data > 0 else -(w * y)
        return w * x

    step = autodiff.compile(f, params=[w], batch="sum")
    assert step([1.0, 2.0], [1.0, 1.0]) == 4.0
    # x <= 0 everywhere: y, mixed here, is not compared on this branch
    assert step([-1.0, -2.0], [1.0, -1.0]) == -6.0


def test_without_params_a_plain_call_follows_a_branch_that_reaches_other_parameters():
    w1, w2 = Value(1.0), Value(2.0)

    def g(x):
        return w1 * x + w2 if x.data > 0 else w2 * x * x

    step = autodiff.compile(g)
    assert step(3.0) == 5.0
    w1.grad = w2.grad = 0.0
    assert step(-3.0) == 18.0 and (w1.grad, w2.grad) == (0.0, 9.0)
