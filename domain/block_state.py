"""A block's state: the fold of its events, and who is a member and who leads in a year."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field, ValidationError

from .block import (
    BlockEvent,
    BlockRegistered,
    BlockRenamed,
    LeadersSet,
    MemberJoined,
    MemberLeft,
)
from .errors import RuleError
from .setup import Block, Member

__all__ = ["BlockState", "Membership", "fold_block"]


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
        return tuple(m.id for m in self.members_in(year) if not self.is_member(m.id, year + 1))

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
                id=self.block_id,
                name=self.name,
                province=self.province,
                members=self.members_in(year),
                head=head,
                deputy=deputy,
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
