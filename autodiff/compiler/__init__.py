"""Trace once, replay fast: the tape (a Wengert list), its backends, forward mode.

``trace`` records a function's ops as a Tape; ``compile`` turns the tape into
generated code that replays forward and backward without building Values;
``jvp`` runs forward mode (dual numbers) over the same tape.
"""
