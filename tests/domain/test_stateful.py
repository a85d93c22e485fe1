"""Random command sequences (right and wrong actors, valid and invalid input) through decide and
evolve, with the cycle's invariants checked after every step."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain import Actor, CycleState, decide, evolve, pending_actions, reminders
from domain.recheck import recheck

from .helpers import T0, start_command
from .random_cycles import check_events_round_trip, check_invariants, check_rejection, draw_command

pytestmark = pytest.mark.pure


class CycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = CycleState()
        self.events: list = []
        self.now = T0
        self.ids = count(1)
        self.accepted: dict[str, int] = {}

    def next_id(self) -> UUID:
        return UUID(int=next(self.ids))

    @initialize(
        n=st.integers(3, 7),
        rules=st.fixed_dictionaries(
            {
                "quorum": st.sampled_from(["2/3", "1/2", "3/4"]),
                "require_pledge": st.booleans(),
                "rotation": st.sampled_from(["deputy_succeeds", "elect_both"]),
                "vote": st.fixed_dictionaries(
                    {
                        "threshold": st.sampled_from(["1/2", "2/3", "4/5"]),
                        "base": st.sampled_from(["voters", "members"]),
                        "compare": st.sampled_from(["more_than", "at_least"]),
                        "written_opinions": st.booleans(),
                        "max_rounds": st.integers(1, 3),
                    }
                ),
            }
        ),
        floor=st.booleans(),
        deadlines=st.booleans(),
    )
    def start(self, n: int, rules: dict, floor: bool, deadlines: bool) -> None:
        if floor:
            rules = {**rules, "area_floor": {"c3": "140"}}
        stages = {}
        if deadlines:
            stages = {
                "pledge": T0 + timedelta(days=10),
                "scoring": T0 + timedelta(days=20),
                "review": T0 + timedelta(days=30),
                "vote": T0 + timedelta(days=40),
            }
        command = start_command(n, ruleset=rules, deadlines=stages)
        new = decide(
            self.state, command, Actor.admin(), now=self.now, ids=self.next_id, request_id="start"
        )
        for e in new:
            self.state = evolve(self.state, e)
        self.events += new

    @rule(data=st.data())
    def command(self, data: st.DataObject) -> None:
        if data.draw(st.integers(0, 7)) == 0:
            self.now += timedelta(hours=data.draw(st.integers(1, 24 * 6)))
        who, command = draw_command(data.draw, self.state, self.now)
        previous = self.state.stage
        closed = self.state.is_closed
        err = check_rejection(self.state, who, command, self.now, lambda: UUID(int=0))
        if err is not None:
            assert not closed or err.code in ("wrong_stage", "not_authorized", "cycle_exists")
            return
        assert not closed, f"a {previous} cycle accepted {command.do}"
        new = decide(
            self.state,
            command,
            Actor.parse(who),
            now=self.now,
            ids=self.next_id,
            request_id=f"r{len(self.events)}",
        )
        assert new, "an accepted command writes at least one event"
        check_events_round_trip(new)
        for e in new:
            self.state = evolve(self.state, e)
        self.events += new
        self.accepted[command.do] = self.accepted.get(command.do, 0) + 1
        check_invariants(self.state, self.events, previous)

    @precondition(lambda self: self.state.is_closed)
    @rule(data=st.data())
    def closed_cycle_accepts_nothing(self, data: st.DataObject) -> None:
        for do_smart in range(3):
            who, command = draw_command(data.draw, self.state, self.now)
            assert check_rejection(self.state, who, command, self.now, self.next_id) is not None, (
                do_smart
            )

    def teardown(self) -> None:
        # An auditor recomputes every accepted command from the events alone.
        assert recheck(self.events) == []

    @invariant()
    def views_do_not_fail(self) -> None:
        pending_actions(self.state)
        reminders(self.state)
        assert self.state.version == len(self.events)


TestCycleMachine = CycleMachine.TestCase
TestCycleMachine.settings = settings(
    max_examples=200,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
