"""`thidua scenario run` as a user runs it: a subprocess with its own THIDUA_HOME and neither
DATABASE_URL nor TEMPORAL_ADDRESS, so it brings up the embedded stack by itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.scenario import compare_outcome
from eventstore import stop_embedded

pytestmark = pytest.mark.temporal

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "app" / "scenarios" / "kg-khoi-2-2018.json"
# the console script installed with the project, beside this interpreter
THIDUA = [str(Path(sys.executable).parent / "thidua")]


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """One data directory for the module; its embedded PostgreSQL is stopped afterwards."""
    # not under pytest's own tmp folder: as root, the embedded server (another user) must reach it
    home = Path(tempfile.mkdtemp(prefix="thidua-thidua-home-"))
    yield home
    stop_embedded(home / "postgres")


def thidua(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    env["THIDUA_HOME"] = str(home)
    return subprocess.run(
        [*THIDUA, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_reference_case_runs_end_to_end(home: Path) -> None:
    run = thidua(home, "scenario", "run", str(REFERENCE), "--json")
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout)
    expect = json.loads(REFERENCE.read_text("utf-8"))["expect"]
    assert compare_outcome(outcome, expect) == []
    assert outcome["events"] == 52
    assert outcome["status"] == "completed"
    assert all(s["ok"] for s in outcome["steps"])
    assert len(outcome["last_hash"]) == 64


def test_invalid_scenario_exits_2_naming_the_field(home: Path, tmp_path: Path) -> None:
    data = json.loads(REFERENCE.read_text("utf-8"))
    data["steps"][8]["sections"]["c1"] = "abc"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    run = thidua(home, "scenario", "run", str(bad), "--json")
    assert run.returncode == 2
    assert run.stdout == ""
    assert "steps[8].sections.c1" in run.stderr
    assert "not_a_number" in run.stderr


def test_outcome_that_differs_from_expect_exits_1(home: Path, tmp_path: Path) -> None:
    data = json.loads(REFERENCE.read_text("utf-8"))
    data["expect"]["next_deputy"] = "vp-hdnd"
    differs = tmp_path / "differs.json"
    differs.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    run = thidua(home, "scenario", "run", str(differs), "--json")
    assert run.returncode == 1
    assert json.loads(run.stdout)["next_deputy"] == "vp-doan-dbqh"
    assert "next_deputy" in run.stderr
