"""The minutes' HTML, from the events alone: what each part says for the reference case and for
the other ways a cycle can go (run-off, appointment, leaders' decision, both leaders elected,
cancellation, a cycle still under way)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from app.documents import minutes_html, record_uri

from .conftest import Record, record_of, scenario, scenario_with

pytestmark = pytest.mark.pure


def text_of(html: str) -> str:
    """The visible words, whitespace collapsed (the style sheet removed)."""
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    body = re.sub(r"</?(b|i|span)\b[^>]*>", "", body)  # inline: no word break
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="module")
def ref_text(reference: Record) -> str:
    return text_of(minutes_html(reference.events, **reference.kw))  # type: ignore[arg-type]


def test_the_review_minutes_give_date_chair_attendance_and_quorum(ref_text: str) -> None:
    assert "Hội nghị tổng kết được tổ chức ngày 08 tháng 3 năm 2019 (08/3/2019)" in ref_text
    assert "Chủ trì: Sở Ngoại vụ (Khối trưởng)" in ref_text
    assert "Đơn vị dự hội nghị (7)" in ref_text
    assert (
        "Văn phòng Điều phối nông thôn mới: vắng có lý do; không có ý kiến bằng văn bản" in ref_text
    )
    assert "Số đơn vị dự hội nghị: 7/8 (cần ít nhất 6/8" in ref_text


def test_the_score_table_has_the_sheet_s_section_titles_and_the_adopted_totals(
    ref_text: str,
) -> None:
    assert "Nội dung 1: Thực hiện nhiệm vụ chính trị, chuyên môn được giao (tối đa 600)" in ref_text
    assert "1 Văn phòng UBND tỉnh 590 198,5 195 983,5 điểm thẩm định" in ref_text
    assert "2 Sở Kế hoạch và Đầu tư 588 196 192 976 điểm thẩm định" in ref_text
    assert "5 Sở Ngoại vụ 570 189 190 949 điểm thẩm định" in ref_text
    assert "so-khdt" not in ref_text and "vp-ubnd" not in ref_text  # names, never ids


def test_exclusions_are_given_with_their_reasons_in_words(ref_text: str) -> None:
    assert "Sở Tư pháp có kết luận của Tòa án; lãnh đạo bị xử lý kỷ luật" in ref_text
    assert "Văn phòng Điều phối nông thôn mới xếp loại yếu về an ninh trật tự" in ref_text
    assert "Đơn vị đủ điều kiện suy tôn (5)" in ref_text


def test_the_vote_count_gives_ballots_approvals_percentages_and_places(ref_text: str) -> None:
    assert "Số đơn vị có quyền bỏ phiếu: 7" in ref_text
    assert "Số phiếu thu về: 7; số đơn vị không gửi phiếu: 0" in ref_text
    assert "1 Văn phòng UBND tỉnh 1 983,5 7/7 100% Đạt Vị trí 1" in ref_text
    assert "3 Sở Ngoại vụ 5 949 6/7 85,71% Đạt Vị trí 3" in ref_text
    assert "1 Văn phòng UBND tỉnh Cờ thi đua của UBND tỉnh 7/7 phiếu đồng ý, vòng 1" in ref_text
    assert "3 Sở Ngoại vụ Bằng khen của Chủ tịch UBND tỉnh 6/7 phiếu đồng ý, vòng 1" in ref_text
    assert "trên 1/2 tổng số đơn vị bỏ phiếu" in ref_text


def test_the_election_minutes_name_next_year_s_head_and_deputy(ref_text: str) -> None:
    assert "Sở Kế hoạch và Đầu tư (Khối phó năm 2018) đảm nhận Khối trưởng năm 2019" in ref_text
    assert "Văn phòng Đoàn ĐBQH tỉnh 5 71,43%" in ref_text
    assert "Khối trưởng năm 2019: Sở Kế hoạch và Đầu tư" in ref_text
    assert "Khối phó năm 2019: Văn phòng Đoàn ĐBQH tỉnh" in ref_text


def test_the_footer_names_the_record_and_its_qr_code_is_inline_svg(reference: Record) -> None:
    html = minutes_html(reference.events, **reference.kw)  # type: ignore[arg-type]
    assert html.startswith("<!DOCTYPE html>") and '<html lang="vi">' in html
    assert reference.head_hash.hex() in html and reference.stream in html
    assert f"Phiên bản cuối: {reference.head_version}" in text_of(html)
    footer = html.split('id="footer"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "<svg" in footer and "<path" in footer
    assert (
        record_uri(reference.stream, 52, b"\x01" * 32)
        == "thidua:cycle-kg-khoi-2-2018@52#" + "01" * 32
    )


def test_names_are_escaped_not_interpreted() -> None:
    sc = scenario_with(**{'"Sở Nội vụ"': '"Sở <script>Nội</script> vụ & Co"'})
    rec = record_of(sc)
    html = minutes_html(rec.events, **rec.kw)  # type: ignore[arg-type]
    assert "<script>" not in html
    assert "Sở &lt;script&gt;Nội&lt;/script&gt; vụ &amp; Co" in html


def test_a_failed_run_off_leads_to_the_secretariat_s_appointment() -> None:
    rec = record_of(scenario("runoff_failed"))
    text = text_of(minutes_html(rec.events, **rec.kw))  # type: ignore[arg-type]
    assert "Bầu lại (vòng 2)" in text
    assert "bầu lại giữa Sở C và Sở D" in text
    assert "Bầu lại không có kết quả; đề nghị Ban Thi đua – Khen thưởng chỉ định" in text
    assert "Ban Thi đua – Khen thưởng chỉ định: Khối trưởng" in text


def test_a_run_off_that_succeeds_is_reported_round_by_round() -> None:
    rec = record_of(scenario("runoff"))
    text = text_of(minutes_html(rec.events, **rec.kw))  # type: ignore[arg-type]
    assert "Vòng bầu (vòng 1)" in text and "Bầu lại (vòng 2)" in text
    assert "trúng cử Khối phó" in text


def test_when_both_leaders_are_elected_each_office_has_its_count() -> None:
    rec = record_of(scenario("elect_both"))
    text = text_of(minutes_html(rec.events, **rec.kw))  # type: ignore[arg-type]
    assert "Hội nghị bầu Khối trưởng và Khối phó năm 2025 theo quy chế của Khối." in text
    assert "Bầu Khối trưởng Số phiếu Tỷ lệ" in text and "Bầu Khối phó Số phiếu Tỷ lệ" in text
    assert "trúng cử Khối trưởng" in text


def test_places_filled_by_the_head_and_deputy_say_so() -> None:
    rec = record_of(scenario("leaders_decide"))
    text = text_of(minutes_html(rec.events, **rec.kw))  # type: ignore[arg-type]
    assert "Vòng 1" in text and "Vòng 2" in text and "Không đạt" in text
    assert "Khối trưởng, Khối phó quyết định" in text
    assert "thống nhất đề nghị: Vị trí 1:" in text


def test_a_cancelled_cycle_says_so_and_reports_no_stage_it_never_reached() -> None:
    rec = record_of(scenario("cancelled"))
    text = text_of(minutes_html(rec.events, **rec.kw))  # type: ignore[arg-type]
    assert "Kỳ thi đua đã hủy. Lý do:" in text
    assert "Hội nghị tổng kết chưa được tổ chức" in text
    assert "Chưa tổ chức bầu Khối trưởng, Khối phó" in text


def test_minutes_of_a_cycle_under_way_stop_at_its_last_event(reference: Record) -> None:
    upto = next(i for i, e in enumerate(reference.events) if e.type == "discipline_check_closed")
    rec = Record(reference.events[:upto], reference.stream, upto, reference.head_hash)
    text = text_of(minutes_html(rec.events, **rec.kw))  # type: ignore[arg-type]
    assert "7/8" in text and "983,5" in text
    assert "Chưa kết thúc xét điều kiện suy tôn" in text
    assert "Chưa tổ chức bình xét, suy tôn (kỳ thi đua đang ở bước: Xét điều kiện suy tôn)" in text


def test_the_same_events_give_the_same_html(reference: Record) -> None:
    first = minutes_html(reference.events, **reference.kw)  # type: ignore[arg-type]
    assert minutes_html(reference.events, **reference.kw) == first  # type: ignore[arg-type]


def test_an_excluded_deputy_does_not_succeed_and_the_minutes_say_why() -> None:
    rec = record_of(scenario("excluded_deputy"))
    text = text_of(minutes_html(rec.events, **rec.kw))  # type: ignore[arg-type]
    assert (
        "Hội nghị bầu Khối trưởng và Khối phó năm 2025 do Sở B (Khối phó năm 2024) không đủ "
        "điều kiện đảm nhận Khối trưởng." in text
    )
    assert "Sở B lãnh đạo bị xử lý kỷ luật" in text


def test_conference_acts_are_dated_by_the_conference(ref_text: str) -> None:
    """Recorded on the conference's day: the time and the day. Driven again years later (a
    scenario run today): the conference's date, and the moment of entry said as such — never a
    vote dated by the day it was typed in."""
    assert re.search(
        r"Mở vòng bỏ phiếu lúc \d\d:\d\d 08/3/2019, kết thúc lúc \d\d:\d\d "
        r"08/3/2019",
        ref_text,
    )
    from datetime import UTC, datetime

    from app.runner import reference_scenario
    from domain.scenario import run_pure

    from .conftest import clock

    now, ids = clock(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    _, events, _ = run_pure(reference_scenario(), now=now, ids=ids)
    late = text_of(
        minutes_html(
            events,
            stream="cycle-kg-khoi-2-2018",  # type: ignore[arg-type]
            head_version=len(events),
            head_hash=b"\0" * 32,
        )
    )
    assert re.search(
        r"Mở vòng bỏ phiếu tại hội nghị ngày 08/3/2019 \(ghi nhận vào hệ thống lúc "
        r"\d\d:\d\d 06/12/2026\)",
        late,
    )
    assert not re.search(r"lúc \d\d:\d\d 06/12/2026(?! ?\))", late)
    assert "Hội nghị tổng kết được tổ chức ngày 08 tháng 3 năm 2019" in late
