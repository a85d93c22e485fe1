"""Election of next year's head and deputy: majority of the ballots, else a run-off between the
two with most votes (a tie for a run-off place goes to the better-ranked unit), else the admin
appoints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["count", "majority_winner", "runoff_pair"]


def count(choices: Iterable[str | None], candidates: Sequence[str]) -> dict[str, int]:
    """Votes per candidate, in candidate order; a choice outside `candidates` counts for nobody."""
    votes = {c: 0 for c in candidates}
    for c in choices:
        if c is not None and c in votes:
            votes[c] += 1
    return votes


def majority_winner(votes: dict[str, int], ballots: int) -> str | None:
    """The unit with more than half of the ballots cast, if any."""
    for unit, n in votes.items():
        if ballots > 0 and 2 * n > ballots:
            return unit
    return None


def runoff_pair(votes: dict[str, int], order: Sequence[str]) -> tuple[str, ...]:
    """The two with most votes; ties for a place go to the better-ranked unit (`order` is the
    ranking, best first)."""
    position = {u: i for i, u in enumerate(order)}
    ranked = sorted(votes, key=lambda u: (-votes[u], position.get(u, len(order))))
    return tuple(ranked[:2])
