"""A block (khối thi đua) across the years: its own stream of events, folded into BlockState.

A block is registered once (province, name, members, head, deputy); later a unit joins from a
year, a unit leaves after a year, the block is renamed, and the leaders of a year are set — by
a completed cycle's election (the rotation) or by the secretariat's appointment with a reason.

Years are emulation years. A member registered with the block is a member from the beginning;
one that joins "from Y" is a member in Y and after; one that leaves "after Y" is a member in Y
and not in Y + 1 (DOMAIN.md: "not a member next year" in Y). The leaders of year Y are those set
for the latest year ≤ Y, else the registered ones: leaders serve until new ones are set.

Events and commands are here; the fold and the queries in domain.block_state, the rules in
domain.block_rules (rule codes: block_exists, unknown_block, invalid_block, already_member,
not_a_member, reason_required, leader_not_member, invalid_year, not_authorized).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .events import Envelope
from .setup import Block, Member
from .values import Slug, Text

__all__ = [
    "BLOCK_EVENT_TYPES",
    "BlockCommand",
    "BlockEvent",
    "BlockEventAdapter",
    "BlockRegistered",
    "BlockRenamed",
    "JoinBlock",
    "LeadersSet",
    "LeaveBlock",
    "MemberJoined",
    "MemberLeft",
    "RegisterBlock",
    "RenameBlock",
    "SetLeaders",
    "block_stream",
    "leaders_set_id",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
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


class _BlockEvent(Envelope):
    """A block's event."""


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
    reason: Text = ""


BlockEvent = Annotated[
    BlockRegistered | MemberJoined | MemberLeft | BlockRenamed | LeadersSet,
    Field(discriminator="type"),
]
BlockEventAdapter: TypeAdapter[BlockEvent] = TypeAdapter(BlockEvent)
BLOCK_EVENT_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].default for cls in _BlockEvent.__subclasses__()
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
    name: Text = Field(min_length=1)
    from_year: Year


class LeaveBlock(BaseModel):
    model_config = _FROZEN
    do: Literal["leave_block"] = "leave_block"
    unit: Slug
    after_year: Year


class RenameBlock(BaseModel):
    model_config = _FROZEN
    do: Literal["rename_block"] = "rename_block"
    name: Text = Field(min_length=1)


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
    reason: Text = ""


BlockCommand = RegisterBlock | JoinBlock | LeaveBlock | RenameBlock | SetLeaders
