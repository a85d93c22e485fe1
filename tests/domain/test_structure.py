"""The domain's shape: one handler per command, named as it; one rebuild per command-leading
event; one stage table; finding kinds defined once; small modules."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

import pytest

import domain
from domain import commands as c
from domain.commands import COMMAND_NAMES
from domain.events import EVENT_TYPES
from domain.recheck import BY_NAME, FOLLOWERS, IRREGULAR, REBUILD, recheck
from domain.rules import HANDLERS, STAGE_MODULES
from domain.scenario import load_scenario, run_pure
from domain.stages import DEADLINE_STAGES, STAGE_AFTER, STAGES
from domain.values import FINDING_KINDS

pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [
    *sorted((ROOT / "tests" / "workflows" / "scenarios").glob("*.json")),
    ROOT / "app" / "scenarios" / "kg-khoi-2-2018.json",
]


def test_every_command_has_one_handler_named_as_the_command() -> None:
    assert sorted(HANDLERS) == sorted(COMMAND_NAMES)
    for name, handler in HANDLERS.items():
        assert handler.__name__ == name
        assert handler.__module__.startswith("domain.rules.")
    listed = [h.__name__ for m in STAGE_MODULES for h in m.HANDLERS]
    assert len(listed) == len(set(listed))


def test_every_event_a_command_leads_with_can_be_rebuilt_into_its_command() -> None:
    rebuilt = {cls.model_fields["type"].default for cls in REBUILD}
    assert rebuilt | FOLLOWERS == set(EVENT_TYPES)
    assert not rebuilt & FOLLOWERS


def test_every_command_field_is_a_field_of_its_event_or_the_case_is_irregular() -> None:
    assert not set(BY_NAME) & set(IRREGULAR)
    for event, command in BY_NAME.items():
        missing = set(command.model_fields) - {"do"} - set(event.model_fields)
        assert not missing, f"{event.__name__} lacks {sorted(missing)} of {command.__name__}"
    # every command comes back by name but three, which only the irregular cases give
    by_name = {cls.model_fields["do"].default for cls in BY_NAME.values()}
    by_hand = {"close_pledge", "close_scoring", "leaders_decide"}
    assert set(COMMAND_NAMES) == by_name | by_hand and not by_name & by_hand


def test_the_stage_table_names_real_events_and_stages() -> None:
    assert set(STAGE_AFTER) <= set(EVENT_TYPES)
    assert set(STAGE_AFTER.values()) <= set(STAGES)
    assert set(DEADLINE_STAGES) | {"completed", "cancelled"} == set(STAGES)
    assert set(STAGE_AFTER.values()) == set(STAGES)


def test_finding_kinds_are_defined_once() -> None:
    assert get_args(c.RecordFinding.model_fields["kind"].annotation) == FINDING_KINDS
    assert domain.setup.FINDING_KINDS is FINDING_KINDS


def test_no_domain_module_is_longer_than_300_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "domain").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300
    }
    assert long == {}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_run_rebuilds_and_rechecks(path: Path) -> None:
    scenario = load_scenario(path.read_bytes())
    tick = itertools.count()
    t0 = datetime(2019, 1, 2, tzinfo=UTC)
    state, log, _ = run_pure(
        scenario, now=lambda: t0 + timedelta(minutes=next(tick)), ids=uuid.uuid4
    )
    assert log and recheck(log) == []
    for e in log:
        assert type(e) in REBUILD or e.type in FOLLOWERS
    stage = "none"
    for e in log:
        stage = STAGE_AFTER.get(e.type, stage)
    assert stage == state.stage
