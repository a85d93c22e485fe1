"""`thidua --help` and `thidua --version` load no command group and none of the services behind
them (bench/cli.py measures the time); every group still shows and runs as before."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from app.cli import GROUPS
from tests.app.devstack import THIDUA

pytestmark = pytest.mark.pure

PROBE = """
import sys
sys.argv = ["thidua", *sys.argv[1:]]
import app.cli
try:
    app.cli.app()
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in
               ("temporalio", "asyncpg", "pydantic", "pydantic_settings", "domain", "eventstore",
                "workflows", "fastapi") or m.startswith(("app.cli.", "app.bootstrap")))
print("HEAVY", heavy)
"""


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_group_nor_service(flag: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, flag], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "HEAVY []" in run.stdout, run.stdout[-2000:]


def test_the_root_help_lists_every_group_with_its_own_line() -> None:
    run = subprocess.run(
        [THIDUA, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    for name, line in GROUPS.items():
        assert name in run.stdout and line in run.stdout, name
        module = importlib.import_module(f"app.cli.{name}")
        assert module.app.info.help == line  # the root's line is the group's own


def test_version_and_a_groups_help() -> None:
    run = subprocess.run([THIDUA, "--version"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.startswith("thidua ")
    run = subprocess.run(
        [THIDUA, "db", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0 and "migrate" in run.stdout, run.stdout
