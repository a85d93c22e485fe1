"""A unit sits in only one block of a province for a year (`unit_in_two_blocks`): the periods
of membership of a province's blocks compared, and a RegisterBlock or JoinBlock checked against
the province's other blocks. Pure: the app loads the blocks and calls it before writing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .block import BlockCommand, JoinBlock, RegisterBlock
from .block_state import BlockState, Membership
from .errors import RuleError
from .province import province_slug

__all__ = ["check_block_command", "unit_conflicts"]


def _overlap(a: Membership, b: Membership, since: int | None) -> int | None:
    """The first year (≥ since) both periods cover, else None (None bounds: open)."""
    lo = max(x for x in (a.from_year, b.from_year, since, -(10**6)) if x is not None)
    his = [x for x in (a.after_year, b.after_year) if x is not None]
    if his and lo > min(his):
        return None
    return lo


def unit_conflicts(
    states: Mapping[str, BlockState], since: int | None = None
) -> list[tuple[str, str, str, int | None]]:
    """(unit, block, other block, first year) for each unit that two blocks count as a member
    in the same year (from `since` on; None: any year). The year is None when both periods are
    open at the start (registered members)."""
    periods: dict[str, list[tuple[str, Membership]]] = {}
    for bid, s in states.items():
        for m in s.memberships:
            periods.setdefault(m.unit, []).append((bid, m))
    out = []
    for unit, ps in periods.items():
        for i, (a, ma) in enumerate(ps):
            for b, mb in ps[i + 1 :]:
                if a == b:
                    continue
                year = _overlap(ma, mb, since)
                if year is not None:
                    out.append((unit, a, b, None if year == -(10**6) else year))
    return out


def check_block_command(
    block_id: str, state: BlockState, command: BlockCommand, others: Iterable[BlockState]
) -> None:
    """Refuse a RegisterBlock or a JoinBlock that would put a unit in two blocks of the
    province in one year (`others`: the province's other registered blocks). RuleError
    `unit_in_two_blocks` naming the unit's field."""
    if isinstance(command, RegisterBlock):
        new = command.block
        province = new.province
        mine = BlockState(
            block_id=new.id,
            province=new.province,
            memberships=[Membership(unit=m.id, name=m.name) for m in new.members],
        )
        fields = {m.id: f"block.members.{i}.id" for i, m in enumerate(new.members)}
    elif isinstance(command, JoinBlock):
        province = state.province
        mine = BlockState(
            block_id=block_id,
            province=province,
            memberships=[
                Membership(unit=command.unit, name=command.name, from_year=command.from_year)
            ],
        )
        fields = {command.unit: "unit"}
    else:
        return
    states = {
        o.block_id or "": o
        for o in others
        if o.registered
        and o.block_id != block_id
        and province_slug(o.province) == province_slug(province)
    }
    states[block_id] = mine
    for unit, a, b, year in unit_conflicts(states):
        if block_id in (a, b):
            other = b if a == block_id else a
            when = f" in {year}" if year is not None else ""
            raise RuleError(
                "unit_in_two_blocks",
                f"{unit!r} is a member of the block {other!r}{when}; a unit sits in "
                "only one block of a province for a year",
                fields.get(unit, "unit"),
            )
