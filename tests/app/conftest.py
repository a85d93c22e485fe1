"""One `thidua dev up` subprocess for the CLI tests of tests/app (started on first use)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.devstack import REFERENCE, DevStack, thidua


@pytest.fixture(scope="session")
def stack() -> Iterator[DevStack]:
    # not under pytest's base directory: pytest makes that 0700 again at each session, and the
    # embedded PostgreSQL runs as its own user
    home = Path(tempfile.mkdtemp(prefix="thidua-dev-"))
    stack = DevStack(home)
    try:
        stack.start()
        yield stack
    finally:
        stack.close()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def started(stack: DevStack) -> str:
    """The reference cycle (kg-khoi-2, 2018) started on the stack with `thidua cycle start`."""
    run = thidua(stack.home, "cycle", "start", str(REFERENCE))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "started cycle:kg-khoi-2:2018"
    return "kg-khoi-2"
