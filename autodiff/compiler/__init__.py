"""Trace once, replay fast: the tape (a Wengert list), its backends, forward mode.

``trace`` records a function's ops as a Tape; ``compile`` turns the tape into
generated code that replays forward and backward without building Values;
``jvp`` runs forward mode (dual numbers) over the same tape.
"""

from autodiff.compiler.compiled import Compiled, compile
from autodiff.compiler.forward_mode import jvp
from autodiff.compiler.guard import TraceError, is_tracing
from autodiff.compiler.tape import Tape, tape_of, trace

__all__ = ["Compiled", "Tape", "TraceError", "compile", "is_tracing", "jvp", "tape_of", "trace"]
