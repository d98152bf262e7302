"""A saved model on disk: JSON written atomically, read back strictly.

Writing: the text goes to a new file in the target's directory, which is renamed
over the target (``os.replace``), so a crash leaves either the old file or the new
one, never half of one. The new file gets the permissions a plain ``open(path, "w")``
would give it: those of the file it replaces, or ``0o666`` minus the umask for a new
file. A symlink is followed: its target is replaced and the link stays a link.

Reading: anything that is not exactly a JSON object with unique keys and integers
of sane size is a ValueError naming the file.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from typing import Any

# An int of more digits than this is far beyond a float's range (about 1.8e308),
# so it cannot be a parameter; refusing it early also avoids Python's int-to-str
# limit (4300 digits) and its quadratic-time conversion.
MAX_INT_DIGITS = 400


class _BadDocument(ValueError):
    """Raised by the JSON hooks; load() adds the file's name."""


def write_text_atomically(path: str, text: str) -> None:
    """Replace the file at ``path`` (through a symlink) by ``text``, atomically."""
    target = os.path.realpath(path)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # keep the replaced file's mode
    except FileNotFoundError:
        mode = None  # a new file: os.open applies the umask to 0o666, as open() does
    try:
        tmp, fd = _create_temporary(os.path.dirname(target), os.path.basename(target))
    except OSError as e:  # name the file asked for, not the temporary one
        raise type(e)(e.errno, e.strerror, path) from None
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fd = -1  # the file object owns it now
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if fd != -1:
            os.close(fd)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _create_temporary(directory: str, name: str) -> tuple[str, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue


def read_json_object(path: str) -> dict[str, Any]:
    """The JSON object in the file at ``path``; ValueError naming the file otherwise."""
    with open(path, encoding="utf-8") as f:
        try:
            document = json.load(f, parse_int=_parse_int, object_pairs_hook=_unique_keys)
        except _BadDocument as e:
            raise ValueError(f"{path} is not a saved model: {e}") from None
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise ValueError(f"{path} is not a saved model: invalid JSON ({e})") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a saved model: expected a JSON object")
    return document


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _BadDocument(f"an integer of {digits} digits is out of range")
    return int(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            shown = key if len(key) <= 60 else key[:57] + "..."
            raise _BadDocument(f"duplicate key {shown!r}")
        document[key] = value
    return document
