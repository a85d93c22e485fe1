"""The workflow's shape: one update per command, activity names shared with the worker."""

from __future__ import annotations

import inspect

from temporalio import workflow

import activities.cycle as acts
from domain.commands import COMMAND_NAMES
from workflows import names
from workflows.cycle import EmulationCycle


def test_every_command_has_exactly_one_update() -> None:
    defn = workflow._Definition.must_from_class(EmulationCycle)
    expected = sorted(n for n in COMMAND_NAMES if n not in ("start_cycle", "expire_deadline"))
    assert sorted(defn.updates) == expected
    for name, update in defn.updates.items():
        assert update.validator is not None, f"{name} has no validator"


def test_updates_are_declared_in_the_class_body() -> None:
    source = inspect.getsource(EmulationCycle)
    for name in COMMAND_NAMES:
        if name in ("start_cycle", "expire_deadline"):
            continue
        assert source.count(f"async def {name}(self, req: CommandRequest)") == 1, name
        assert source.count(f"@{name}.validator") == 1, name


def test_activities_are_registered_under_the_shared_names() -> None:
    registered = {
        a.__temporal_activity_definition.name  # type: ignore[attr-defined]
        for a in acts.CycleActivities(store=None, outbox=None).all  # type: ignore[arg-type]
    }
    assert registered == {
        names.APPEND, names.WRITE_REMINDERS, names.WRITE_TASKS, names.READ_EVENTS,
    }
