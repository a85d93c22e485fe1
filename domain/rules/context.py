"""What every stage's rules share: the judging context (who may, which stage) and the views of
the state several stages compute (exclusions, ranking, the outcome)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, cast
from uuid import UUID

from .. import events as ev
from ..eligibility import exclusions
from ..errors import AuthorizationError, RuleError, StageError
from ..ranking import Ranked, rank_units, ranking_entries
from ..state import CycleState
from ..values import Actor

__all__ = [
    "Ctx",
    "Handler",
    "IdSource",
    "build_outcome",
    "cancelled_outcome",
    "current_exclusions",
    "current_ranking",
    "eligible",
    "gone",
    "known",
    "total",
    "within",
]

IdSource = Callable[[], UUID]
E = TypeVar("E", bound=ev.Event)


class Ctx:
    """One command being judged: the state before it, who gives it, when, and the id source."""

    __slots__ = ("actor", "ids", "now", "request_id", "s", "system_credit")

    def __init__(
        self,
        s: CycleState,
        actor: Actor,
        now: datetime,
        ids: IdSource,
        request_id: str | None,
        system_credit: bool = True,
    ) -> None:
        self.s, self.actor, self.now, self.ids, self.request_id = s, actor, now, ids, request_id
        self.system_credit = system_credit

    def event(self, cls: type[E], **fields: Any) -> E:
        return cls(
            event_id=self.ids(),
            at=self.now,
            actor=self.actor,
            request_id=self.request_id,
            **fields,
        )

    def automatic(self, cls: type[E], **fields: Any) -> E:
        """An event that follows from the command without anyone deciding it (the pledge stage
        closing when the last unit signs): credited to the system, in the same command's
        envelope otherwise. `system_credit=False` gives the form recorded before (the event
        credited to whoever gave the command), for histories and chains written then."""
        event = self.event(cls, **fields)
        if self.system_credit:
            return cast(E, event.model_copy(update={"actor": Actor.system()}))
        return event

    # ---- who may ---------------------------------------------------------------------------

    def admin(self) -> None:
        if self.actor.kind != "admin":
            raise AuthorizationError("only the secretariat (admin) may do this")

    def member(self) -> str:
        if self.actor.kind != "unit" or self.actor.unit not in self.s.members:
            raise AuthorizationError("only a member unit's representative may do this")
        return self.actor.unit

    def unit(self, unit: str) -> None:
        if self.member() != unit:
            raise AuthorizationError(f"only the representative of {unit!r} may act for it")

    def chair(self, *, or_admin: bool = False) -> None:
        if or_admin and self.actor.kind == "admin":
            return
        chair = self.s.chair
        if self.actor.kind != "unit" or self.actor.unit != chair:
            who = f"the chair ({chair})" + (" or the admin" if or_admin else "")
            raise AuthorizationError(f"only {who} may do this")

    # ---- which stage -----------------------------------------------------------------------

    def stage(self, *stages: str) -> None:
        if self.s.stage not in stages:
            raise StageError(f"not allowed in stage {self.s.stage!r} (only in {', '.join(stages)})")


Handler = Callable[[Ctx, Any], list[ev.Event]]


def within(s: CycleState, act: str, *subject: str, limit: int, field: str) -> None:
    """An act repeated at most `limit` times: `too_many_resubmissions` for self-scores and
    leaders' proposals, `limit_reached` for the other bounded acts."""
    done = s.acts_of(act, *subject)
    if done >= limit:
        code = "too_many_resubmissions" if act in ("self_score", "leaders") else "limit_reached"
        what = "/".join(subject)
        raise RuleError(code, f"{act} of {what} done {done} times, at most {limit}", field)


def known(s: CycleState, unit: str, field: str) -> None:
    if unit not in s.members:
        raise RuleError("not_a_member", f"{unit!r} is not a member of the block", field)


def total(sections: Mapping[str, Decimal]) -> Decimal:
    return sum(sections.values(), Decimal(0))


def current_exclusions(s: CycleState) -> dict[str, tuple[str, ...]]:
    assert s.ruleset is not None
    return exclusions(
        s.members,
        ruleset=s.ruleset,
        signed=s.signed,
        adopted=s.adopted,
        findings=[(f.unit, f.kind) for f in s.findings],
    )


def current_ranking(s: CycleState) -> Ranked:
    assert s.score_sheet is not None
    return rank_units(s.members, s.adopted, s.score_sheet.section_ids, s.tie_breaks)


def eligible(s: CycleState) -> set[str]:
    excluded = s.excluded if s.excluded is not None else current_exclusions(s)
    return {u for u in s.members if u not in excluded}


def gone(s: CycleState) -> set[str]:
    """Units that already left the proposals: nominated or rejected."""
    return {n.unit for n in s.nominations} | set(s.rejected)


def cancelled_outcome(s: CycleState) -> ev.Outcome:
    """What a cancelled cycle had decided, and nothing more: the ranking only once the review
    adopted scores, exclusions only once the discipline check closed (before it no unit is
    known eligible), the confirmed nominations, the leaders only once elected or appointed."""
    excluded = s.excluded if s.excluded is not None else {}
    ranking: tuple[ev.RankEntry, ...] = ()
    if s.held_on is not None:
        known = {u for u in s.members if u not in excluded} if s.excluded is not None else set()
        ranking = tuple(ranking_entries(current_ranking(s), s.adopted, known))
    return ev.Outcome(
        ranking=ranking,
        excluded={u: tuple(sorted(excluded[u])) for u in sorted(excluded)},
        nominations=tuple(sorted(s.nominations, key=lambda n: n.place)),
        next_head=s.next_head,
        next_deputy=s.next_deputy,
    )


def build_outcome(s: CycleState, head: str | None, deputy: str | None) -> ev.Outcome:
    """The outcome event's content: ranking, exclusions, nominations, next leaders."""
    ranked = current_ranking(s)
    excluded = s.excluded if s.excluded is not None else current_exclusions(s)
    return ev.Outcome(
        ranking=ranking_entries(ranked, s.adopted, eligible(s)),
        excluded={u: tuple(sorted(excluded[u])) for u in sorted(excluded)},
        nominations=tuple(sorted(s.nominations, key=lambda n: n.place)),
        next_head=head,
        next_deputy=deputy,
    )
