"""`thidua cycle …` as a user runs it, against the shared `thidua dev up` stack."""

from __future__ import annotations

import json

import pytest

from tests.app.devstack import REFERENCE, DevStack, thidua

pytestmark = pytest.mark.temporal


def test_a_started_cycle_takes_steps_and_shows_who_is_pending(
    started: str, stack: DevStack
) -> None:
    send = thidua(
        stack.home,
        "cycle",
        "send",
        started,
        "2018",
        "--as",
        "so-khdt",
        "--do",
        "sign_pledge",
        "-f",
        "unit=so-khdt",
        "--request-id",
        "r-1",
    )
    assert send.returncode == 0, send.stderr
    assert send.stdout.startswith("accepted: pledge_signed → version 2, stage pledge")
    again = thidua(
        stack.home,
        "cycle",
        "send",
        started,
        "2018",
        "--as",
        "so-khdt",
        "--do",
        "sign_pledge",
        "-f",
        "unit=so-khdt",
        "--request-id",
        "r-1",
    )
    assert again.returncode == 0, again.stderr
    assert "version 2," in again.stdout  # the first answer again, not a second pledge

    state = thidua(stack.home, "cycle", "state", started, "2018")
    assert state.returncode == 0, state.stderr
    body = json.loads(state.stdout)
    assert body["stage"] == "pledge" and body["version"] == 2

    pending = thidua(stack.home, "cycle", "pending", started, "2018")
    assert pending.returncode == 0, pending.stderr
    lines = pending.stdout.splitlines()
    assert lines[0].startswith("kg-khoi-2/2018 — stage pledge (")
    assert "hạn " in lines[0] or "không có hạn" in lines[0]
    # unit names with their ids; the one that signed is no longer pending
    assert any(
        "(so-ngoai-vu): sign_pledge" in line and line.split("(")[0].strip() for line in lines[1:]
    ), pending.stdout
    assert not any("(so-khdt)" in line for line in lines[1:])
    as_json = json.loads(thidua(stack.home, "cycle", "pending", started, "2018", "--json").stdout)
    assert as_json["stage"] == "pledge" and "so-khdt" not in as_json["pending"]
    assert "sign_pledge" in as_json["pending"]["so-ngoai-vu"]

    listed = thidua(stack.home, "cycle", "list", "--json", "--block", started)
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["block_id"], row["year"], row["stage"]) == (started, 2018, "pledge")


def test_a_rejected_step_is_one_line_with_the_rule_code(started: str, stack: DevStack) -> None:
    run = thidua(
        stack.home,
        "cycle",
        "send",
        started,
        "2018",
        "--as",
        "so-khdt",
        "--do",
        "sign_pledge",
        "-f",
        "unit=so-noi-vu",
    )
    assert run.returncode == 1
    assert run.stdout == ""
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("rejected: ") and "Traceback" not in run.stderr


def test_bad_input_names_the_field_and_sends_nothing(started: str, stack: DevStack) -> None:
    run = thidua(
        stack.home,
        "cycle",
        "send",
        started,
        "2018",
        "--as",
        "so-khdt",
        "--do",
        "submit_self_score",
        "-f",
        "unit=so-khdt",
        "-f",
        'sections={"c1":"x"}',
    )
    assert run.returncode == 2
    assert "invalid:" in run.stderr and "sections" in run.stderr


@pytest.mark.parametrize("command", ["state", "pending"])
def test_an_unknown_cycle_is_one_line_with_the_rule_code(command: str, stack: DevStack) -> None:
    run = thidua(stack.home, "cycle", command, "kg-khoi-9", "2018")
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.strip() == "rejected: unknown_cycle: no cycle of kg-khoi-9 for 2018"


def test_a_second_start_is_refused(started: str, stack: DevStack) -> None:
    run = thidua(stack.home, "cycle", "start", str(REFERENCE))
    assert run.returncode == 1
    assert "cycle_exists" in run.stderr
