"""decide(state, command, actor, *, now, ids) → the events a command produces, or a DomainError.

A command is judged in this order: who may give it (`not_authorized`), then the stage
(`wrong_stage`), then the command's own rules; the first failure is the answer. Time and ids
come in as arguments, so the same inputs always give the same events. The rules themselves are
in domain.rules, one module per stage; this module dispatches.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from . import commands as c
from . import events as ev
from .errors import AuthorizationError, DomainError, StageError
from .rules import HANDLERS, Ctx
from .rules.context import (
    IdSource,
    build_outcome,
    cancelled_outcome,
    current_exclusions,
    current_ranking,
)
from .state import CycleState
from .values import Actor

__all__ = [
    "build_outcome",
    "cancelled_outcome",
    "current_exclusions",
    "current_ranking",
    "decide",
    "refusal",
    "validate",
]


def decide(
    state: CycleState,
    command: c.Command,
    actor: Actor,
    *,
    now: datetime,
    ids: IdSource,
    request_id: str | None = None,
    system_credit: bool = True,
) -> list[ev.Event]:
    """The events `command` by `actor` produces in `state`; raises DomainError when rejected.
    Events that follow by themselves (the pledge closing at the last signature) are credited to
    the system; `system_credit=False` credits them to `actor`, as chains written before did.

    A closed (completed or cancelled) cycle accepts no command: `not_authorized` for a caller
    who may never give it, `wrong_stage` for the others (every handler judges who, then the
    stage)."""
    x = Ctx(state, actor, now, ids, request_id, system_credit)
    if actor.kind == "auditor":
        raise AuthorizationError("auditors read; they change nothing")
    if state.stage == "none" and not isinstance(command, c.StartCycle):
        raise StageError("the cycle has not started")
    return HANDLERS[command.do](x, command)


_NULL_ID = UUID(int=0)


def validate(state: CycleState, command: c.Command, actor: Actor, *, now: datetime) -> None:
    """Raise the DomainError `decide` would raise; consume no ids (for update validators)."""
    decide(state, command, actor, now=now, ids=lambda: _NULL_ID)


def refusal(
    state: CycleState, command: c.Command, actor: Actor, *, now: datetime
) -> DomainError | None:
    """The DomainError `decide` would answer, or None when it would accept the command. For a
    cycle whose workflow has ended (app.client): its last state judges who may act first."""
    try:
        validate(state, command, actor, now=now)
    except DomainError as err:
        return err
    return None
