"""Who still has to act, and when reminders fall due: deadlines and reminders as data."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from .setup import DEADLINE_STAGES
from .state import CycleState

__all__ = ["Reminder", "pending_actions", "reminders"]


class Reminder(BaseModel):
    model_config = ConfigDict(frozen=True)
    stage: str
    due: datetime
    deadline: datetime
    days_before: int


def pending_actions(s: CycleState) -> dict[str, list[str]]:
    """`{unit or "admin": [commands still expected of it]}` in the current stage. The
    secretariat's (`admin`) are its findings in the discipline stage and the appointment after
    a failed election; notices go to the members only."""
    out: dict[str, list[str]] = {}

    def add(who: str | None, action: str) -> None:
        if who is not None:
            out.setdefault(who, []).append(action)

    if s.block is None or s.is_closed:
        return out
    chair = s.chair
    if s.stage == "pledge":
        for u in s.members:
            if u not in s.signed:
                add(u, "sign_pledge")
        add(chair, "close_pledge")
    elif s.stage == "scoring":
        for u in s.members:
            if u not in s.self_scores:
                add(u, "submit_self_score")
            elif u not in s.verified:
                add(s.block.deputy if u == s.block.head else s.block.head, f"verify_score:{u}")
        add(chair, "close_scoring")
    elif s.stage == "review":
        add(chair, "hold_review")
    elif s.stage == "discipline":
        add("admin", "record_finding")  # the secretariat records what it has found, if any
        add(chair, "close_discipline_check")
    elif s.stage == "vote":
        r = s.open_round
        if r is not None:
            for u in r.voters:
                if u not in r.ballots:
                    add(u, "cast_ballot")
            add(chair, "close_vote_round")
        elif s.leaders_agreed and not s.leaders_decided and s.leaders is not None:
            for u in s.leaders:
                if u not in s.leaders_agreed:
                    add(u, "leaders_decide")
        else:
            add(chair, "open_vote_round" if s.open_places() else "open_election")
    elif s.stage == "election" and s.election is not None:
        el = s.election
        if el.failed:
            add("admin", "appoint_leaders")
        else:
            for u in el.voters:
                if u not in el.ballots:
                    add(u, "cast_election_ballot")
            add(chair, "close_election")
    return out


def reminders(s: CycleState) -> list[Reminder]:
    """Reminders due before each deadline of the current or a later stage, earliest first."""
    if s.ruleset is None or s.is_closed or s.stage not in DEADLINE_STAGES:
        return []
    current = DEADLINE_STAGES.index(s.stage)
    out = []
    for stage, deadline in s.deadlines.items():
        if stage in DEADLINE_STAGES and DEADLINE_STAGES.index(stage) >= current:
            for days in s.ruleset.reminder_days:
                out.append(
                    Reminder(
                        stage=stage,
                        due=deadline - timedelta(days=days),
                        deadline=deadline,
                        days_before=days,
                    )
                )
    return sorted(out, key=lambda r: (r.due, r.stage))
