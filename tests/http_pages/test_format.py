"""The pages' words and numbers (UI.md's conventions), from the one voice app/words.py; every
rule code the domain raises has its sentence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from app.audit.reconcile import Difference
from app.words import (
    BUTTON,
    RECONCILE,
    RULE,
    days_left,
    reconcile_sentence,
    rule_sentence,
    vn_date,
    vn_number,
    vn_time,
)
from domain.commands import COMMAND_NAMES
from domain.errors import RULE_CODES

APP = Path(__file__).parents[2] / "app"

pytestmark = pytest.mark.pure


def test_dates_times_and_decimals_are_written_the_vietnamese_way() -> None:
    assert vn_date(date(2019, 3, 8)) == "08/3/2019"
    # 17:00 UTC on 7 March is already 8 March in Vietnam
    assert vn_date(datetime(2019, 3, 7, 17, 0, tzinfo=UTC)) == "08/3/2019"
    assert vn_time(datetime(2019, 3, 8, 7, 5, tzinfo=UTC)) == "14:05 08/3/2019"
    assert vn_date(date(2019, 1, 5)) == "05/01/2019"  # the months 1 and 2 take a zero
    assert vn_date("2019-02-28") == "28/02/2019"
    assert vn_number(Decimal("983.5")) == "983,5"
    assert vn_number("976") == "976"
    assert vn_number(Decimal("954.40")) == "954,4"
    assert vn_number(Decimal("0.25")) == "0,25"
    assert vn_number(Decimal("1000.00")) == "1.000"
    assert vn_number(Decimal("1000.00"), grouped=False) == "1000"  # a form input's value
    assert vn_number(None) == "" and vn_number("không phải số") == "không phải số"


def test_days_left_counts_vietnamese_calendar_days() -> None:
    now = datetime(2019, 3, 7, 18, 0, tzinfo=UTC)  # 01:00 on 8 March in Vietnam
    assert days_left(datetime(2019, 3, 8, 10, 0, tzinfo=UTC), now) == 0
    assert days_left(datetime(2019, 3, 10, 10, 0, tzinfo=UTC), now) == 2
    assert days_left(datetime(2019, 3, 6, 10, 0, tzinfo=UTC), now) == -2


def test_every_person_command_has_a_button_and_rule_sentences_fill_their_numbers() -> None:
    assert set(COMMAND_NAMES) - set(BUTTON) == {"expire_deadline"}
    assert rule_sentence("score_above_max", max="600") == (
        "Điểm vượt quá điểm tối đa của nội dung (600)."
    )
    assert rule_sentence("quorum_not_met", need=6, members=8) == (
        "Chưa đủ số đơn vị dự hội nghị (cần ít nhất 6/8)."
    )
    assert "…" in rule_sentence("quorum_not_met")
    assert all("_" not in sentence for sentence in RULE.values())  # no code on screen


def test_every_reconciliation_difference_is_said_in_vietnamese() -> None:
    """Each Difference code of app/audit/reconcile.py has a sentence, every placeholder filled
    by the facts reconcile gives it, and the act that wrote the event in words."""
    event = {"version": 7, "type": "ballot_cast", "event_id": "e-1"}
    made = [
        Difference("wrong_stream", "x", stream="cycle-a-2018", expected="cycle-b-2018"),
        Difference("no_append", "x", who=("update", "cast_ballot", "r-9"), event_id="e-1"),
        Difference("not_stored", "x", who=("deadline", "", ""), **event),
        Difference("wrong_version", "x", who=("start", "", ""), stored=8, **event),
        Difference("wrong_hash", "x", who=("update", "cast_ballot", "r-9"), **event),
        Difference("not_written", "x", **event),
        Difference("deleted_tail", "x", workflow_version=9, store_version=7),
        Difference("extra_tail", "x", workflow_version=7, store_version=9),
        Difference("no_history", "x", workflow_id="cycle:a:2018"),
    ]
    assert {d.code for d in made} == set(RECONCILE)
    said = {d.code: reconcile_sentence(d.code, d.facts, d) for d in made}
    assert all("…" not in s and s != "x" for s in said.values()), said
    assert said["no_append"].startswith("Yêu cầu «Gửi phiếu bình xét» (mã yêu cầu r-9)")
    assert said["not_stored"].startswith("Xử lý quá hạn: sự kiện ở phiên bản 7")
    assert said["wrong_version"].startswith("Khởi tạo kỳ thi đua: sự kiện e-1 (ballot_cast)")
    assert said["wrong_hash"].startswith("Phiên bản 7 (ballot_cast, e-1): mã băm trong kho khác")
    assert reconcile_sentence("new_code", {}, "in English") == "in English"


def test_every_rule_code_the_domain_raises_has_a_sentence() -> None:
    assert sorted(RULE_CODES - set(RULE)) == []


def test_every_sentence_is_for_a_code_that_is_raised() -> None:
    """A sentence is for a code of the domain (a rule's, or a workbook cell's problem) or one an
    entry point gives (named in app/)."""
    files = [*sorted(APP.rglob("*.py")), *sorted((APP.parent / "domain").rglob("*.py"))]
    source = "\n".join(p.read_text(encoding="utf-8") for p in files if p.name != "words.py")
    unused = {code for code in set(RULE) - RULE_CODES if f'"{code}"' not in source}
    assert sorted(unused) == []
