"""The rules of block commands: who may change a block, and what each change must respect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from .block import (
    BlockCommand,
    BlockEvent,
    BlockRegistered,
    BlockRenamed,
    JoinBlock,
    LeadersSet,
    LeaveBlock,
    MemberJoined,
    MemberLeft,
    RegisterBlock,
    RenameBlock,
    SetLeaders,
    leaders_set_id,
)
from .block_state import BlockState
from .errors import AuthorizationError, RuleError
from .setup import Block
from .values import Actor

__all__ = ["decide_block", "parse_block"]


def parse_block(data: Any) -> Block:
    """A scenario's `block` object (or a whole scenario file's) → Block; RuleError
    `invalid_block` naming the field otherwise."""
    if isinstance(data, dict) and isinstance(data.get("block"), dict):
        data = data["block"]
    try:
        return Block.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "block"
        msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("invalid_block: ")
        raise RuleError(
            "invalid_block", msg, f"block.{field}" if field != "block" else field
        ) from None


def _check_year(year: int, field: str) -> None:
    if not 1945 <= year <= 2200:
        raise RuleError("invalid_year", "an emulation year is from 1945 to 2200", field)


def decide_block(
    state: BlockState,
    command: BlockCommand,
    actor: Actor,
    *,
    now: datetime,
    ids: Callable[[], UUID],
    request_id: str | None = None,
) -> list[BlockEvent]:
    """The events a block command produces; raises DomainError when it is refused.

    The secretariat (admin) registers, changes membership, renames and appoints; the system
    writes the leaders a cycle elected (`source="election"`, with the cycle)."""

    def env(event_id: UUID | None = None) -> dict[str, Any]:
        return {"event_id": event_id or ids(), "at": now, "actor": actor, "request_id": request_id}

    elected = isinstance(command, SetLeaders) and command.source == "election"
    if elected:
        if actor.kind not in ("system", "admin"):
            raise AuthorizationError("the leaders a cycle elected are written by the system")
    elif actor.kind != "admin":
        raise AuthorizationError("only the secretariat (admin) may change a block")

    if isinstance(command, RegisterBlock):
        if state.registered:
            raise RuleError(
                "block_exists", f"the block {state.block_id} is already registered", "block.id"
            )
        b = command.block
        return [
            BlockRegistered(
                **env(),
                block_id=b.id,
                name=b.name,
                province=b.province,
                members=b.members,
                head=b.head,
                deputy=b.deputy,
            )
        ]
    if not state.registered:
        raise RuleError("unknown_block", "the block is not registered", "block")

    match command:
        case JoinBlock(unit=unit, name=name, from_year=year):
            if state.is_member(unit, year) or any(
                m.unit == unit and m.after_year is None for m in state.memberships
            ):
                raise RuleError("already_member", f"{unit!r} is already a member", "unit")
            last = max((m.after_year or 0 for m in state.memberships if m.unit == unit), default=0)
            if year <= last:
                raise RuleError(
                    "invalid_year",
                    f"{unit!r} left after {last}: it may rejoin from {last + 1}",
                    "from_year",
                )
            return [MemberJoined(**env(), unit=unit, name=name, from_year=year)]
        case LeaveBlock(unit=unit, after_year=year):
            current = [m for m in state.memberships if m.unit == unit and m.after_year is None]
            if not current:
                raise RuleError("not_a_member", f"{unit!r} is not a member", "unit")
            if current[0].from_year is not None and year < current[0].from_year:
                raise RuleError(
                    "invalid_year",
                    f"{unit!r} is a member from {current[0].from_year}",
                    "after_year",
                )
            return [MemberLeft(**env(), unit=unit, after_year=year)]
        case RenameBlock(name=name):
            return [BlockRenamed(**env(), name=name)]
        case SetLeaders():
            return [_set_leaders(state, command, env)]
    raise AssertionError(f"unhandled block command {command!r}")


def _set_leaders(
    state: BlockState, cmd: SetLeaders, env: Callable[..., dict[str, Any]]
) -> LeadersSet:
    _check_year(cmd.year, "year")
    if cmd.head == cmd.deputy:
        raise RuleError("invalid_block", "head and deputy must be distinct members", "deputy")
    if cmd.source == "election":
        if not cmd.cycle:
            raise RuleError("reason_required", "elected leaders name their cycle", "cycle")
        # A cycle's election is the record of what the members decided: it is written as it
        # was, and a leader who is no longer a member is caught when the next cycle starts.
        return LeadersSet(
            **env(leaders_set_id(cmd.cycle)),
            year=cmd.year,
            head=cmd.head,
            deputy=cmd.deputy,
            source="election",
            cycle=cmd.cycle,
        )
    if not cmd.reason.strip():
        raise RuleError("reason_required", "an appointment gives its reason", "reason")
    for role, unit in (("head", cmd.head), ("deputy", cmd.deputy)):
        if not state.is_member(unit, cmd.year):
            raise RuleError("not_a_member", f"{unit!r} is not a member in {cmd.year}", role)
    return LeadersSet(
        **env(),
        year=cmd.year,
        head=cmd.head,
        deputy=cmd.deputy,
        source="appointment",
        cycle=cmd.cycle,
        reason=cmd.reason,
    )
