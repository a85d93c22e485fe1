"""Who may be nominated: signed (when required), scored, above every area floor, and free of
excluding findings. Each excluded unit carries all its reason codes, sorted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .events import AdoptedScore
from .setup import Ruleset

__all__ = ["exclusions"]


def exclusions(
    members: Sequence[str],
    *,
    ruleset: Ruleset,
    signed: Iterable[str],
    adopted: Mapping[str, AdoptedScore],
    findings: Iterable[tuple[str, str]],
) -> dict[str, tuple[str, ...]]:
    """`{unit: sorted reason codes}` for every member that is not eligible."""
    signed_set = set(signed)
    reasons: dict[str, set[str]] = {u: set() for u in members}
    for u in members:
        if ruleset.require_pledge and u not in signed_set:
            reasons[u].add("no_pledge")
        score = adopted.get(u)
        if score is None:
            reasons[u].add("not_scored")
        else:
            for section, floor in ruleset.area_floor.items():
                if score.sections.get(section, floor) < floor:
                    reasons[u].add("below_area_floor")
    for unit, kind in findings:
        if unit in reasons and kind in ruleset.excluding_findings:
            reasons[unit].add(kind)
    return {u: tuple(sorted(r)) for u, r in reasons.items() if r}
