"""The workflow's shape: one update per command, activity names shared with the worker."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from temporalio import workflow

import activities.cycle as acts
from domain.commands import COMMAND_NAMES
from workflows import names
from workflows.cycle import EmulationCycle

ROOT = Path(__file__).resolve().parents[2]


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
        names.APPEND,
        names.WRITE_REMINDERS,
        names.WRITE_TASKS,
        names.READ_EVENTS,
        names.READ_AFTER,
    }


def _activity_defns() -> dict[str, str]:
    """The name each `@activity.defn(name=…)` in activities/ gives, by the method it decorates
    (a bare string where a constant of workflows.names belongs is returned as '"text"')."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "activities").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                if isinstance(dec, ast.Call) and ast.unparse(dec.func) == "activity.defn":
                    name = next(k.value for k in dec.keywords if k.arg == "name")
                    found[f"{path.stem}.{node.name}"] = (
                        repr(name.value) if isinstance(name, ast.Constant) else ast.unparse(name)
                    )
    return found


def test_every_activity_is_named_by_a_constant_of_workflows_names() -> None:
    defns = _activity_defns()
    assert len(defns) == len(names.ACTIVITY_NAMES)
    assert {k: v for k, v in defns.items() if not hasattr(names, v)} == {}
    assert {getattr(names, v) for v in defns.values()} == names.ACTIVITY_NAMES


def test_the_workflows_call_activities_by_constant_names() -> None:
    bare = []
    for path in sorted((ROOT / "workflows").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func).endswith("execute_activity")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                bare.append(f"{path.name}:{node.lineno} {node.args[0].value!r}")
    assert bare == []
