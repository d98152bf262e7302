"""Tests that an object is freed by reference counting alone, not by the collector."""

import gc
from contextlib import contextmanager


@contextmanager
def collector_off():
    """Only reference counting can free objects inside this block."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
