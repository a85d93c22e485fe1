"""`thidua db …` as a user runs it, against the shared `thidua dev up` stack."""

from __future__ import annotations

import pytest

from tests.app.devstack import DevStack, thidua

pytestmark = pytest.mark.temporal


def test_migrate_on_a_migrated_database_changes_nothing(stack: DevStack) -> None:
    run = thidua(stack.home, "db", "migrate")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "schema up to date"


def test_migrate_on_an_unreachable_database_is_one_line(stack: DevStack) -> None:
    run = thidua(stack.home, "db", "migrate",
                 DATABASE_URL="postgresql://thidua:pw-not-shown@127.0.0.1:9/x")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "pw-not-shown" not in run.stderr
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("error: PostgreSQL: ")


def test_db_stop_with_a_database_url_stops_nothing(stack: DevStack) -> None:
    run = thidua(stack.home, "db", "stop", DATABASE_URL=stack.info()["database_url"])
    assert run.returncode == 0
    assert run.stdout.strip() == "DATABASE_URL is set: nothing to stop"
