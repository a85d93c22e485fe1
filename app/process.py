"""Leaving a process that used Temporal's client or worker."""

from __future__ import annotations

import atexit
import os
import sys
from typing import NoReturn

__all__ = ["exit_now"]


def exit_now(code: int) -> NoReturn:
    """Run the exit handlers, flush, and leave without finalising the interpreter.

    Temporal's core runtime keeps native threads that may call into Python while the interpreter
    finalises, which on rare occasions aborts the process ("PyGILState_Release") after all the
    work is done, turning a clean exit code into 134."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
