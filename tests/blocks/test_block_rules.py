"""Pure rules of a block across the years: membership by year, leaders by year, refusals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.block import (
    JoinBlock,
    LeaveBlock,
    RegisterBlock,
    RenameBlock,
    SetLeaders,
    leaders_set_id,
)
from domain.block_rules import decide_block, parse_block
from domain.block_start import PreviousCycle, plan_start
from domain.block_state import BlockState, fold_block
from domain.errors import DomainError
from domain.province import ProposalsCompiled, ProvinceProposals
from domain.values import Actor
from tests.workflows.helpers import REFERENCE, reference

pytestmark = pytest.mark.pure

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def run(state: BlockState, cmd, actor: Actor | None = None) -> BlockState:  # type: ignore[no-untyped-def]
    events = decide_block(state, cmd, actor or Actor.admin(), now=NOW, ids=uuid.uuid4)
    return fold_block(events, state)


def registered() -> BlockState:
    return run(
        BlockState(),
        RegisterBlock(
            block=parse_block(__import__("json").loads(REFERENCE.read_text(encoding="utf-8")))
        ),
    )


def refused(state: BlockState, cmd, actor: Actor | None = None) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as info:
        decide_block(state, cmd, actor or Actor.admin(), now=NOW, ids=uuid.uuid4)
    return info.value


def test_a_scenario_file_registers_its_block_with_members_head_and_deputy() -> None:
    s = registered()
    assert s.block_id == "kg-khoi-2" and s.province == "Kiên Giang"
    assert len(s.members_in(2018)) == 8
    assert s.leaders_in(2018) == ("so-ngoai-vu", "so-khdt")


def test_registering_the_same_block_again_is_refused_with_block_exists() -> None:
    s = registered()
    assert refused(s, RegisterBlock(block=s.block_for(2018))).code == "block_exists"


def test_a_block_object_that_breaks_a_rule_names_the_field() -> None:
    with pytest.raises(DomainError) as info:
        parse_block({"id": "k", "name": "K", "members": [], "head": "a", "deputy": "b"})
    assert info.value.code == "invalid_block"


def test_a_unit_that_joins_from_a_year_is_a_member_from_that_year_on() -> None:
    s = run(registered(), JoinBlock(unit="so-moi", name="Sở Mới", from_year=2020))
    assert not s.is_member("so-moi", 2019)
    assert s.is_member("so-moi", 2020) and s.is_member("so-moi", 2030)
    assert refused(s, JoinBlock(unit="so-moi", name="x", from_year=2021)).code == "already_member"


def test_a_unit_that_leaves_after_a_year_is_not_a_member_next_year() -> None:
    s = run(registered(), LeaveBlock(unit="vp-hdnd", after_year=2019))
    assert s.is_member("vp-hdnd", 2019) and not s.is_member("vp-hdnd", 2020)
    assert s.leaving_after(2019) == ("vp-hdnd",)
    assert s.leaving_after(2018) == ()
    assert refused(s, LeaveBlock(unit="vp-hdnd", after_year=2020)).code == "not_a_member"
    back = run(s, JoinBlock(unit="vp-hdnd", name="Văn phòng HĐND tỉnh", from_year=2022))
    assert [back.is_member("vp-hdnd", y) for y in (2019, 2020, 2021, 2022)] == [
        True,
        False,
        False,
        True,
    ]
    assert refused(s, JoinBlock(unit="vp-hdnd", name="x", from_year=2019)).code == "already_member"


def test_leaders_set_for_a_year_serve_until_others_are_set() -> None:
    s = run(
        registered(),
        SetLeaders(
            year=2019,
            head="so-khdt",
            deputy="vp-doan-dbqh",
            source="election",
            cycle="cycle-kg-khoi-2-2018",
        ),
        Actor.system(),
    )
    assert s.leaders_in(2018) == ("so-ngoai-vu", "so-khdt")
    assert s.leaders_in(2019) == s.leaders_in(2021) == ("so-khdt", "vp-doan-dbqh")
    block = s.block_for(2019)
    assert (block.head, block.deputy) == ("so-khdt", "vp-doan-dbqh")


def test_elected_leaders_of_a_cycle_have_one_event_id() -> None:
    s = registered()
    cmd = SetLeaders(
        year=2019,
        head="so-khdt",
        deputy="vp-doan-dbqh",
        source="election",
        cycle="cycle-kg-khoi-2-2018",
    )
    a = decide_block(s, cmd, Actor.system(), now=NOW, ids=uuid.uuid4)
    b = decide_block(s, cmd, Actor.system(), now=NOW, ids=uuid.uuid4)
    assert a[0].event_id == b[0].event_id == leaders_set_id("cycle-kg-khoi-2-2018")


def test_an_appointment_needs_a_reason_and_members_of_that_year() -> None:
    s = run(registered(), LeaveBlock(unit="vp-hdnd", after_year=2019))
    cmd = SetLeaders(year=2020, head="vp-ubnd", deputy="so-khdt")
    assert refused(s, cmd).code == "reason_required"
    bad = SetLeaders(year=2020, head="vp-hdnd", deputy="so-khdt", reason="bầu không thành")
    err = refused(s, bad)
    assert (err.code, err.field) == ("not_a_member", "head")
    assert refused(s, cmd, Actor.of_unit("vp-ubnd")).code == "not_authorized"
    ok = run(s, cmd.model_copy(update={"reason": "Quyết định của Ban Thi đua"}))
    assert ok.leaders[2020].source == "appointment"


def test_a_leader_who_is_no_longer_a_member_stops_the_start_until_one_is_appointed() -> None:
    s = run(registered(), LeaveBlock(unit="so-ngoai-vu", after_year=2018))
    with pytest.raises(DomainError) as info:
        s.block_for(2019)
    assert (info.value.code, info.value.field) == ("leader_not_member", "head")


def test_a_renamed_block_starts_its_cycles_with_the_new_name() -> None:
    s = run(registered(), RenameBlock(name="Khối thi đua các cơ quan tổng hợp"))
    assert s.block_for(2019).name == "Khối thi đua các cơ quan tổng hợp"


def test_an_unregistered_block_accepts_nothing_but_registration() -> None:
    assert refused(BlockState(), RenameBlock(name="x")).code == "unknown_block"


def _plan_refused(
    state: BlockState, previous: PreviousCycle | None, **given: object
) -> DomainError:
    with pytest.raises(DomainError) as info:
        plan_start(state, 2019, previous, **given)  # type: ignore[arg-type]
    return info.value


def test_a_start_is_planned_from_the_record_and_the_previous_cycle() -> None:
    sc = reference()
    s = run(registered(), LeaveBlock(unit="vp-ubnd", after_year=2019))
    done = PreviousCycle(
        year=2018, stage="completed", ruleset=sc.ruleset, score_sheet=sc.score_sheet
    )
    start = plan_start(s, 2019, done)
    assert (start.year, start.ruleset, start.score_sheet) == (2019, sc.ruleset, sc.score_sheet)
    assert start.block == s.block_for(2019) and start.leaving_after_year == ("vp-ubnd",)
    # a ruleset given wins over the previous cycle's
    lenient = sc.ruleset.model_copy(update={"require_pledge": not sc.ruleset.require_pledge})
    assert plan_start(s, 2019, done, ruleset=lenient).ruleset == lenient


@pytest.mark.parametrize("stage", ["starting", "pledge", "election"])
def test_a_start_while_the_previous_cycle_is_open_is_refused(stage: str) -> None:
    sc = reference()
    err = _plan_refused(
        registered(),
        PreviousCycle(year=2018, stage=stage),
        ruleset=sc.ruleset,
        score_sheet=sc.score_sheet,
    )
    assert (err.code, err.field) == ("previous_cycle_open", "year")


def test_a_start_without_a_previous_cycle_needs_its_ruleset_and_sheet() -> None:
    sc = reference()
    err = _plan_refused(registered(), None, ruleset=sc.ruleset)
    assert (err.code, err.field) == ("no_previous_cycle", "score_sheet")
    err = _plan_refused(registered(), None)
    assert (err.code, err.field) == ("no_previous_cycle", "ruleset")
    assert (
        plan_start(registered(), 2019, None, ruleset=sc.ruleset, score_sheet=sc.score_sheet).year
        == 2019
    )


def test_a_planned_start_keeps_the_leader_and_record_checks() -> None:
    sc = reference()
    given = {"ruleset": sc.ruleset, "score_sheet": sc.score_sheet}
    gone = run(registered(), LeaveBlock(unit="so-ngoai-vu", after_year=2018))
    err = _plan_refused(gone, None, **given)
    assert (err.code, err.field) == ("leader_not_member", "head")
    err = _plan_refused(BlockState(), None, **given)
    assert err.code == "unknown_block"


def test_a_compiled_list_without_a_review_day_keeps_the_payload_of_earlier_versions() -> None:
    block = {"block_id": "b", "block_name": "B", "cycle_id": "b/2018", "status": "cancelled"}
    earlier = {"province": "Kiên Giang", "year": 2018, "blocks": [block]}
    event = ProposalsCompiled(
        event_id=uuid.uuid4(),
        at=NOW,
        actor=Actor.system(),
        proposals=ProvinceProposals.model_validate(earlier),
    )
    assert event.payload()["proposals"] == {
        **earlier,
        "blocks": [{**block, "proposals": [], "cancel_reason": None}],
    }
    held = ProvinceProposals.model_validate(
        {**earlier, "blocks": [{**block, "held_on": "2019-01-05"}]}
    )
    again = event.model_copy(update={"proposals": held})
    assert again.payload()["proposals"]["blocks"][0]["held_on"] == "2019-01-05"
