"""A small driver for pure-domain tests: a cycle built with `decide` and `fold` alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID

import pytest

from domain import Actor, CommandAdapter, CycleState, DomainError, decide, fold, validate
from domain.commands import Command
from domain.events import Event
from domain.setup import Block, Member, Ruleset, ScoreSheet, Section, resolve_ruleset

T0 = datetime(2019, 1, 1, 8, 0, tzinfo=UTC)
SHEET = ScoreSheet(
    max_total=1000,
    sections=(
        Section(id="c1", title="Nhiệm vụ chính trị", max=600),
        Section(id="c2", title="Phong trào thi đua", max=200),
        Section(id="c3", title="Xây dựng tổ chức", max=200),
    ),
)
SECTIONS = SHEET.section_ids


def units(n: int) -> list[str]:
    return [f"u{i}" for i in range(1, n + 1)]


def make_block(n: int = 5, head: str = "u1", deputy: str = "u2") -> Block:
    return Block(
        id="khoi-test",
        name="Khối thi đua thử",
        province="Kiên Giang",
        members=tuple(Member(id=u, name=f"Đơn vị {u}") for u in units(n)),
        head=head,
        deputy=deputy,
    )


def cmd(do: str, **fields: Any) -> Command:
    """A command from its scenario name and fields."""
    return CommandAdapter.validate_python({"do": do, **fields})


def secs(c1: Any, c2: Any = 150, c3: Any = 150) -> dict[str, str]:
    return {"c1": str(c1), "c2": str(c2), "c3": str(c3)}


def start_command(
    n: int = 5,
    *,
    ruleset: Mapping[str, Any] | Ruleset | None = None,
    deadlines: Mapping[str, datetime] | None = None,
    head: str = "u1",
    deputy: str = "u2",
) -> Command:
    rules = ruleset if isinstance(ruleset, Ruleset) else resolve_ruleset(dict(ruleset or {}))
    return cmd(
        "start_cycle",
        block=make_block(n, head, deputy),
        year=2018,
        ruleset=rules,
        score_sheet=SHEET,
        deadlines=dict(deadlines or {}),
    )


class Cycle:
    """One cycle driven command by command; every accepted command's events are folded in."""

    def __init__(
        self,
        n: int = 5,
        *,
        ruleset: Mapping[str, Any] | Ruleset | None = None,
        deadlines: Mapping[str, datetime] | None = None,
        head: str = "u1",
        deputy: str = "u2",
        started: bool = True,
    ) -> None:
        self.state = CycleState()
        self.events: list[Event] = []
        self.now = T0
        self._ids = count(1)
        if started:
            self.do(
                "admin",
                start_command(n, ruleset=ruleset, deadlines=deadlines, head=head, deputy=deputy),
            )

    # ---- plumbing --------------------------------------------------------------------------

    def ids(self) -> UUID:
        return UUID(int=next(self._ids))

    def tick(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    @property
    def members(self) -> tuple[str, ...]:
        return self.state.members

    @property
    def head(self) -> str:
        assert self.state.block is not None
        return self.state.block.head

    @property
    def deputy(self) -> str:
        assert self.state.block is not None
        return self.state.block.deputy

    def do(self, who: str, command: Command | str, **fields: Any) -> list[Event]:
        c = cmd(command, **fields) if isinstance(command, str) else command
        new = decide(self.state, c, Actor.parse(who), now=self.now, ids=self.ids)
        self.state = fold(new, self.state)
        self.events += new
        return new

    def reject(self, who: str, command: Command | str, **fields: Any) -> DomainError:
        """The command is rejected by decide and validate alike, and nothing changes."""
        c = cmd(command, **fields) if isinstance(command, str) else command
        before = self.state.model_copy(deep=True)
        with pytest.raises(DomainError) as info:
            decide(self.state, c, Actor.parse(who), now=self.now, ids=self.ids)
        with pytest.raises(DomainError) as again:
            validate(self.state, c, Actor.parse(who), now=self.now)
        assert again.value.code == info.value.code
        assert self.state == before
        return info.value

    def code(self, who: str, command: Command | str, **fields: Any) -> str:
        return self.reject(who, command, **fields).code

    # ---- whole stages ----------------------------------------------------------------------

    def sign(self, signers: Iterable[str] | None = None) -> None:
        for u in self.members if signers is None else signers:
            self.do(u, "sign_pledge", unit=u)

    def submit(self, scores: Mapping[str, Mapping[str, Any]]) -> None:
        for u, sections in scores.items():
            self.do(u, "submit_self_score", unit=u, sections=dict(sections))

    def review(
        self,
        absent: Sequence[str] = (),
        *,
        written: Sequence[str] = (),
        by: str | None = None,
        held_on: str = "2019-03-08",
    ) -> list[Event]:
        present = [u for u in self.members if u not in absent]
        return self.do(
            by or (self.head if self.head in present else self.deputy),
            "hold_review",
            held_on=held_on,
            present=present,
            absent=[{"unit": u, "written_opinion": u in written} for u in absent],
        )

    def to_review(
        self, scores: Mapping[str, Mapping[str, Any]], *, signers: Iterable[str] | None = None
    ) -> None:
        """Pledge (all sign unless `signers`), self-scores, close scoring."""
        self.sign(signers)
        if self.state.stage == "pledge":
            self.do(self.head, "close_pledge")
        self.submit(scores)
        self.do(self.head, "close_scoring")

    def to_vote(
        self,
        scores: Mapping[str, Mapping[str, Any]],
        *,
        findings: Mapping[str, Sequence[str]] | None = None,
        absent: Sequence[str] = (),
        written: Sequence[str] = (),
        signers: Iterable[str] | None = None,
    ) -> None:
        self.to_review(scores, signers=signers)
        self.review(absent, written=written)
        for u, kinds in (findings or {}).items():
            for k in kinds:
                self.do("admin", "record_finding", unit=u, kind=k, reference="QĐ 1/2019")
        self.do(self.chair, "close_discipline_check")

    @property
    def chair(self) -> str:
        assert self.state.chair is not None
        return self.state.chair

    def vote_round(self, ballots: Mapping[str, Sequence[str]]) -> list[Event]:
        """Open a round, cast the given ballots, close it; returns the closing events."""
        self.do(self.chair, "open_vote_round")
        for voter, approve in ballots.items():
            self.do(voter, "cast_ballot", approve=list(approve))
        return self.do(self.chair, "close_vote_round")

    def all_approve(self) -> None:
        r = self.state.open_round
        assert r is not None
        for v in r.voters:
            self.do(v, "cast_ballot", approve=list(r.proposals))

    def election(self, ballots: Mapping[str, Mapping[str, str]]) -> list[Event]:
        for voter, choice in ballots.items():
            self.do(voter, "cast_election_ballot", **choice)
        return self.do(self.chair, "close_election")


def distinct_scores(n: int) -> dict[str, dict[str, str]]:
    """u1 best … un worst, every total distinct."""
    return {u: secs(590 - 10 * i) for i, u in enumerate(units(n))}


def ranks(state: CycleState) -> dict[str, int | None]:
    from domain import current_ranking

    r = current_ranking(state)
    return {u: r.rank.get(u) for u in state.members}
