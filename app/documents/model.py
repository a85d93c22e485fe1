"""What the minutes say, read from a cycle's events alone.

`build_minutes(events, …)` walks the events once, folding them as the auditors' fold does, and
keeps, at the moment each decision was recorded, the facts its minutes report: the review
conference, each vote round's count, the election's rounds or the appointment. Everything is
already in words and Vietnamese number formats here, so the templates hold no rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain import events as ev
from domain.fold import fold_into
from domain.ranking import rank_units
from domain.state import CycleState

from ..words import (
    EXCLUSION,
    STAGE,
    VN,
    fraction_words,
    percent,
    reason_words,
    vn_date,
    vn_date_long,
    vn_number,
    vn_time,
)

__all__ = [
    "ElectionPart",
    "ElectionRound",
    "Minutes",
    "ReviewPart",
    "VotePart",
    "VoteRound",
    "build_minutes",
]

SOURCE_WORDS = {
    "verified": "điểm thẩm định",
    "self": "điểm tự chấm",
    "corrected": "điểm điều chỉnh",
}
STAGE_WORDS = STAGE


@dataclass
class ScoreRow:
    rank: str
    name: str
    sections: list[str]
    total: str
    source: str


@dataclass
class ReviewPart:
    held_on: str
    held_on_long: str
    chair: str
    chair_role: str
    members: int
    present: list[str]
    absent: list[tuple[str, str]]
    """(unit, "vắng có lý do; có ý kiến bằng văn bản")"""
    quorum: str
    quorum_required: int
    quorum_rule: str
    sections: list[tuple[str, str]]
    """(section title, its maximum)"""
    max_total: str
    rows: list[ScoreRow]
    unsigned: list[str]
    not_scored: list[str]
    corrections: list[tuple[str, str, str]] = field(default_factory=list)
    """(unit, new total, reason)"""
    findings: list[tuple[str, str, str, bool]] = field(default_factory=list)
    """(unit, kind in words, reference, excludes)"""
    discipline_closed: bool = False
    exclusions: list[tuple[str, str]] = field(default_factory=list)
    """(unit, reasons in words)"""
    eligible: list[str] = field(default_factory=list)


@dataclass
class TallyRow:
    name: str
    rank: str
    total: str
    approvals: int
    percent: str
    confirmed: bool
    place: str


@dataclass
class VoteRound:
    number: int
    opened_at: str
    closed_at: str | None
    chair: str
    entitled: list[str]
    cast: list[str]
    not_cast: list[str]
    base: int | None
    proposals: list[str]
    rows: list[TallyRow]
    ballots: list[tuple[str, list[bool]]]
    """(voter, approves each proposal in order), known once the round closes."""

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


@dataclass
class VotePart:
    threshold_rule: str
    places: list[tuple[int, str]]
    tie_breaks: list[list[str]]
    rounds: list[VoteRound]
    leaders: tuple[str, str, list[tuple[int, str, str]]] | None
    """(head, deputy, [(place, unit, title)]) when the head and deputy filled open places."""
    nominations: list[tuple[int, str, str, str]]
    """(place, unit, title, how decided in words)"""


@dataclass
class Count:
    name: str
    votes: int
    percent: str


@dataclass
class ElectionRound:
    number: int
    runoff: bool
    closed_at: str
    entitled: int
    ballots: int
    not_cast: int
    head_counts: list[Count]
    deputy_counts: list[Count]
    result: list[str]


@dataclass
class ElectionPart:
    mode: str
    succession: str | None
    voters: list[str]
    rounds: list[ElectionRound]
    appointed: tuple[str, str, str] | None
    """(head, deputy, when) when the secretariat appointed the leaders."""
    next_head: str | None
    next_deputy: str | None


@dataclass
class Minutes:
    title: str
    block: str
    province: str
    year: int
    stage: str
    place_date: str
    stream: str
    head_version: int
    head_hash: str
    cancelled: str | None
    review: ReviewPart | None
    vote: VotePart | None
    election: ElectionPart | None


def _names(state: CycleState, units: Sequence[str]) -> list[str]:
    assert state.block is not None
    return [state.block.name_of(u) for u in units]


def _review(state: CycleState, e: ev.ReviewHeld) -> ReviewPart:
    assert state.block is not None and state.ruleset is not None
    assert state.score_sheet is not None
    block, sheet = state.block, state.score_sheet
    chair = state.chair or block.head
    absent = []
    for a in e.absent:
        words = "vắng có lý do" if a.with_notice else "vắng không có lý do"
        words += (
            "; có ý kiến bằng văn bản" if a.written_opinion else "; không có ý kiến bằng văn bản"
        )
        absent.append((block.name_of(a.unit), words))
    ranked = rank_units(state.members, e.adopted, sheet.section_ids)
    rows = [
        ScoreRow(
            rank=str(ranked.rank[u]),
            name=block.name_of(u),
            sections=[vn_number(e.adopted[u].sections.get(s)) for s in sheet.section_ids],
            total=vn_number(e.adopted[u].total),
            source=SOURCE_WORDS[e.adopted[u].source],
        )
        for u in ranked.order
    ]
    return ReviewPart(
        held_on=vn_date(e.held_on),
        held_on_long=vn_date_long(e.held_on),
        chair=block.name_of(chair),
        chair_role="Khối trưởng" if chair == block.head else "Khối phó",
        members=len(block.members),
        present=_names(state, e.present),
        absent=absent,
        quorum=f"{len(e.present)}/{len(block.members)}",
        quorum_required=e.quorum_required,
        quorum_rule=fraction_words(state.ruleset.quorum),
        sections=[(s.title or s.id, vn_number(s.max)) for s in sheet.sections],
        max_total=vn_number(sheet.max_total),
        rows=rows,
        unsigned=_names(state, state.unsigned),
        not_scored=_names(state, state.not_scored),
    )


def _threshold_rule(state: CycleState) -> str:
    assert state.ruleset is not None
    rules = state.ruleset.vote
    share = fraction_words(rules.threshold)
    base = "số đơn vị bỏ phiếu" if rules.base == "voters" else "số đơn vị thành viên của Khối"
    if rules.compare == "more_than":
        return f"Đơn vị được đề nghị khi có số phiếu đồng ý trên {share} tổng {base}."
    return f"Đơn vị được đề nghị khi có số phiếu đồng ý từ {share} tổng {base} trở lên."


def _vote_round(state: CycleState, e: ev.VoteRoundOpened) -> VoteRound:
    totals = {r.unit: r for r in e.ranking}
    rows = [
        TallyRow(
            name=state.block.name_of(u) if state.block else u,
            rank=str(totals[u].rank) if u in totals and totals[u].rank else "",
            total=vn_number(totals[u].total) if u in totals else "",
            approvals=0,
            percent="",
            confirmed=False,
            place="",
        )
        for u in e.proposals
    ]
    return VoteRound(
        number=e.round,
        opened_at=conference_time(state, e.at),
        closed_at=None,
        chair=_names(state, [state.chair])[0] if state.chair else "",
        entitled=_names(state, e.voters),
        cast=[],
        not_cast=[],
        base=None,
        proposals=list(e.proposals),
        rows=rows,
        ballots=[],
    )


def conference_time(state: CycleState, at: datetime) -> str:
    """When an act of the conference (a vote round, an election round) happened, for the
    minutes, which are dated by the conference: `lúc 14:05 08/3/2019` when it was recorded on
    the conference's day; else the conference's date, with the moment it was recorded in the
    system said as such (an act entered later, or a past cycle driven again from its scenario:
    the document never dates a vote by the day it was typed in)."""
    held = state.held_on
    if held is None or at.astimezone(VN).date() == held:
        return f"lúc {vn_time(at)}"
    return f"tại hội nghị ngày {vn_date(held)} (ghi nhận vào hệ thống lúc {vn_time(at)})"


def _close_vote_round(state: CycleState, rnd: VoteRound, e: ev.VoteRoundClosed) -> None:
    """Fill the count of a round from its tally; `state` is folded up to the closing event."""
    assert state.ruleset is not None
    r = state.rounds[-1]
    by_unit = {line.unit: line for line in e.tally}
    rnd.closed_at = conference_time(state, e.at)
    rnd.base = e.base
    rnd.cast = _names(state, [v for v in r.voters if v in r.ballots])
    rnd.not_cast = _names(state, [v for v in r.voters if v not in r.ballots])
    for row, unit in zip(rnd.rows, rnd.proposals, strict=True):
        line = by_unit.get(unit)
        if line is None:
            continue
        row.approvals = line.approvals
        row.percent = percent(line.approvals, e.base)
        row.confirmed = line.confirmed
        if line.confirmed and line.place is not None:
            row.place = f"Vị trí {line.place}"  # its title is in the result table below
    rnd.ballots = [
        (state.block.name_of(v) if state.block else v, [p in r.ballots[v] for p in rnd.proposals])
        for v in r.voters
        if v in r.ballots
    ]


def _counts(state: CycleState, votes: dict[str, int], ballots: int) -> list[Count]:
    return [
        Count(name=_names(state, [u])[0], votes=n, percent=percent(n, ballots))
        for u, n in sorted(votes.items(), key=lambda item: -item[1])
    ]


def _election_round(state: CycleState, e: ev.ElectionRoundClosed, voters: int) -> ElectionRound:
    def names(units: Sequence[str]) -> str:
        listed = _names(state, units)
        return " và ".join(listed) if len(listed) == 2 else ", ".join(listed)

    result: list[str] = []
    if e.head is not None and e.head_votes:
        result.append(f"{names([e.head])} trúng cử Khối trưởng (được trên một nửa số phiếu bầu).")
    if e.runoff_head:
        result.append(
            "Không đơn vị nào được trên một nửa số phiếu bầu Khối trưởng; bầu lại giữa "
            f"{names(e.runoff_head)}."
        )
    if e.deputy is not None:
        result.append(f"{names([e.deputy])} trúng cử Khối phó (được trên một nửa số phiếu bầu).")
    if e.runoff_deputy:
        result.append(
            "Không đơn vị nào được trên một nửa số phiếu bầu Khối phó; bầu lại giữa "
            f"{names(e.runoff_deputy)}."
        )
    if e.failed:
        result.append(
            "Bầu lại không có kết quả; đề nghị Ban Thi đua – Khen thưởng chỉ định Khối trưởng, "
            "Khối phó."
        )
    return ElectionRound(
        number=e.round,
        runoff=e.round > 1,
        closed_at=conference_time(state, e.at),
        entitled=voters,
        ballots=e.ballots,
        not_cast=max(voters - e.ballots, 0),
        head_counts=_counts(state, e.head_votes, e.ballots),
        deputy_counts=_counts(state, e.deputy_votes, e.ballots),
        result=result,
    )


def build_minutes(
    events: Sequence[ev.Event], *, stream: str, head_version: int, head_hash: bytes
) -> Minutes:
    """The minutes of the cycle whose events are given (in stream order)."""
    state = CycleState()
    review: ReviewPart | None = None
    vote: VotePart | None = None
    election: ElectionPart | None = None
    for e in events:
        fold_into(state, [e])
        match e:
            case ev.ReviewHeld():
                review = _review(state, e)
            case ev.ScoreCorrected() if review is not None:
                review.corrections.append((_names(state, [e.unit])[0], vn_number(e.total), e.note))
            case ev.DisciplineCheckClosed() if review is not None:
                assert state.ruleset is not None
                excluding = set(state.ruleset.excluding_findings)
                review.findings = [
                    (
                        _names(state, [f.unit])[0],
                        EXCLUSION.get(f.kind, f.kind),
                        f.reference + (f" ({f.note})" if f.note else ""),
                        f.kind in excluding,
                    )
                    for f in state.findings
                ]
                review.discipline_closed = True
                review.exclusions = [
                    (_names(state, [u])[0], reason_words(e.excluded[u]))
                    for u in state.members
                    if u in e.excluded
                ]
                review.eligible = _names(state, e.eligible)
                assert state.ruleset is not None
                vote = VotePart(
                    threshold_rule=_threshold_rule(state),
                    places=[(p.place, p.title) for p in state.ruleset.places],
                    tie_breaks=[],
                    rounds=[],
                    leaders=None,
                    nominations=[],
                )
            case ev.TieBroken() if vote is not None:
                vote.tie_breaks.append(_names(state, e.order))
            case ev.VoteRoundOpened() if vote is not None:
                vote.rounds.append(_vote_round(state, e))
            case ev.VoteRoundClosed() if vote is not None and vote.rounds:
                _close_vote_round(state, vote.rounds[-1], e)
            case ev.LeadersDecided() if vote is not None:
                assert state.ruleset is not None
                vote.leaders = (
                    e.head_name,
                    e.deputy_name,
                    [
                        (p, _names(state, [u])[0], state.ruleset.title_of(p))
                        for p, u in sorted(e.places.items())
                    ],
                )
            case ev.ElectionOpened():
                assert state.block is not None
                succession = None
                if e.mode == "deputy_only" and e.head is not None:
                    succession = (
                        f"Theo nguyên tắc luân phiên, {state.block.name_of(e.head)} "
                        f"(Khối phó năm {state.year}) đảm nhận Khối trưởng năm "
                        f"{(state.year or 0) + 1}; hội nghị bầu Khối phó."
                    )
                elif e.mode == "both":
                    assert state.ruleset is not None
                    why = (
                        "theo quy chế của Khối"
                        if state.ruleset.rotation == "elect_both"
                        else f"do {state.block.name_of(state.block.deputy)} (Khối phó năm "
                        f"{state.year}) không đủ điều kiện đảm nhận Khối trưởng"
                    )
                    succession = (
                        f"Hội nghị bầu Khối trưởng và Khối phó năm {(state.year or 0) + 1} {why}."
                    )
                election = ElectionPart(
                    mode="Bầu Khối phó" if e.mode == "deputy_only" else "Bầu Khối trưởng, Khối phó",
                    succession=succession,
                    voters=_names(state, e.voters),
                    rounds=[],
                    appointed=None,
                    next_head=None,
                    next_deputy=None,
                )
            case ev.ElectionRoundClosed() if election is not None:
                election.rounds.append(_election_round(state, e, len(election.voters)))
            case ev.LeadersAppointed():
                if election is None:
                    election = ElectionPart(
                        mode="Chỉ định Khối trưởng, Khối phó",
                        succession=None,
                        voters=[],
                        rounds=[],
                        appointed=None,
                        next_head=None,
                        next_deputy=None,
                    )
                election.appointed = (
                    _names(state, [e.head])[0],
                    _names(state, [e.deputy])[0],
                    vn_date(e.at),
                )
            case _:
                pass
    if vote is not None:
        vote.nominations = [
            (
                n.place,
                _names(state, [n.unit])[0],
                n.title,
                f"{n.approvals}/{n.voters} phiếu đồng ý, vòng {n.round}"
                if n.decided_by == "vote"
                else "Khối trưởng, Khối phó quyết định",
            )
            for n in state.nominations
        ]
    if election is not None:
        election.next_head = _names(state, [state.next_head])[0] if state.next_head else None
        election.next_deputy = _names(state, [state.next_deputy])[0] if state.next_deputy else None
    block = state.block
    when = state.held_on or (state.last_at.astimezone(VN).date() if state.last_at else None)
    province = block.province if block else ""
    place_date = ""
    if when is not None:
        place_date = f"{province + ', ' if province else ''}{vn_date_long(when)}"
    return Minutes(
        title=state.title,
        block=block.name if block else "",
        province=province,
        year=state.year or 0,
        stage=STAGE_WORDS.get(state.stage, state.stage),
        place_date=place_date,
        stream=stream,
        head_version=head_version,
        head_hash=head_hash.hex(),
        cancelled=state.cancel_reason if state.stage == "cancelled" else None,
        review=review,
        vote=vote,
        election=election,
    )
