"""The Graphviz programs that draw DOT text: which one is here, and running it safely.

Graphviz's own ``dot`` on PATH comes first; without it, ``graphviz-pure``, a
self-contained Graphviz that pip installs as a wheel (it writes SVG and PNG, not PDF).
``renderer()`` says which one draws. Every run has a time limit, after which the program
is killed (GraphvizTimeout); on Ctrl-C it is killed too. Graphviz writes to a pipe and
the bytes reach the user's file through a temporary file renamed into place, so a
stopped, failed or interrupted run leaves no file behind, and file errors name the
user's path.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sysconfig
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT = 20.0
"""Seconds one Graphviz run may take before it is stopped (GraphvizTimeout)."""

_PURE = "graphviz-pure"
_PURE_FORMATS = frozenset(
    {"svg", "png", "jpeg", "jpg", "jpe", "dot", "gv", "xdot", "json", "plain"}
)
_INSTALL = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz, macOS: brew install graphviz, "
    "others: https://graphviz.org/download/), or on Linux x86_64/aarch64, macOS and Windows: "
    "pip install graphviz-pure"
)
_PURE_ESTIMATE = "no value for width of non-ASCII character"
_FONT_LIST = re.compile(r'fontname="([^",]+),[^"]*"')
_log = logging.getLogger(__name__)


class GraphvizError(RuntimeError):
    """Graphviz failed to draw a graph."""


class GraphvizNotFound(GraphvizError):
    """No Graphviz able to draw the requested format (the DOT source was saved instead).

    ``saved_to`` is where the DOT source was written (None when nothing was saved).
    """

    def __init__(self, message: str, saved_to: Path | None = None) -> None:
        super().__init__(message)
        self.saved_to = saved_to


class GraphvizTimeout(GraphvizError):
    """Graphviz did not finish within the time limit and was stopped."""


def renderer() -> str:
    """One line saying which Graphviz draws graphs here, e.g. "dot 2.43.0 (/usr/bin/dot)".

    Graphviz's own ``dot`` on PATH comes first; without it, the ``graphviz-pure``
    program installed from pip (a wheel, no system libraries); otherwise "none (...)"
    with how to install one. ``AUTODIFF_GRAPHVIZ=dot``, ``=graphviz-pure`` or ``=none``
    allows only that one.
    """
    try:
        program = find_program()
    except GraphvizError as error:
        return f"none ({error})"
    if program is None:
        return f"none ({_INSTALL})"
    version = _version_of(program)
    where = f"pip wheel, {program.path}" if program.kind == _PURE else program.path
    return f"{program.kind} {version} ({where})"


def write_graph(
    source: str,
    fmt: str,
    path: Path,
    timeout: float | None = DEFAULT_TIMEOUT,
    *,
    saved: Path | None = None,
    quiet: bool = False,
) -> None:
    """Write DOT ``source`` to ``path`` as ``fmt`` ("svg", "png", "pdf" or "dot").

    The file appears complete or not at all: Graphviz writes to a pipe, and the bytes
    go to a temporary file that is renamed into place, so a stopped, failed or
    interrupted run leaves nothing behind. If no Graphviz can draw ``fmt``, the source
    is saved to ``saved`` (when the caller has not already: ``path`` with ``.dot``)
    and GraphvizNotFound is raised.
    """
    _make_parent(path)
    if fmt == "dot":
        write_text(path, source)
        return
    program = _program_for(fmt)
    if program is None:
        if saved is None:
            saved = _save_source(source, path)
        raise GraphvizNotFound(
            _cannot_draw(
                fmt,
                f"{path} was not written; the DOT source was saved to {saved}",
                f"run again, or run: dot -T{fmt} {saved} -o {path}",
            ),
            saved,
        )
    data, message = _run(program, source, fmt, timeout, path.name)
    _write_bytes(path, data)
    if message and not quiet:
        warnings.warn(f"Graphviz: {message}", RuntimeWarning, stacklevel=3)


def draw(source: str, fmt: str, timeout: float | None, what: str) -> tuple[bytes, str]:
    """DOT ``source`` drawn as ``fmt`` ("svg", "png", "pdf"), and what Graphviz printed
    (``what`` names the graph in errors); GraphvizNotFound without a Graphviz that draws
    ``fmt``, GraphvizTimeout after ``timeout`` seconds."""
    program = _program_for(fmt)
    if program is None:
        raise GraphvizNotFound(_cannot_draw(fmt, f"{what} was not drawn", "try again"))
    return _run(program, source, fmt, timeout, what)


def draw_svg(source: str, timeout: float | None, what: str) -> bytes:
    """DOT ``source`` drawn as SVG bytes; Graphviz's messages become warnings."""
    data, message = draw(source, "svg", timeout, what)
    if message:
        warnings.warn(f"Graphviz: {message}", RuntimeWarning, stacklevel=3)
    return data


@dataclass(frozen=True)
class _Program:
    """A Graphviz command line program: Graphviz's own ``dot``, or graphviz-pure."""

    kind: str  # "dot" or "graphviz-pure"
    path: str

    def writes(self, fmt: str) -> bool:
        return self.kind == "dot" or fmt in _PURE_FORMATS


def find_program() -> _Program | None:
    """``dot`` on PATH, else graphviz-pure (on PATH or next to this Python), else None.

    The environment variable AUTODIFF_GRAPHVIZ (dot, graphviz-pure or none) allows
    only that one.
    """
    wanted = os.environ.get("AUTODIFF_GRAPHVIZ", "").strip().lower()
    if wanted not in ("", "dot", _PURE, "none"):
        raise GraphvizError(f"AUTODIFF_GRAPHVIZ must be dot, graphviz-pure or none, got {wanted!r}")
    if wanted in ("", "dot"):
        dot = shutil.which("dot")
        if dot is not None:
            return _Program("dot", dot)
    if wanted in ("", _PURE):
        # a venv's scripts folder is not on PATH when its Python is run by full path
        pure = shutil.which(_PURE) or shutil.which(_PURE, path=sysconfig.get_path("scripts"))
        if pure is not None:
            return _Program(_PURE, pure)
    return None


def _program_for(fmt: str) -> _Program | None:
    """The program that will draw ``fmt``, or None when none here can."""
    program = find_program()
    return program if program is not None and program.writes(fmt) else None


def _cannot_draw(fmt: str, what_happened: str, then: str) -> str:
    """The one-line explanation given when no Graphviz here can draw ``fmt``."""
    program = find_program()
    if program is not None and not program.writes(fmt):
        return (
            f"{program.kind} (the Graphviz installed from pip, used because Graphviz's `dot` "
            f"is not on PATH) cannot write {fmt.upper()}, so {what_happened}. Write .svg or "
            f".png instead, or install Graphviz for {fmt.upper()} (Debian/Ubuntu: apt-get "
            f"install graphviz, macOS: brew install graphviz, others: "
            f"https://graphviz.org/download/) and {then}"
        )
    return not_found_message(what_happened, then)


def _run(
    program: _Program, source: str, fmt: str, timeout: float | None, target: str
) -> tuple[bytes, str]:
    """``program``'s drawing of ``source`` in ``fmt``, and what it printed on stderr.

    The program is killed (and reaped) after ``timeout`` seconds (GraphvizTimeout) and
    on any exception, KeyboardInterrupt included, which is then raised again.
    """
    if program.kind == _PURE:
        # graphviz-pure knows font metrics by a single name; with a fallback list it
        # measures text as Times and the text overflows the table cells
        source = _FONT_LIST.sub(r'fontname="\1"', source)
    _log.debug("drawing %s as %s with %s (%s)", target, fmt, program.kind, program.path)
    name = "Graphviz's dot" if program.kind == "dot" else program.kind
    try:
        process = subprocess.Popen(
            [program.path, f"-T{fmt}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as error:  # found but not runnable
        raise GraphvizError(f"{name} ({program.path}) could not be run: {error}") from None
    with process:
        try:
            stdout, stderr = process.communicate(source.encode("utf-8"), timeout=timeout)
        except BaseException as error:  # the time limit, Ctrl-C or anything else
            process.kill()
            process.wait()  # reaped now, not left as a zombie until Python exits
            if isinstance(error, subprocess.TimeoutExpired):
                raise GraphvizTimeout(
                    f"{name} did not finish drawing {target} within {timeout:g} s and was "
                    "stopped; draw a smaller or simpler graph (one Value used by many ops is "
                    "the slow case), or allow more time (timeout=, on the command line "
                    "--timeout SECONDS)"
                ) from None
            raise
    message = stderr.decode("utf-8", errors="replace").strip()
    if program.kind == _PURE:
        # graphviz-pure sizes non-ASCII text by an estimate and says so every time; the
        # drawings stay readable (checked by eye), so this note is not passed on
        message = "\n".join(
            line for line in message.splitlines() if _PURE_ESTIMATE not in line
        ).strip()
    if process.returncode < 0:  # killed by a signal: it crashed
        raise GraphvizError(
            f"{name} crashed ({_signal_name(-process.returncode)}) while laying out {target}; "
            "dense graphs (one Value used by many ops) can do this: draw a smaller "
            "expression or save the .dot file and try another layout"
        )
    if process.returncode != 0:
        first = message.splitlines()[0] if message else "no message"
        raise GraphvizError(f"{name} failed (exit {process.returncode}) on {target}: {first}")
    return stdout, message


def _version_of(program: _Program) -> str:
    """The version ``program -V`` reports ("2.43.0"), or "(version unknown)"."""
    try:
        done = subprocess.run([program.path, "-V"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "(version unknown)"
    said = (done.stderr + done.stdout).decode("utf-8", errors="replace")
    found = re.search(r"version\s+(\S+)", said)
    return found.group(1) if found else "(version unknown)"


def check_timeout(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    return timeout


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def not_found_message(what_happened: str, then: str) -> str:
    """The one-line explanation given when no Graphviz is found."""
    wanted = os.environ.get("AUTODIFF_GRAPHVIZ", "").strip().lower()
    if wanted in ("dot", _PURE, "none"):
        missing = f"No Graphviz program is allowed or found (AUTODIFF_GRAPHVIZ={wanted})"
    else:
        missing = (
            "No Graphviz was found (neither Graphviz's `dot` on PATH nor graphviz-pure from pip)"
        )
    return f"{missing}, so {what_happened}. To draw, {_INSTALL}, and {then}"


_SAVED_MARK = "// DOT source saved by autodiff for "


def _save_source(source: str, path: Path) -> Path:
    """Save ``source`` next to ``path`` (``graph.pdf`` -> ``graph.dot``) for a later run of
    Graphviz. A file of that name that autodiff did not save is never overwritten: then
    ``graph.pdf.dot``, and if that is someone's too, a fresh ``graph.pdf.N.dot``."""
    text = f"{_SAVED_MARK}{path.name}\n{source}"
    candidates = [path.with_suffix(".dot"), path.with_name(path.name + ".dot")]
    for candidate in candidates:
        if not candidate.exists() or _saved_by_us(candidate):
            write_text(candidate, text)
            return candidate
    n = 1
    while path.with_name(f"{path.name}.{n}.dot").exists():
        n += 1
    saved = path.with_name(f"{path.name}.{n}.dot")
    write_text(saved, text)
    return saved


def _saved_by_us(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline().startswith(_SAVED_MARK)
    except OSError:
        return False


def check_file_target(path: Path) -> None:
    """Before any work: ``path`` can be a new or replaced file in a folder that exists.

    A missing folder is an error naming it, as Graphviz and compilers do; nothing is
    created on the way (a typo in a path should not leave folders behind).
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder")
    parent = path.parent
    for folder in (parent, *parent.parents):  # the first one that exists says what is wrong
        if folder.exists():
            if not folder.is_dir():
                raise NotADirectoryError(f"cannot write {path}: {folder} is a file, not a folder")
            break
    if not parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"cannot write {path}: the folder {parent} is not writable")


def _make_parent(path: Path) -> None:
    check_file_target(path)


def write_text(path: Path, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` completely or not at all; errors name ``path``."""
    temporary = None
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        _publish(temporary, path)
    except OSError as error:  # name the user's path, not our hidden temporary file
        raise _about(error, path) from None
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)


def _about(error: OSError, path: Path) -> OSError:
    """``error`` again, naming ``path`` (and not a temporary file beside it)."""
    if error.errno is None:
        return OSError(f"cannot write {path}: {error}")
    return type(error)(error.errno, f"cannot write {path}: {error.strerror}")


def _publish(temporary: str, path: Path) -> None:
    """Move a finished temporary file into place, with the usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    os.replace(temporary, path)
