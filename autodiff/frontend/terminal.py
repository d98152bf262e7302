"""What the command line needs from the terminal: one-line usage errors and safe streams.

Kept apart from cli.py, which says what each command does; this says how any of them
talks to the terminal when things go wrong (argparse's several-line errors, a leading
minus read as an option, a closed pipe, a stream that cannot encode a character).
"""

from __future__ import annotations

import argparse
import codecs
import errno
import io
import os
import re
import shlex
import sys
from typing import IO, NoReturn, TextIO


class UsageParser(argparse.ArgumentParser):
    """argparse with usage errors on one line: what is wrong, then the short usage."""

    hint = ""
    """Appended to usage errors; main sets it when EXPR seems to start with a minus."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        usage = re.sub(r" \[-[^\[\]]*\]", "", usage)  # the options: --help lists them
        usage = usage.replace(self.prog, f"{self.prog} [options]", 1)
        say(f"{self.prog}: error: {message}{self.hint} ({usage}; see {self.prog} --help)")
        raise SystemExit(2)

    def _print_message(self, message: str, file: IO[str] | None = None) -> None:
        # argparse's own swallows write errors, so `--help > /dev/full` would exit 0;
        # let them reach main, which reports them in one line with status 1
        if message:
            (file or sys.stderr).write(message)


def leading_minus_hint(argv: list[str]) -> str:
    """Advice for `autodiff grad "-x**2" x=3`, which argparse reads as an option."""
    if not argv or argv[0] not in ("grad", "graph") or "--" in argv:
        return ""
    minus = next((a for a in argv[1:] if _starts_with_minus(a)), "")
    if not minus:
        return ""
    bindings = [a for a in argv[1:] if "=" in a and a[:1] != "-"]
    rest = [a for a in argv[1:] if a != minus and a not in bindings]
    fixed = ["autodiff", argv[0], *rest, "--", minus, *bindings]
    return f"; if EXPR starts with a minus, put -- before it: {shlex.join(fixed)}"


def _starts_with_minus(arg: str) -> bool:
    """An argument that begins with a minus and is not an option of grad or graph."""
    if arg[:1] != "-" or arg in ("-", "--", "-h", "-o") or re.fullmatch(r"-[\d.][\w.+-]*", arg):
        return False  # not a minus, an option, or a negative number (argparse takes those)
    return re.fullmatch(r"--[a-z][a-z-]*(=.*)?", arg) is None


# how characters a stream cannot encode are written (PYTHONIOENCODING=ascii, old consoles)
_ASCII = {"·": "*", "×": "x", "−": "-", "→": "->", "σ": "sigma", "…": "..."}


def _ascii_stand_in(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(_ASCII.get(ch, "?") for ch in text), error.end


codecs.register_error("autodiff-ascii", _ascii_stand_in)


def fall_back_to_ascii(stream: TextIO) -> None:
    """Let a stream that fails on characters it cannot encode write stand-ins instead."""
    try:
        unicode = codecs.lookup(stream.encoding).name.startswith("utf")
    except (AttributeError, LookupError, TypeError):
        return
    if not unicode and getattr(stream, "errors", None) == "strict":
        try:
            stream.reconfigure(errors="autodiff-ascii")  # type: ignore[attr-defined]
        except (AttributeError, ValueError, OSError):
            pass


def discard_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's last flush of what is
    still buffered neither fails again nor prints "Exception ignored"."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


class ClosedStream(io.TextIOBase):
    """Stands in for a standard stream that was closed before we started (``>&-``):
    writing to it fails as writing to a closed descriptor does, so the usual one-line
    error reports it, while a command that never prints (``graph -o``) still runs."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def say(line: str) -> None:
    """One line on stderr; if stderr itself is gone, there is no one left to tell."""
    if sys.stderr is None:  # closed (2>&-): print() would fall back to stdout
        return
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
