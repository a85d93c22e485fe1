"""A block (khối thi đua) across the years: its own stream of events, folded into BlockState.

A block is registered once (province, name, members, head, deputy); later a unit joins from a
year, a unit leaves after a year, the block is renamed, and the leaders of a year are set — by
a completed cycle's election (the rotation) or by the secretariat's appointment with a reason.

Years are emulation years. A member registered with the block is a member from the beginning;
one that joins "from Y" is a member in Y and after; one that leaves "after Y" is a member in Y
and not in Y + 1 (DOMAIN.md: "not a member next year" in Y). The leaders of year Y are those set
for the latest year ≤ Y, else the registered ones: leaders serve until new ones are set.

Rule codes: block_exists, unknown_block, invalid_block, already_member, not_a_member,
reason_required, leader_not_member, invalid_year, not_authorized.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .codec import EventRecord
from .errors import AuthorizationError, RuleError
from .setup import Block, Member
from .values import Actor, Slug, UtcDatetime

__all__ = [
    "BLOCK_EVENT_TYPES",
    "BlockCommand",
    "BlockEvent",
    "BlockEventAdapter",
    "BlockRegistered",
    "BlockRenamed",
    "BlockState",
    "JoinBlock",
    "LeadersSet",
    "LeaveBlock",
    "MemberJoined",
    "MemberLeft",
    "Membership",
    "RegisterBlock",
    "RenameBlock",
    "SetLeaders",
    "block_event_from_record",
    "block_record",
    "block_stream",
    "decide_block",
    "fold_block",
    "leaders_set_id",
    "parse_block",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
ENVELOPE = ("event_id", "at", "actor", "request_id")
Year = Annotated[int, Field(ge=1945, le=2200)]

# The namespace of the ids of events that must be written once whoever writes them (a retried
# activity, a second worker): uuid5 of a stable key.
_IDS = uuid.UUID("5b0c7f0e-3c55-4d1e-9a57-2f1c9d0b6a11")


def block_stream(block_id: str, prefix: str = "") -> str:
    """The block's event stream."""
    return f"{prefix}block-{block_id}"


def leaders_set_id(cycle_stream: str) -> UUID:
    """The id of the LeadersSet a completed cycle writes: one per cycle, ever."""
    return uuid.uuid5(_IDS, f"{cycle_stream}:leaders_set")


# ---- events ---------------------------------------------------------------------------------


class _BlockEvent(BaseModel):
    model_config = _FROZEN
    event_id: UUID
    at: UtcDatetime
    actor: Actor
    request_id: str | None = None

    def payload(self) -> dict[str, Any]:
        """The event's own data (no envelope), JSON-ready."""
        return self.model_dump(mode="json", exclude=set(ENVELOPE))


class BlockRegistered(_BlockEvent):
    type: Literal["block_registered"] = "block_registered"
    block_id: str
    name: str
    province: str
    members: tuple[Member, ...]
    head: str
    deputy: str


class MemberJoined(_BlockEvent):
    type: Literal["member_joined"] = "member_joined"
    unit: str
    name: str
    from_year: int


class MemberLeft(_BlockEvent):
    type: Literal["member_left"] = "member_left"
    unit: str
    after_year: int


class BlockRenamed(_BlockEvent):
    type: Literal["block_renamed"] = "block_renamed"
    name: str


class LeadersSet(_BlockEvent):
    """The head and deputy of `year`: elected in `cycle` (the previous year's) or appointed."""

    type: Literal["leaders_set"] = "leaders_set"
    year: int
    head: str
    deputy: str
    source: Literal["election", "appointment"]
    cycle: str | None = None
    reason: str = ""


BlockEvent = Annotated[
    BlockRegistered | MemberJoined | MemberLeft | BlockRenamed | LeadersSet,
    Field(discriminator="type"),
]
BlockEventAdapter: TypeAdapter[BlockEvent] = TypeAdapter(BlockEvent)
BLOCK_EVENT_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].default for cls in _BlockEvent.__subclasses__()
)


def block_event_from_record(
    type_: str, data: dict[str, Any], *, event_id: Any, at: Any, actor: Any,
    request_id: str | None,
) -> BlockEvent:
    """Rebuild a block event from what the store keeps (payload + envelope columns)."""
    return BlockEventAdapter.validate_python(
        {**data, "type": type_, "event_id": event_id, "at": at, "actor": actor,
         "request_id": request_id}
    )


# ---- commands -------------------------------------------------------------------------------


class RegisterBlock(BaseModel):
    model_config = _FROZEN
    do: Literal["register_block"] = "register_block"
    block: Block


class JoinBlock(BaseModel):
    model_config = _FROZEN
    do: Literal["join_block"] = "join_block"
    unit: Slug
    name: str = Field(min_length=1)
    from_year: Year


class LeaveBlock(BaseModel):
    model_config = _FROZEN
    do: Literal["leave_block"] = "leave_block"
    unit: Slug
    after_year: Year


class RenameBlock(BaseModel):
    model_config = _FROZEN
    do: Literal["rename_block"] = "rename_block"
    name: str = Field(min_length=1)


class SetLeaders(BaseModel):
    """Leaders of `year`: from a cycle's election (the system, with the cycle) or appointed by
    the secretariat (with a reason)."""

    model_config = _FROZEN
    do: Literal["set_leaders"] = "set_leaders"
    year: Year
    head: Slug
    deputy: Slug
    source: Literal["election", "appointment"] = "appointment"
    cycle: str | None = None
    reason: str = ""


BlockCommand = RegisterBlock | JoinBlock | LeaveBlock | RenameBlock | SetLeaders


# ---- state ----------------------------------------------------------------------------------


class Membership(BaseModel):
    """One period of a unit in the block: from `from_year` (None: since registration) through
    `after_year` (None: still a member)."""

    unit: str
    name: str
    from_year: int | None = None
    after_year: int | None = None

    def covers(self, year: int) -> bool:
        return (self.from_year is None or self.from_year <= year) and (
            self.after_year is None or year <= self.after_year
        )


class BlockState(BaseModel):
    version: int = 0
    block_id: str | None = None
    name: str = ""
    province: str = ""
    memberships: list[Membership] = Field(default_factory=list)
    head: str | None = None
    deputy: str | None = None
    leaders: dict[int, LeadersSet] = Field(default_factory=dict)

    @property
    def registered(self) -> bool:
        return self.block_id is not None

    def is_member(self, unit: str, year: int) -> bool:
        return any(m.unit == unit and m.covers(year) for m in self.memberships)

    def members_in(self, year: int) -> tuple[Member, ...]:
        """The members of `year`, in the order they came into the block."""
        seen: dict[str, Member] = {}
        for m in self.memberships:
            if m.covers(year) and m.unit not in seen:
                seen[m.unit] = Member(id=m.unit, name=m.name)
        return tuple(seen.values())

    def leaving_after(self, year: int) -> tuple[str, ...]:
        """Members of `year` that are not members of `year + 1`."""
        return tuple(
            m.id for m in self.members_in(year) if not self.is_member(m.id, year + 1)
        )

    def leaders_in(self, year: int) -> tuple[str, str]:
        """(head, deputy) of `year`: set for the latest year ≤ `year`, else as registered."""
        years = [y for y in self.leaders if y <= year]
        if years:
            chosen = self.leaders[max(years)]
            return chosen.head, chosen.deputy
        assert self.head is not None and self.deputy is not None
        return self.head, self.deputy

    def block_for(self, year: int) -> Block:
        """The block as a cycle of `year` starts with it: that year's members and leaders.
        Raises RuleError when it cannot start (too few members, a leader not a member)."""
        if not self.registered:
            raise RuleError("unknown_block", "the block is not registered", "block")
        head, deputy = self.leaders_in(year)
        for role, unit in (("head", head), ("deputy", deputy)):
            if not self.is_member(unit, year):
                raise RuleError(
                    "leader_not_member",
                    f"the {role} {unit!r} is not a member in {year}: the secretariat appoints "
                    f"the leaders of {year} (set leaders with a reason)",
                    role,
                )
        try:
            return Block(
                id=self.block_id, name=self.name, province=self.province,
                members=self.members_in(year), head=head, deputy=deputy,
            )
        except ValidationError as exc:
            msg = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            raise RuleError("invalid_block", f"in {year}: {msg}", "members") from None


def _apply(s: BlockState, e: BlockEvent) -> None:
    match e:
        case BlockRegistered():
            s.block_id, s.name, s.province = e.block_id, e.name, e.province
            s.memberships = [Membership(unit=m.id, name=m.name) for m in e.members]
            s.head, s.deputy = e.head, e.deputy
        case MemberJoined():
            s.memberships.append(Membership(unit=e.unit, name=e.name, from_year=e.from_year))
        case MemberLeft():
            for m in s.memberships:
                if m.unit == e.unit and m.after_year is None:
                    m.after_year = e.after_year
        case BlockRenamed():
            s.name = e.name
        case LeadersSet():
            s.leaders[e.year] = e
    s.version += 1


def fold_block(events: Iterable[BlockEvent], state: BlockState | None = None) -> BlockState:
    """Apply block events in order to a copy of `state` (or to the empty state)."""
    s = BlockState() if state is None else state.model_copy(deep=True)
    for e in events:
        _apply(s, e)
    return s


# ---- decide ---------------------------------------------------------------------------------


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
        raise RuleError("invalid_block", msg, f"block.{field}" if field != "block" else field) from None


def _check_year(year: int, field: str) -> None:
    if not 1945 <= year <= 2200:
        raise RuleError("invalid_year", f"{year} is not an emulation year", field)


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
        return {"event_id": event_id or ids(), "at": now, "actor": actor,
                "request_id": request_id}

    elected = isinstance(command, SetLeaders) and command.source == "election"
    if elected:
        if actor.kind not in ("system", "admin"):
            raise AuthorizationError("the leaders a cycle elected are written by the system")
    elif actor.kind != "admin":
        raise AuthorizationError("only the secretariat (admin) may change a block")

    if isinstance(command, RegisterBlock):
        if state.registered:
            raise RuleError("block_exists", f"the block {state.block_id} is already registered",
                            "block.id")
        b = command.block
        return [BlockRegistered(**env(), block_id=b.id, name=b.name, province=b.province,
                                members=b.members, head=b.head, deputy=b.deputy)]
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
                    "invalid_year", f"{unit!r} left after {last}: it may rejoin from {last + 1}",
                    "from_year",
                )
            return [MemberJoined(**env(), unit=unit, name=name, from_year=year)]
        case LeaveBlock(unit=unit, after_year=year):
            current = [m for m in state.memberships if m.unit == unit and m.after_year is None]
            if not current:
                raise RuleError("not_a_member", f"{unit!r} is not a member", "unit")
            if current[0].from_year is not None and year < current[0].from_year:
                raise RuleError(
                    "invalid_year", f"{unit!r} is a member from {current[0].from_year}",
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
        return LeadersSet(**env(leaders_set_id(cmd.cycle)), year=cmd.year, head=cmd.head,
                          deputy=cmd.deputy, source="election", cycle=cmd.cycle)
    if not cmd.reason.strip():
        raise RuleError("reason_required", "an appointment gives its reason", "reason")
    for role, unit in (("head", cmd.head), ("deputy", cmd.deputy)):
        if not state.is_member(unit, cmd.year):
            raise RuleError("not_a_member", f"{unit!r} is not a member in {cmd.year}", role)
    return LeadersSet(**env(), year=cmd.year, head=cmd.head, deputy=cmd.deputy,
                      source="appointment", cycle=cmd.cycle, reason=cmd.reason)


def block_record(event: BlockEvent) -> EventRecord:
    """The event as the store keeps it (envelope columns plus the payload)."""
    return EventRecord(
        event_id=event.event_id, type=event.type, data=event.payload(),
        actor=event.actor.model_dump(mode="json"), effective_at=event.at,
        request_id=event.request_id,
    )
