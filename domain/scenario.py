"""Scenario files (`thidua.scenario/1`): loading with clear errors, and comparing an outcome.

Loading checks the shape (which field, which rule); the rules of each step are judged when it
runs, so a step may carry `expect_error` for a rule it means to break.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .commands import COMMAND_NAMES, Command, CommandAdapter, StartCycle
from .decide import decide
from .errors import DomainError
from .events import Event
from .fold import fold
from .outcome import compare_outcome, outcome_json
from .setup import Block, Ruleset, ScoreSheet, resolve_ruleset
from .state import CycleState
from .values import Actor, Slug, Text, UtcDatetime, Year

__all__ = [
    "FORMAT",
    "Scenario",
    "ScenarioError",
    "Step",
    "compare_outcome",
    "load_scenario",
    "outcome_json",
    "parse_scenario",
    "run_pure",
    "step_diffs",
    "step_result",
]

FORMAT = "thidua.scenario/1"


class ScenarioError(ValueError):
    """An invalid scenario file; `problems` are "field: rule: message" lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid scenario:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)
    index: int
    actor: Actor
    command: Command
    expect_error: str | None = None


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True)
    title: Text = ""
    block: Block
    year: Year
    ruleset: Ruleset
    score_sheet: ScoreSheet
    deadlines: dict[Slug, UtcDatetime] = Field(default_factory=dict, max_length=10)
    steps: tuple[Step, ...] = ()
    expect: dict[str, Any] | None = None

    @property
    def cycle_id(self) -> str:
        return f"{self.block.id}/{self.year}"

    def start_command(self) -> StartCycle:
        return StartCycle(
            block=self.block,
            year=self.year,
            ruleset=self.ruleset,
            score_sheet=self.score_sheet,
            deadlines=self.deadlines,
            title=self.title,
        )


def _loc(prefix: str, err: Any, tag: str | None = None) -> str:
    parts = [prefix] if prefix else []
    loc = list(err["loc"])
    if tag is not None and loc and loc[0] == tag:
        loc = loc[1:]  # the union's tag (a step's `do`) is not a field of the file
    for p in loc:
        if isinstance(p, int):
            parts[-1:] = [f"{parts[-1]}[{p}]"] if parts else [f"[{p}]"]
        else:
            parts.append(str(p))
    return ".".join(parts)


def _problems(prefix: str, exc: ValidationError, tag: str | None = None) -> list[str]:
    out = []
    for err in exc.errors():
        msg = str(err["msg"]).removeprefix("Value error, ")
        rule = (
            msg.split(":", 1)[0]
            if msg.split(":", 1)[0].isidentifier() and ":" in msg
            else err["type"]
        )
        text = msg.split(":", 1)[1].strip() if rule != err["type"] else msg
        rule = _PYDANTIC_RULES.get(rule, rule)
        out.append(f"{_loc(prefix, err, tag)}: {rule}: {text}")
    return out


_STEP_KEYS = {"as", "do", "expect_error"}

# pydantic's own error types, named as our rules
_PYDANTIC_RULES = {
    "decimal_parsing": "not_a_number",
    "decimal_type": "not_a_number",
    "too_long": "too_many_items",
}


def parse_scenario(data: Any) -> Scenario:
    """Validate a decoded scenario document; raise ScenarioError naming every bad field."""
    if not isinstance(data, dict):
        raise ScenarioError(["(file): not_an_object: a scenario is a JSON object"])
    problems: list[str] = []
    if data.get("format") != FORMAT:
        problems.append(f"format: unsupported_format: expected {FORMAT!r}")
    for key in ("block", "year", "score_sheet"):  # `steps` may be left out: a start only
        if key not in data:
            problems.append(f"{key}: missing: this key is required")
    ruleset: Ruleset | None = None
    try:
        spec = data.get("ruleset", {"id": "default"})
        if not isinstance(spec, dict):
            raise ScenarioError(["ruleset: not_an_object: the ruleset is an object"])
        ruleset = resolve_ruleset(spec)
    except ValidationError as exc:
        problems += _problems("ruleset", exc)
    except ScenarioError as exc:
        problems += exc.problems
    except ValueError as exc:
        rule, _, text = str(exc).partition(": ")
        problems.append(f"ruleset.id: {rule}: {text}")
    steps: list[Step] = []
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list):
        problems.append("steps: not_a_list: steps are a list of objects")
        raw_steps = []
    for i, raw in enumerate(raw_steps):
        where = f"steps[{i}]"
        if not isinstance(raw, dict) or "as" not in raw or "do" not in raw:
            problems.append(f"{where}: invalid_step: a step is an object with 'as' and 'do'")
            continue
        do = raw["do"]
        if not isinstance(do, str) or do not in COMMAND_NAMES:
            problems.append(
                f"{where}.do: unknown_command: not a command (known: {', '.join(COMMAND_NAMES)})"
            )
            continue
        fields = {k: v for k, v in raw.items() if k not in _STEP_KEYS}
        try:
            command = CommandAdapter.validate_python({"do": do, **fields})
            actor = Actor.parse(str(raw["as"]))
        except ValidationError as exc:
            problems += _problems(where, exc, tag=do)
            continue
        steps.append(
            Step(index=i, actor=actor, command=command, expect_error=raw.get("expect_error"))
        )
    if problems:
        raise ScenarioError(problems)
    assert ruleset is not None
    try:
        return Scenario.model_validate(
            {
                "title": data.get("title", ""),
                "block": data["block"],
                "year": data["year"],
                "ruleset": ruleset,
                "score_sheet": data["score_sheet"],
                "deadlines": data.get("deadlines", {}),
                "steps": steps,
                "expect": data.get("expect"),
            }
        )
    except ValidationError as exc:
        raise ScenarioError(_problems("", exc)) from None


def load_scenario(text: str | bytes) -> Scenario:
    """Parse the text of a scenario file (JSON)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            [f"(file): invalid_json: line {exc.lineno} column {exc.colno}: {exc.msg}"]
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError(["(file): not_utf8: a scenario file is UTF-8 text"]) from None
    except RecursionError:
        raise ScenarioError(["(file): too_deep: arrays or objects nested too deep"]) from None
    except ValueError:  # an integer of more than 4300 digits
        raise ScenarioError(["(file): number_too_long: a number with too many digits"]) from None
    return parse_scenario(data)


# ---- steps ------------------------------------------------------------------------------------


def step_result(step: Step, error: str | None) -> dict[str, Any]:
    """How a step went (`error` is the rule code it was rejected with, None when accepted): ok
    when accepted as meant, or rejected with its `expect_error`."""
    if error is None and step.expect_error is None:
        return {"i": step.index, "ok": True}
    return {"i": step.index, "ok": step.expect_error == error, "error": error}


def step_diffs(scenario: Scenario, results: list[dict[str, Any]]) -> list[str]:
    """One line for each step that did not do what it was meant to."""
    meant = {s.index: s.expect_error or "accepted" for s in scenario.steps}
    return [
        f"steps[{r['i']}]: expected {meant[r['i']]}, got {r.get('error') or 'accepted'}"
        for r in results
        if not r["ok"]
    ]


# ---- running through the pure domain ---------------------------------------------------------


def run_pure(
    scenario: Scenario, *, now: Callable[[], datetime], ids: Callable[[], UUID]
) -> tuple[CycleState, list[Event], list[dict[str, Any]]]:
    """Drive a scenario through `decide` and `fold` alone (no workflow, no store)."""
    state = CycleState()
    log: list[Event] = []
    start = decide(
        state, scenario.start_command(), Actor.admin(), now=now(), ids=ids, request_id="start"
    )
    state = fold(start, state)
    log += start
    results: list[dict[str, Any]] = []
    for step in scenario.steps:
        try:
            new = decide(
                state,
                step.command,
                step.actor,
                now=now(),
                ids=ids,
                request_id=f"step-{step.index}",
            )
        except DomainError as err:
            results.append(step_result(step, err.code))
            continue
        state = fold(new, state)
        log += new
        results.append(step_result(step, None))
    return state, log, results
