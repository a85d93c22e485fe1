"""Random commands for property and stateful tests: plausible ones (right actor, right stage)
mixed with wrong actors, wrong stages, invalid scores and unknown units."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from domain import Actor, CycleState, DomainError, current_ranking, decide, fold, validate
from domain.commands import COMMAND_NAMES, Command
from domain.events import Event, EventAdapter, VoteRoundClosed
from domain.setup import DEADLINE_STAGES, FINDING_KINDS
from domain.voting import passes

from .helpers import SHEET, cmd

STAGE_ORDER = ("none", "pledge", "scoring", "review", "discipline", "vote", "election", "completed")

STAGE_COMMANDS: dict[str, tuple[str, ...]] = {
    "none": ("start_cycle",),
    "pledge": ("sign_pledge",) * 6 + ("close_pledge", "expire_deadline"),
    "scoring": ("submit_self_score",) * 7 + ("verify_score",) * 2 + ("close_scoring", "expire_deadline"),
    "review": ("hold_review", "hold_review", "expire_deadline"),
    "discipline": ("record_finding", "withdraw_finding", "correct_score", "close_discipline_check", "close_discipline_check"),
    "vote": (
        "break_tie", "open_vote_round", "open_vote_round", "cast_ballot", "cast_ballot", "cast_ballot",
        "cast_ballot", "close_vote_round", "leaders_decide", "open_election", "correct_score",
    ),
    "election": ("cast_election_ballot",) * 4 + ("close_election", "appoint_leaders"),
    "completed": COMMAND_NAMES,
    "cancelled": COMMAND_NAMES,
}  # fmt: skip

OUTSIDER = "zz"


def score_value(draw: Any, maximum: Decimal) -> str | Decimal:
    """Mostly valid scores from a small set (so ties happen), sometimes invalid ones (a negative
    one only as a Python Decimal: as text, validation refuses it)."""
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return Decimal(-1)
    if kind == 1:
        return str(maximum + Decimal("0.5"))
    if kind == 2:
        return "10.125"
    steps = draw(st.integers(0, 4))
    return str(
        maximum * Decimal(6 + steps) / 10 + draw(st.sampled_from([Decimal(0), Decimal("0.25")]))
    )


def sections(draw: Any) -> dict[str, str | Decimal]:
    out = {s.id: score_value(draw, s.max) for s in SHEET.sections}
    odd = draw(st.integers(0, 29))
    if odd == 0:
        out.pop("c2")
    elif odd == 1:
        out["c9"] = "1"
    return out


def draw_command(draw: Any, s: CycleState, now: datetime) -> tuple[str, Command]:
    """A command and who gives it, drawn for state `s`."""
    members = list(s.members) or ["u1", "u2", "u3"]
    smart = draw(st.integers(0, 9)) < 9
    if smart:
        do = draw(st.sampled_from(STAGE_COMMANDS[s.stage]))
        # Hypothesis favours the bounds, so the rare commands sit in the middle of the range.
        rare = draw(st.integers(0, 199))
        if rare == 101:
            do = "cancel_cycle"
        elif 90 <= rare < 95:
            do = "extend_deadline"
    else:
        do = draw(st.sampled_from(COMMAND_NAMES))
        if do == "cancel_cycle" and draw(st.integers(0, 9)) != 5:
            do = "close_pledge"
    unit = draw(st.sampled_from([*members, OUTSIDER] if not smart else members))
    head = s.block.head if s.block else "u1"
    deputy = s.block.deputy if s.block else "u2"
    chair = s.chair or head
    who: str = draw(st.sampled_from([*members, "admin", "auditor", "system", OUTSIDER]))
    fields: dict[str, Any] = {}
    if do == "start_cycle":
        from .helpers import start_command

        return "admin", start_command()
    if do == "sign_pledge":
        unsigned = [u for u in members if u not in s.signed]
        if smart and unsigned:
            unit = draw(st.sampled_from(unsigned))
        fields, who = {"unit": unit}, unit if smart else who
    elif do in ("submit_self_score", "verify_score", "correct_score"):
        fields = {"unit": unit, "sections": sections(draw)}
        if do != "submit_self_score":
            fields["note"] = draw(st.sampled_from(["", "Chấm chéo"]))
            if do == "verify_score" and smart and unit in s.self_scores and draw(st.booleans()):
                fields["sections"] = {k: str(v) for k, v in s.self_scores[unit].items()}
        if smart:
            who = {"submit_self_score": unit, "correct_score": chair}.get(
                do, deputy if unit == head else head
            )
    elif do == "hold_review":
        absent = draw(st.lists(st.sampled_from(members), max_size=2, unique=True))
        present = [u for u in members if u not in absent]
        if not smart and draw(st.booleans()):
            present = present[1:]
        fields = {
            "held_on": "2019-03-08",
            "present": present,
            "absent": [
                {
                    "unit": u,
                    "with_notice": draw(st.booleans()),
                    "written_opinion": draw(st.booleans()),
                }
                for u in absent
            ],
        }
        if smart:
            who = draw(st.sampled_from([head, deputy]))
    elif do in ("record_finding", "withdraw_finding"):
        kind = draw(st.sampled_from(FINDING_KINDS))
        if do == "withdraw_finding" and smart and s.findings:
            f = draw(st.sampled_from(s.findings))
            unit, kind = f.unit, f.kind
        fields = {"unit": unit, "kind": kind}
        if do == "record_finding":
            fields["reference"] = "QĐ 12/2019"
        if smart:
            who = draw(st.sampled_from(["admin", chair]))
    elif do == "break_tie":
        groups = current_ranking(s).tied_groups() if s.score_sheet else []
        if smart and groups:
            order = draw(st.permutations(draw(st.sampled_from(groups))))
        else:
            order = draw(st.lists(st.sampled_from([*members, OUTSIDER]), min_size=2, max_size=3))
        fields = {"order": order}
        if smart:
            who = chair
    elif do == "cast_ballot":
        r = s.open_round
        pool = list(r.proposals) if r else []
        if not smart:
            pool += [OUTSIDER, members[-1]]
        fields = {"approve": draw(st.lists(st.sampled_from(pool), unique=True)) if pool else []}
        if smart and r is not None:
            who = draw(st.sampled_from(r.voters))
    elif do == "leaders_decide":
        places = draw(
            st.lists(st.tuples(st.integers(1, 4), st.sampled_from(members)), min_size=1, max_size=2)
        )
        fields = {"places": [{"place": p, "unit": u} for p, u in places]}
        if smart and s.block is not None:
            who = draw(st.sampled_from([chair, s.block.head, s.block.deputy]))
    elif do == "cast_election_ballot":
        el = s.election
        if smart and el is not None:
            who = draw(st.sampled_from(el.voters)) if el.voters else who
            if el.head is None and el.head_candidates:
                fields["head"] = draw(st.sampled_from(el.head_candidates))
            if el.deputy is None and el.deputy_candidates:
                fields["deputy"] = draw(st.sampled_from(el.deputy_candidates))
        else:
            fields = {"deputy": unit, "head": draw(st.sampled_from([None, *members]))}
    elif do == "appoint_leaders":
        fields = {"head": draw(st.sampled_from(members)), "deputy": draw(st.sampled_from(members))}
        allowed = [u for u in members if u not in (s.excluded or {})]
        if smart and len(allowed) >= 2:
            who = "admin"
            el = s.election
            new_head = el.head if el is not None and el.head else draw(st.sampled_from(allowed))
            others = [u for u in allowed if u != new_head]
            fields = {"head": new_head, "deputy": draw(st.sampled_from(others or allowed))}
    elif do == "extend_deadline":
        fields = {
            "stage": draw(st.sampled_from(DEADLINE_STAGES)),
            "until": (now + timedelta(days=draw(st.integers(-3, 40)))).isoformat(),
        }
        if smart:
            who = "admin"
    elif do == "cancel_cycle":
        fields = {"reason": "Giải thể khối"}
        if smart:
            who = "admin"
    elif do == "expire_deadline":
        fields = {
            "stage": s.stage
            if smart and s.stage in DEADLINE_STAGES
            else draw(st.sampled_from(DEADLINE_STAGES))
        }
        if smart:
            who = "system"
    elif smart:  # close_pledge, close_scoring, close_discipline_check, open/close round, election
        who = chair
    return who, cmd(do, **fields)


# ---- invariants ------------------------------------------------------------------------------


def check_rejection(
    s: CycleState, who: str, command: Command, now: datetime, ids: Any
) -> DomainError | None:
    """Judge `command`; when rejected, check validate agrees and `s` is unchanged."""
    before = s.model_copy(deep=True)
    try:
        decide(s, command, Actor.parse(who), now=now, ids=ids)
    except DomainError as err:
        assert s == before
        try:
            validate(s, command, Actor.parse(who), now=now)
        except DomainError as again:
            assert again.code == err.code
        else:
            raise AssertionError("validate accepted what decide rejected") from None
        return err
    validate(s, command, Actor.parse(who), now=now)
    return None


def check_invariants(s: CycleState, events: list[Event], previous_stage: str) -> None:
    assert s.version == len(events)
    if previous_stage in ("completed", "cancelled"):
        assert s.stage == previous_stage
    elif s.stage != "cancelled":
        assert STAGE_ORDER.index(s.stage) >= STAGE_ORDER.index(previous_stage)
        assert STAGE_ORDER.index(s.stage) <= STAGE_ORDER.index(previous_stage) + 1
    if s.block is None:
        return
    assert s.ruleset is not None
    members = set(s.members)
    if s.score_sheet is not None:
        ranked = current_ranking(s)
        assert sorted(ranked.order + ranked.unscored) == sorted(members)
    places = [n.place for n in s.nominations]
    assert len(set(places)) == len(places)
    assert {p for p in places} <= {p.place for p in s.ruleset.places}
    nominated = [n.unit for n in s.nominations]
    assert len(set(nominated)) == len(nominated)
    excluded = s.excluded or {}
    for u in nominated:
        assert u in members and u not in excluded
    assert not set(nominated) & set(s.rejected)
    for u in (s.next_head, s.next_deputy):
        assert u is None or (u in members and u not in excluded)
    if s.next_head is not None and s.next_deputy is not None:
        assert s.next_head != s.next_deputy
    for e in events:
        if isinstance(e, VoteRoundClosed):
            for line in e.tally:
                assert line.confirmed == passes(line.approvals, e.base, s.ruleset.vote)
                need = s.ruleset.vote.threshold * e.base
                if line.confirmed:
                    if s.ruleset.vote.compare == "at_least":
                        assert Fraction(line.approvals) >= need
                    else:
                        assert Fraction(line.approvals) > need
    if s.stage == "completed":
        assert s.outcome is not None
        assert events[-1].type == "cycle_completed"
        assert sorted(r.unit for r in s.outcome.ranking) == sorted(members)
    assert fold(events) == s


def check_events_round_trip(new: list[Event]) -> None:
    for e in new:
        assert EventAdapter.validate_json(EventAdapter.dump_json(e)) == e
