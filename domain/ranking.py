"""Ranking by adopted total, ties by section scores in sheet order, then recorded tie breaks.

Competition ranking: units still tied share a rank (1, 1, 3). A recorded tie break gives the
tied units consecutive ranks in its order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from .events import AdoptedScore, RankEntry

__all__ = ["Ranked", "rank_units", "ranking_entries", "score_key"]

Key = tuple[Decimal, ...]


def score_key(score: AdoptedScore, section_ids: Sequence[str]) -> Key:
    """The sort key of a score: total first, then each section in sheet order."""
    return (score.total, *(score.sections.get(s, Decimal(0)) for s in section_ids))


class Ranked:
    """The result of ranking: scored units in order with their ranks, unscored last."""

    __slots__ = ("order", "rank", "unscored")

    def __init__(self, order: list[str], rank: dict[str, int], unscored: list[str]) -> None:
        self.order = order
        self.rank = rank
        self.unscored = unscored

    def tied_groups(self) -> list[list[str]]:
        groups: dict[int, list[str]] = {}
        for u in self.order:
            groups.setdefault(self.rank[u], []).append(u)
        return [g for g in groups.values() if len(g) > 1]


def rank_units(
    members: Sequence[str],
    adopted: Mapping[str, AdoptedScore],
    section_ids: Sequence[str],
    tie_breaks: Sequence[Sequence[str]] = (),
) -> Ranked:
    """Rank every member. Units with equal keys share a rank, in member order, unless one
    recorded tie break (the latest that does) lists all of them: then they take consecutive
    ranks in its order. Breaks of parts of a group never order the whole group."""
    position = {u: i for i, u in enumerate(members)}
    scored = [u for u in members if u in adopted]
    keys = {u: score_key(adopted[u], section_ids) for u in scored}
    groups: dict[Key, list[str]] = {}
    for u in scored:
        groups.setdefault(keys[u], []).append(u)
    within: dict[str, int] = {}
    resolved: set[Key] = set()
    for key, group in groups.items():
        if len(group) < 2:
            continue
        cover = next((o for o in reversed(tie_breaks) if set(group) <= set(o)), None)
        if cover is not None:
            index = {u: i for i, u in enumerate(cover)}
            within.update({u: index[u] for u in group})
            resolved.add(key)
    # Best first: key descending; within a resolved group its recorded order, then member order.
    order = sorted(
        scored, key=lambda u: (tuple(-k for k in keys[u]), within.get(u, 0), position[u])
    )
    rank: dict[str, int] = {}
    for i, u in enumerate(order):
        prev = order[i - 1] if i else None
        if prev is not None and keys[prev] == keys[u] and keys[u] not in resolved:
            rank[u] = rank[prev]
        else:
            rank[u] = i + 1
    unscored = [u for u in members if u not in adopted]
    return Ranked(order, rank, unscored)


def ranking_entries(
    ranked: Ranked, adopted: Mapping[str, AdoptedScore], eligible: set[str]
) -> tuple[RankEntry, ...]:
    """Every member: scored units by rank, unscored ones last (no total, no rank)."""
    rows = [
        RankEntry(unit=u, total=adopted[u].total, rank=ranked.rank[u], eligible=u in eligible)
        for u in ranked.order
    ]
    rows += [RankEntry(unit=u, total=None, rank=None, eligible=False) for u in ranked.unscored]
    return tuple(rows)
