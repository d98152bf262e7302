"""The tutorial notebooks run, and their stored outputs are what the code prints today.

Each notebook of docs/tutorials/ is executed top to bottom on a real Jupyter kernel (this
test's own Python, through docs/tutorials/execute.py). It must run without an error or
anything on stderr, every cell tagged `graph` must display an SVG drawing (graphviz-pure
from pip draws it without system Graphviz), and every stored output must match the fresh
one: the same kinds of output, and the same text with every number equal to the digits it
is printed with. Only a number printed in full (15 or more significant digits) may differ,
by a few units in the last place, as a float computed by another platform's libm can.
Rerun `python docs/tutorials/execute.py` after changing a notebook or what it calls.
"""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebooks need the test extra (nbformat)")
pytest.importorskip("nbclient", reason="the notebooks need the test extra (nbclient)")
pytest.importorskip("ipykernel", reason="the notebooks need the test extra (ipykernel)")

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "docs" / "tutorials"
_spec = importlib.util.spec_from_file_location("tutorials_execute", TUTORIALS / "execute.py")
execute = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute)

NOTEBOOKS = execute.notebooks()
IMAGES = ("image/svg+xml", "image/png")
# a float printed with this many significant digits is a full repr, not a rounded figure
FULL_PRECISION = 15
ULPS = 4
# a number standing alone, not the digits of a name such as v0, w1 or step_003
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")
# the file ipykernel gives a cell's code, which names the kernel's process id (<pid> once saved)
CELL_FILE = re.compile(r"\S*ipykernel_(?:\d+|<pid>)[/\\]\d+\.py")


def _needs_digits(path: Path) -> str | None:
    """Why a chapter cannot run on this checkout, or None."""
    if path.name.startswith("05-"):
        import nn.data

        if not hasattr(nn.data, "load_digits"):
            return (
                "chapter 5 needs nn.data.load_digits() and fit(compile=True) on "
                "losses.cross_entropy (the real-data work), which this checkout does not have"
            )
    return None


def shown(outputs) -> list[tuple[str, str]]:
    """(kind, text) of each output: streams by name, displays by their MIME types.

    A display with an image is compared by its kinds only: its text/plain is Python's
    repr of the object (an address) and its pixels depend on the renderer's version.
    """
    found = []
    for output in outputs:
        if output.output_type == "stream":
            found.append((f"stream {output.name}", output.text))
        elif output.output_type == "error":
            found.append((f"error {output.ename}", output.evalue))
        else:
            kinds = sorted(output.data)
            text = "" if any(k in IMAGES for k in kinds) else output.data.get("text/plain", "")
            found.append((" ".join(kinds), text))
    return found


def _significant_digits(token: str) -> int:
    mantissa = re.split(r"[eE]", token)[0].lstrip("+-").replace(".", "").lstrip("0")
    return len(mantissa)


def _unit_in_last_place(token: str) -> float:
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def numbers_agree(stored: str, fresh: str) -> bool:
    """Whether two printed numbers are the same to the digits printed (see the module)."""
    if stored == fresh:
        return True
    if not any(c in token for token in (stored, fresh) for c in ".eE"):
        return False  # integers are counts: exact
    if min(_significant_digits(stored), _significant_digits(fresh)) < FULL_PRECISION:
        return False
    a, b = float(stored), float(fresh)
    slack = max(_unit_in_last_place(stored), _unit_in_last_place(fresh))
    return abs(a - b) <= max(slack, ULPS * math.ulp(max(abs(a), abs(b))))


def text_agrees(stored: str, fresh: str) -> bool:
    """The same text around the numbers, and each number the same to its printed digits."""
    stored, fresh = CELL_FILE.sub("<cell>", stored), CELL_FILE.sub("<cell>", fresh)
    if NUMBER.split(stored) != NUMBER.split(fresh):
        return False
    pairs = zip(NUMBER.findall(stored), NUMBER.findall(fresh), strict=True)
    return all(numbers_agree(a, b) for a, b in pairs)


def test_there_are_five_chapters_in_order():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01-", "02-", "03-", "04-", "05-"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebook_runs_and_its_stored_outputs_are_current(path: Path):
    reason = _needs_digits(path)
    if reason:
        pytest.skip(reason)
    stored = nbformat.read(path, as_version=4)
    fresh, _seconds = execute.execute(path)  # raises at the first cell that fails

    code = [(s, f) for s, f in zip(stored.cells, fresh.cells, strict=True) if s.cell_type == "code"]
    counts = [s.get("execution_count") for s, _ in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name} was not saved from one run top to bottom (execution counts {counts}); "
        "run python docs/tutorials/execute.py"
    )
    for number, (old, new) in enumerate(code, 1):
        where = f"{path.name}, code cell {number} ({old.source.splitlines()[0]!r})"
        new_shown = shown(new.outputs)
        assert not [t for k, t in new_shown if k == "stream stderr"], (
            f"{where} writes to stderr (a warning?): keep the page clean"
        )
        if "graph" in old.metadata.get("tags", []):
            assert any("image/svg+xml" in k for k, _ in new_shown), f"{where}: no SVG drawing"
        old_shown = shown(old.outputs)
        old_kinds, new_kinds = [k for k, _ in old_shown], [k for k, _ in new_shown]
        assert old_kinds == new_kinds, (
            f"{where}: stored outputs {old_kinds}, fresh {new_kinds}; "
            "run python docs/tutorials/execute.py"
        )
        for (_, old_text), (_, new_text) in zip(old_shown, new_shown, strict=True):
            assert text_agrees(old_text, new_text), (
                f"{where}: the stored output is not what the code prints now; run python "
                f"docs/tutorials/execute.py\n--- stored\n{old_text}\n--- fresh\n{new_text}"
            )


def test_the_comparison_catches_drift():
    assert text_agrees("loss 0.026, accuracy 0.98", "loss 0.026, accuracy 0.98")
    assert not text_agrees("loss 0.026", "loss 0.027")  # a rounded figure: every digit
    assert not text_agrees("accuracy 0.98", "accuracy 0.99")
    assert not text_agrees("25 mistakes", "26 mistakes")  # counts are exact
    assert not text_agrees("loss 0.026", "loss: 0.026")  # the words too
    assert not text_agrees("[1.0, 2.0]", "[1.0, 2.0, 3.0]")
    # a full repr may move by an ulp or two (another libm), not by more
    assert text_agrees("grad 0.9999999999999996", "grad 0.9999999999999997")
    assert not text_agrees("grad 0.9999999999999996", "grad 0.9999999999999896")
    assert not text_agrees("x 0.30000000000000004", "x 0.3")
    # names with digits are text, not numbers
    assert not text_agrees("g0 += v1 * g3", "g0 += v2 * g3")
    assert text_agrees("at /tmp/ipykernel_81/1906.py:3", "at /tmp/ipykernel_92/1906.py:3")
    assert text_agrees("at /tmp/ipykernel_<pid>/1906.py:3", "at /tmp/ipykernel_92/1906.py:3")
    assert not text_agrees("at /tmp/ipykernel_<pid>/1906.py:3", "at /tmp/ipykernel_92/1906.py:4")
