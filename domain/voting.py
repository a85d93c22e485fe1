"""The nomination vote (bình xét, suy tôn): proposals, ties that must be broken, the tally."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from .events import TallyLine
from .ranking import Ranked
from .setup import VoteRules

__all__ = ["candidates", "proposals", "tally", "unresolved_ties"]


def candidates(ranked: Ranked, eligible: set[str], gone: set[str]) -> list[str]:
    """Eligible units still on the list (not nominated, not rejected), in ranking order."""
    return [u for u in ranked.order if u in eligible and u not in gone]


def proposals(cands: Sequence[str], open_places: int) -> list[str]:
    return list(cands[:open_places])


def unresolved_ties(ranked: Ranked, cands: Sequence[str], open_places: int) -> list[str]:
    """Units sharing a rank where the tie decides who is proposed or which place a proposed
    unit takes; empty when nothing needs breaking."""
    window = list(cands[: open_places + 1])
    tied: list[str] = []
    for i in range(min(open_places, len(window)) if open_places else 0):
        for j in range(i + 1, len(window)):
            if ranked.rank[window[i]] == ranked.rank[window[j]]:
                for u in (window[i], window[j]):
                    if u not in tied:
                        tied.append(u)
    return tied


def passes(approvals: int, base: int, rules: VoteRules) -> bool:
    need = rules.threshold * base
    if rules.compare == "at_least":
        return Fraction(approvals) >= need
    return Fraction(approvals) > need


def tally(
    proposed: Sequence[str],
    ballots: Mapping[str, Sequence[str]],
    *,
    base: int,
    rules: VoteRules,
    open_places: Sequence[int],
) -> tuple[TallyLine, ...]:
    """Approvals per proposal; confirmed units take the open places in proposal (ranking)
    order, the others are rejected."""
    counts = {u: 0 for u in proposed}
    for approve in ballots.values():
        for u in set(approve):
            if u in counts:
                counts[u] += 1
    places = list(open_places)
    lines = []
    for u in proposed:
        ok = passes(counts[u], base, rules) and bool(places)
        lines.append(
            TallyLine(
                unit=u, approvals=counts[u], confirmed=ok, place=places.pop(0) if ok else None
            )
        )
    return tuple(lines)
