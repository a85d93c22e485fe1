"""The one Vietnamese voice of thidua: every word, date and number the pages, the minutes, the
CLI's tables and the council's document print comes from here (UI.md).

- Dates as Nghị định 30/2020/NĐ-CP writes them: a day below 10 and the months 1 and 2 take a
  leading zero, so 8 March 2019 is `08/3/2019` and 5 January is `05/01/2019`; times as
  `14:05 08/3/2019`, in Vietnam's time.
- Numbers with a comma before the decimals and a dot between thousands: `983,5`, `1.000`
  (`grouped=False` for the value of a form's input, which reads the dot as a decimal point).
- The stages of a cycle, the reasons a unit is excluded, commands as buttons and tasks, rule
  codes as sentences (a code never appears on screen), reconciliation differences.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

__all__ = [
    "BUTTON",
    "EXCLUSION",
    "RECONCILE",
    "RULE",
    "SCENARIO_RULE",
    "STAGE",
    "TASK",
    "VN",
    "actor_words",
    "book_sentence",
    "cycle_title",
    "days_left",
    "fraction_words",
    "percent",
    "reason_words",
    "reconcile_sentence",
    "rule_sentence",
    "scenario_problems",
    "vn_date",
    "vn_date_long",
    "vn_number",
    "vn_time",
    "wait_text",
]

# ---- dates and numbers ----------------------------------------------------------------------

VN = timezone(timedelta(hours=7), "ICT")
"""Vietnam's time: Asia/Ho_Chi_Minh has kept UTC+7 without daylight saving since 1975 (a fixed
offset needs no time-zone database on the machine that prints)."""


def _local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VN)


def _day(value: date | datetime | str) -> date:
    if isinstance(value, str):
        value = (
            datetime.fromisoformat(value)
            if "T" in value or " " in value
            else (date.fromisoformat(value))
        )
    if isinstance(value, datetime):
        return _local(value).date()
    return value


def _day_month(d: date) -> tuple[str, str]:
    return f"{d.day:02d}", f"{d.month:02d}" if d.month < 3 else str(d.month)


def vn_date(value: date | datetime | str | None) -> str:
    """`08/3/2019`, `05/01/2019` (a moment: its day in Vietnam); "" for nothing."""
    if value is None or value == "":
        return ""
    d = _day(value)
    day, month = _day_month(d)
    return f"{day}/{month}/{d.year}"


def vn_date_long(value: date | datetime | str) -> str:
    """`ngày 08 tháng 3 năm 2019`, as in a document's heading."""
    d = _day(value)
    day, month = _day_month(d)
    return f"ngày {day} tháng {month} năm {d.year}"


def vn_time(value: datetime | str | None) -> str:
    """`14:05 08/3/2019`, in Vietnam's time; "" for nothing."""
    if value is None or value == "":
        return ""
    local = _local(datetime.fromisoformat(value) if isinstance(value, str) else value)
    return f"{local:%H:%M} {vn_date(local.date())}"


def cycle_title(title: str | None, block_name: str | None, year: int | None) -> str:
    """The one way a cycle is titled on every page: its own title when it has one, else
    `<block's name> – năm <year>`."""
    if title:
        return title
    return f"{block_name or 'Khối thi đua'} – năm {year}" if year else (block_name or "")


def actor_words(who: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """Who acted, as the record says it (an event's `actor`): `Hệ thống` for the system's own
    acts (a deadline, a stage that closed by itself), the secretariat, or the person and unit."""
    kind = who.get("kind")
    if kind == "system":
        return "Hệ thống (tự động)"
    person = who.get("name") or who.get("login") or ""
    if kind == "admin":
        return f"{person} – Cơ quan thường trực" if person else "Cơ quan thường trực"
    unit = (names or {}).get(who.get("unit") or "", who.get("unit") or "")
    return f"{person} – {unit}" if person and unit else person or unit or "—"


def vn_number(value: Any, places: int | None = None, *, grouped: bool = True) -> str:
    """`983,5`, `976`, `1.000`, `12.345,25`; `places` rounds half up first (percentages); ""
    for nothing; a text that is no number as it is."""
    if value is None or value == "":
        return ""
    try:
        d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return str(value)
    if not d.is_finite():
        return str(value)
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP")
    text = format(d.normalize(), "f") if d != 0 else "0"
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    whole, _, frac = text.partition(".")
    if grouped:
        groups: list[str] = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        whole = ".".join([whole, *groups])
    return f"{sign}{whole},{frac}" if frac else f"{sign}{whole}"


def percent(part: int, whole: int) -> str:
    """`85,71%`; `0%` of nothing."""
    if whole <= 0:
        return "0%"
    return f"{vn_number(Decimal(part) * 100 / Decimal(whole), places=2)}%"


def fraction_words(f: Fraction) -> str:
    """`1/2`, `2/3`; whole numbers as themselves."""
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def days_left(deadline: datetime | None, now: datetime | None = None) -> int | None:
    """Whole days from today to the deadline's day, both in Vietnam's calendar (0 = today,
    negative = past)."""
    if deadline is None:
        return None
    now = now or datetime.now(UTC)
    return (_local(deadline).date() - _local(now).date()).days


# ---- words ----------------------------------------------------------------------------------

STAGE: dict[str, str] = {
    "none": "Chưa khởi tạo",
    "pledge": "Ký giao ước",
    "scoring": "Chấm điểm",
    "review": "Hội nghị tổng kết",
    "discipline": "Xét điều kiện suy tôn",
    "vote": "Bình xét, suy tôn",
    "election": "Bầu Khối trưởng, Khối phó",
    "completed": "Hoàn thành",
    "cancelled": "Đã hủy",
}

EXCLUSION: dict[str, str] = {
    "no_pledge": "không ký giao ước",
    "not_scored": "không chấm điểm",
    "below_area_floor": "chưa đạt điểm sàn của nội dung",
    "leader_disciplined": "lãnh đạo bị xử lý kỷ luật",
    "court_conclusion": "có kết luận của Tòa án",
    "party_org_not_clean": "tổ chức Đảng không đạt trong sạch, vững mạnh",
    "security_order_weak": "xếp loại yếu về an ninh trật tự",
    "legal_violation": "vi phạm pháp luật",
    "other": "lý do khác",
}
"""Reason codes of exclusion (and the kinds of findings) in words."""


def reason_words(codes: tuple[str, ...] | list[str]) -> str:
    """Reason codes in words, joined by semicolons, in the order given."""
    return "; ".join(EXCLUSION.get(c, c) for c in codes)


BUTTON = {
    "sign_pledge": "Ký giao ước",
    "close_pledge": "Kết thúc ký giao ước",
    "submit_self_score": "Gửi bản tự chấm điểm",
    "verify_score": "Xác nhận kết quả thẩm định",
    "close_scoring": "Kết thúc chấm điểm",
    "hold_review": "Ghi nhận hội nghị tổng kết",
    "correct_score": "Điều chỉnh điểm",
    "record_finding": "Ghi nhận vi phạm",
    "withdraw_finding": "Rút ghi nhận vi phạm",
    "close_discipline_check": "Kết thúc xét điều kiện",
    "break_tie": "Xác định thứ tự đồng điểm",
    "open_vote_round": "Mở vòng bỏ phiếu",
    "cast_ballot": "Gửi phiếu bình xét",
    "close_vote_round": "Kết thúc vòng bỏ phiếu",
    "leaders_decide": "Khối trưởng, Khối phó quyết định",
    "open_election": "Mở bầu Khối trưởng, Khối phó",
    "cast_election_ballot": "Gửi phiếu bầu",
    "close_election": "Kết thúc bầu",
    "appoint_leaders": "Chỉ định Khối trưởng, Khối phó",
    "extend_deadline": "Gia hạn",
    "cancel_cycle": "Hủy kỳ thi đua",
    "start_cycle": "Khởi tạo kỳ thi đua",
}

TASK = {
    "sign_pledge": "Ký giao ước thi đua",
    "close_pledge": "Kết thúc việc ký giao ước",
    "submit_self_score": "Gửi bản tự chấm điểm",
    "verify_score": "Thẩm định điểm của {unit}",
    "close_scoring": "Kết thúc việc chấm điểm",
    "hold_review": "Ghi nhận hội nghị tổng kết",
    "close_discipline_check": "Kết thúc xét điều kiện suy tôn",
    "cast_ballot": "Bỏ phiếu bình xét",
    "close_vote_round": "Kết thúc vòng bỏ phiếu",
    "open_vote_round": "Mở vòng bỏ phiếu bình xét",
    "open_election": "Mở bầu Khối trưởng, Khối phó",
    "cast_election_ballot": "Bỏ phiếu bầu Khối trưởng, Khối phó",
    "close_election": "Kết thúc bầu",
    "appoint_leaders": "Chỉ định Khối trưởng, Khối phó",
    "record_finding": "Ghi nhận vi phạm của các đơn vị (nếu có)",
}

RULE = {
    "not_authorized": "Tài khoản của bạn không có quyền thực hiện thao tác này.",
    "wrong_stage": "Kỳ thi đua đang ở bước khác, không thể thực hiện thao tác này.",
    "already_signed": "Đơn vị đã ký giao ước.",
    "score_above_max": "Điểm vượt quá điểm tối đa của nội dung ({max}).",
    "score_negative": "Điểm không được nhỏ hơn 0.",
    "too_many_decimals": "Điểm chỉ được có tối đa 2 chữ số thập phân.",
    "missing_section": "Chưa nhập điểm cho nội dung này.",
    "unknown_section": "Nội dung này không có trong bảng điểm.",
    "not_a_number": "Điểm phải là một số, ví dụ 583,5.",
    "quorum_not_met": "Chưa đủ số đơn vị dự hội nghị (cần ít nhất {need}/{members}).",
    "unresolved_tie": "Có đơn vị đồng điểm ảnh hưởng đến việc đề nghị; Khối trưởng cần xác "
    "định thứ tự trước.",
    "already_voted": "Đơn vị đã gửi phiếu trong vòng này.",
    "not_entitled_to_vote": "Đơn vị không thuộc danh sách bỏ phiếu của vòng này.",
    "invalid_email": "Địa chỉ thư điện tử không hợp lệ.",
    "invalid_expiry": "Thời hạn không hợp lệ (ví dụ 90d hoặc 12h; từ 1 giờ đến 10 năm).",
    "invalid_export": "Không tạo được gói kiểm toán của kỳ thi đua này.",
    "invalid_idempotency_key": "Mã chống gửi trùng của yêu cầu không hợp lệ.",
    "invalid_login": "Tên đăng nhập chỉ gồm chữ thường không dấu, chữ số, dấu gạch ngang, gạch dưới "
    "hoặc dấu chấm (tối đa 64 ký tự).",
    "invalid_name": "Họ và tên không hợp lệ.",
    "invalid_role": "Vai trò phải là quản trị, đơn vị hoặc kiểm tra.",
    "oidc_failed": "Đăng nhập một lần không thành công. Vui lòng thử lại.",
    "person_disabled": "Tài khoản đã bị khóa. Liên hệ Cơ quan thường trực.",
    "person_exists": "Tên đăng nhập này đã có người dùng.",
    "sso_disabled": "Chưa cấu hình đăng nhập một lần.",
    "unit_not_allowed": "Chỉ tài khoản của đơn vị mới gắn với một đơn vị.",
    "unit_required": "Tài khoản của đơn vị cần ghi rõ đơn vị.",
    "unknown_person": "Không có tài khoản với tên đăng nhập này.",
    "unknown_proposals": "Phiếu có đơn vị không nằm trong danh sách đề nghị của vòng này.",
    "unknown_token": "Mã truy cập không đúng hoặc đã hết hiệu lực.",
    "weak_password": "Mật khẩu chưa đủ mạnh: cần dài hơn và khó đoán hơn.",
    "reason_required": "Cần ghi rõ lý do.",
    "cycle_exists": "Kỳ thi đua của khối này trong năm này đã được khởi tạo.",
    "invalid_block": "Thông tin khối thi đua chưa hợp lệ.",
    "invalid_ruleset": "Quy chế bình xét chưa hợp lệ.",
    "invalid_score_sheet": "Bảng điểm chưa hợp lệ.",
    "invalid_deadline": "Thời hạn chưa hợp lệ.",
    "not_a_member": "Đơn vị không thuộc khối thi đua.",
    "no_self_score": "Đơn vị chưa gửi bản tự chấm điểm.",
    "already_verified": "Điểm của đơn vị đã được thẩm định.",
    "invalid_attendance": "Mỗi đơn vị phải được ghi là có mặt hoặc vắng mặt, không trùng lặp.",
    "unknown_finding": "Không có ghi nhận vi phạm này.",
    "finding_exists": "Vi phạm này đã được ghi nhận.",
    "not_tied": "Các đơn vị đã chọn không đồng điểm với nhau.",
    "round_open": "Vòng bỏ phiếu đang mở; cần kết thúc vòng này trước.",
    "no_round_open": "Không có vòng bỏ phiếu nào đang mở.",
    "no_round_yet": "Chưa có vòng bỏ phiếu bình xét nào được mở. Khối trưởng mở vòng thứ nhất "
    "tại hội nghị; khi vòng mở, phiếu của đơn vị sẽ hiện ở đây.",
    "no_open_places": "Tất cả các vị trí đề nghị đã được xác định.",
    "no_candidates": "Không còn đơn vị đủ điều kiện để đề nghị.",
    "max_rounds_reached": "Đã hết số vòng bỏ phiếu theo quy chế.",
    "rounds_remaining": "Vẫn còn vòng bỏ phiếu theo quy chế; chưa thể quyết định thay.",
    "not_a_candidate": "Đơn vị được chọn không thuộc danh sách ứng cử.",
    "leaders_disagree": "Khối trưởng và Khối phó đã chọn khác nhau; cần thống nhất cùng một "
    "lựa chọn.",
    "duplicate_choice": "Một đơn vị chỉ được chọn một lần trong phiếu.",
    "vote_not_held": "Cần hoàn thành ít nhất một vòng bỏ phiếu bình xét trước khi bầu.",
    "too_many_resubmissions": "Đã hết số lần gửi lại cho phép.",
    "limit_reached": "Thao tác này đã được thực hiện đủ số lần cho phép.",
    "place_not_open": "Vị trí này không còn để trống.",
    "election_not_failed": "Cuộc bầu chưa thất bại; chưa thể chỉ định.",
    "deadline_not_reached": "Chưa đến thời hạn.",
    "unknown_cycle": "Không tìm thấy kỳ thi đua này.",
    "not_scored": "Đơn vị chưa có điểm được công nhận.",
    "login_failed": "Tên đăng nhập hoặc mật khẩu không đúng.",
    "login_delayed": "Đăng nhập sai quá nhiều lần từ máy này; vui lòng thử lại sau {wait}.",
    "not_authenticated": "Phiên làm việc đã hết; vui lòng đăng nhập lại.",
    "csrf_failed": "Biểu mẫu đã hết hạn; vui lòng tải lại trang và gửi lại.",
    "invalid_request": "Thông tin nhập chưa hợp lệ.",
    "invalid_scenario": "Tệp kỳ thi đua chưa đúng định dạng.",
    "required": "Cần nhập thông tin này.",
    "confirm_required": "Cần xác nhận trước khi gửi.",
    "confirm_needed": "Việc này không thể hoàn tác: hãy đọc hệ quả rồi xác nhận.",
    "invalid_date": "Ngày chưa hợp lệ (ví dụ 08/3/2019).",
    "invalid_year": "Năm chưa hợp lệ (ví dụ 2019).",
    "invalid_version": "Phiên bản phải là một số nguyên dương (ví dụ 9).",
    "invalid_moment": "Thời điểm chưa hợp lệ: cần ngày giờ trong khoảng năm 1945–2200 (ví dụ "
    "08/3/2019 09:00).",
    "unknown_block": "Khối thi đua chưa được đăng ký.",
    "block_exists": "Khối thi đua này đã được đăng ký.",
    "already_member": "Đơn vị đã là thành viên của khối.",
    "leader_not_member": "Khối trưởng hoặc Khối phó không còn là thành viên của khối trong năm "
    "này; cơ quan thường trực cần chỉ định người thay.",
    "invalid_input": "Thông tin nhập chưa hợp lệ.",
    "previous_cycle_open": "Kỳ thi đua năm trước của khối chưa kết thúc; Khối trưởng, Khối phó "
    "năm nay do kỳ đó bầu.",
    "no_members": "Khối không có thành viên nào trong năm này.",
    "no_previous_cycle": "Khối chưa có kỳ thi đua năm trước để lấy quy chế và bảng điểm; hãy "
    "khởi tạo bằng tệp kỳ thi đua.",
    "temporal_unavailable": "Chưa kết nối được với Temporal nên chưa thể đối chiếu. Vui lòng "
    "thử lại sau.",
    "unknown_workflow": "Temporal không còn lưu lịch sử của kỳ thi đua này (đã quá thời hạn lưu "
    "giữ), nên không thể đối chiếu.",
    # evidence (minh chứng) of a self-score: app/evidence.py; checked by the content
    "evidence_too_large": "Tệp minh chứng lớn hơn 10 MB; mỗi tệp tối đa 10 MB.",
    "evidence_empty": "Tệp minh chứng rỗng (0 byte).",
    "evidence_type_not_allowed": "Tệp minh chứng phải là PDF, ảnh JPEG hoặc PNG, tài liệu Word, "
    "Excel (.doc, .docx, .xls, .xlsx) hoặc OpenDocument (.odt, "
    ".ods); loại tệp được xác định theo nội dung, không theo tên.",
    "evidence_damaged": "Tệp minh chứng mang dạng tài liệu Word, Excel hoặc OpenDocument nhưng "
    "thiếu các phần bắt buộc của loại tài liệu đó (tệp hỏng hoặc bị đổi "
    "tên).",
    "invalid_file_name": "Tên tệp minh chứng chưa hợp lệ (tối đa 255 ký tự, không chứa ký tự "
    "điều khiển).",
    "too_many_evidence": "Quá nhiều tệp minh chứng: tối đa 5 tệp mỗi mục và 20 tệp mỗi bản tự "
    "chấm điểm.",
    "evidence_not_uploaded": "Tệp minh chứng chưa được tải lên.",
    "evidence_mismatch": "Kích thước hoặc loại tệp minh chứng khác với tệp đã tải lên.",
    "unknown_evidence": "Không tìm thấy tệp minh chứng này trong kỳ thi đua.",
}

# A difference between Temporal's history and the event stream (app/audit/reconcile.Difference)
RECONCILE = {
    "wrong_stream": "Quy trình đã ghi vào luồng {stream}, không phải luồng {expected}.",
    "no_append": "{who}: sự kiện {event_id} không có lần ghi vào kho nào hoàn tất.",
    "not_stored": "{who}: sự kiện ở phiên bản {version} ({type}, {event_id}) không có trong "
    "kho sự kiện.",
    "wrong_version": "{who}: sự kiện {event_id} ({type}) nằm ở phiên bản {stored} trong kho, "
    "không phải phiên bản {version}.",
    "wrong_hash": "Phiên bản {version} ({type}, {event_id}): mã băm trong kho khác mã băm mà "
    "lần ghi của quy trình đã lưu (sự kiện bị sửa).",
    "not_written": "Phiên bản {version} ({type}, {event_id}) không do yêu cầu, lần xử lý quá "
    "hạn hay việc khởi tạo nào của quy trình ghi.",
    "deleted_tail": "Quy trình đã tới phiên bản {workflow_version}, kho sự kiện chỉ có "
    "{store_version}: phần cuối đã bị xóa.",
    "extra_tail": "Kho sự kiện có {store_version} phiên bản, quy trình chỉ ghi tới phiên bản "
    "{workflow_version}.",
    "no_history": "Temporal không còn giữ quy trình {workflow_id} (chưa từng chạy ở đó, hoặc "
    "lịch sử đã quá thời hạn lưu giữ).",
}


def reconcile_sentence(code: str, facts: dict[str, Any], text: str) -> str:
    """The Vietnamese sentence of a reconciliation difference (`text`, the English one, for a
    code without a sentence); `who` (kind, update name, request id) becomes the act that wrote
    the event."""
    if code not in RECONCILE:
        return text
    values = dict(facts)
    if "who" in values:
        kind, name, request = values["who"]
        values["who"] = {"start": "Khởi tạo kỳ thi đua", "deadline": "Xử lý quá hạn"}.get(
            kind
        ) or f"Yêu cầu «{BUTTON.get(name, name)}» (mã yêu cầu {request})"
    return string.Formatter().vformat(RECONCILE[code], (), _Keep(values))


_FALLBACK = "Thao tác chưa thực hiện được. Vui lòng kiểm tra lại thông tin đã nhập."


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def wait_text(seconds: int) -> str:
    """A wait in Vietnamese: seconds under two minutes, else whole minutes (rounded up)."""
    return f"{seconds} giây" if seconds < 120 else f"{-(-seconds // 60)} phút"


def rule_sentence(code: str, **values: Any) -> str:
    """The Vietnamese sentence of a rule code, its placeholders filled (`…` where unknown)."""
    text = RULE.get(code, _FALLBACK)
    return string.Formatter().vformat(text, (), _Keep(values))


# The rules of a scenario file's problems (domain.scenario: "field: rule: message" lines, the
# message in English for the CLI); the page shows the field and this sentence, never the message
SCENARIO_RULE = {
    "invalid_json": "Tệp không phải là JSON hợp lệ.",
    "not_utf8": "Tệp phải là văn bản mã hóa UTF-8.",
    "too_deep": "Tệp lồng quá nhiều cấp mảng hoặc đối tượng.",
    "number_too_long": "Tệp có một số quá dài.",
    "not_an_object": "Cần một đối tượng JSON ({…}).",
    "unsupported_format": 'Định dạng tệp không được hỗ trợ (cần "thidua.scenario/1").',
    "missing": "Thiếu thông tin bắt buộc này.",
    "not_a_list": "Cần một danh sách.",
    "invalid_step": 'Mỗi bước cần có "as" và "do".',
    "unknown_command": "Không có thao tác này.",
    "invalid_id": 'Mã chưa hợp lệ: 1–64 ký tự gồm chữ thường không dấu, chữ số, ".", "_", "-".',
    "text_too_long": "Văn bản quá dài (tối đa 2.000 ký tự).",
    "invalid_text": "Văn bản không được chứa ký tự NUL.",
    "invalid_fraction": "Cần một phân số lớn hơn 0 và không quá 1, ví dụ 2/3.",
    "too_many_items": "Danh sách quá dài (tối đa 100 mục).",
    "too_short": "Danh sách chưa đủ số mục.",
    "naive_datetime": "Thời điểm cần có múi giờ (ví dụ +07:00).",
    "extra_forbidden": "Tệp có thông tin không được phép ở đây.",
    "int_parsing": "Cần một số nguyên.",
    "int_type": "Cần một số nguyên.",
    "string_type": "Cần một chuỗi văn bản.",
    "greater_than_equal": "Giá trị nhỏ hơn mức cho phép.",
    "less_than_equal": "Giá trị lớn hơn mức cho phép.",
    "literal_error": "Giá trị không thuộc các lựa chọn cho phép.",
    "datetime_from_date_parsing": "Thời điểm chưa hợp lệ.",
    "datetime_parsing": "Thời điểm chưa hợp lệ.",
}
# The parts of a scenario file, and the English messages of the block's and the sheet's own
# checks (domain.setup), in Vietnamese
SCENARIO_PART = {
    "format": "định dạng tệp (format)",
    "block": "khối thi đua (block)",
    "year": "năm (year)",
    "score_sheet": "bảng điểm (score_sheet)",
    "ruleset": "quy chế (ruleset)",
    "deadlines": "thời hạn (deadlines)",
    "steps": "các bước (steps)",
}
SCENARIO_MESSAGE = (
    ("at least 3 members", "Một khối thi đua cần ít nhất 3 đơn vị."),
    ("member ids must be unique", "Mã các đơn vị thành viên phải khác nhau."),
    ("head and deputy must be distinct", "Khối trưởng và Khối phó phải là hai đơn vị khác nhau."),
    ("head ", "Khối trưởng (head) phải là một đơn vị thành viên của khối."),
    ("deputy ", "Khối phó (deputy) phải là một đơn vị thành viên của khối."),
    ("at least one section", "Bảng điểm cần ít nhất một nội dung."),
    ("section ids must be unique", "Mã các nội dung của bảng điểm phải khác nhau."),
    ("needs a positive max", "Điểm tối đa của mỗi nội dung phải lớn hơn 0."),
    (
        "section maxima sum to",
        "Tổng điểm tối đa của các nội dung phải bằng điểm tối đa của bảng điểm (max_total).",
    ),
)


def _scenario_sentence(field: str, code: str, message: str) -> str:
    if code == "missing" and field in SCENARIO_PART:
        return f"Thiếu {SCENARIO_PART[field]}: đây là thông tin bắt buộc."
    if code in ("invalid_block", "invalid_score_sheet"):
        for fragment, sentence in SCENARIO_MESSAGE:
            if fragment in message:
                return sentence
    return SCENARIO_RULE.get(code) or RULE.get(code) or "Giá trị chưa hợp lệ."


_FIELD = re.compile(r"[A-Za-z0-9_.\[\]()-]{1,80}", re.ASCII)


def scenario_problems(lines: list[str], limit: int = 50) -> list[dict[str, str]]:
    """A scenario file's problems as the page shows them: the field (only when it is a plain
    path of the file: a key of the file is not repeated), the rule in `code`, a Vietnamese
    sentence."""
    out = []
    for line in lines[:limit]:
        field, _, rest = line.partition(": ")
        code = rest.partition(": ")[0] if rest else ""
        code = code if code.isidentifier() else "invalid_scenario"
        sentence = _scenario_sentence(field, code, rest.partition(": ")[2])
        shown = field if field != "(file)" and _FIELD.fullmatch(field) else ""
        out.append({"field": shown, "code": code, "sentence": sentence})
    return out


# ---- the secretariat's setup of a province (domain.province_setup, app/province_setup.py) ------

RULE.update(
    {
        "unit_in_two_blocks": "Đơn vị này đã thuộc một khối thi đua khác của tỉnh trong năm đó; mỗi "
        "đơn vị chỉ thuộc một khối trong một năm.",
        "too_few_members": "Một khối thi đua cần ít nhất 3 đơn vị.",
        "not_a_workbook": "Tệp không phải là bảng tính Excel (.xlsx).",
        "invalid_id": "Mã chưa hợp lệ: 1–64 ký tự gồm chữ thường không dấu, chữ số, dấu chấm, "
        "dấu gạch dưới và dấu gạch ngang (ví dụ so-noi-vu).",
        "duplicate_unit": "Đơn vị này đã có ở một dòng khác.",
        "head_is_deputy": "Khối trưởng và Khối phó phải là hai đơn vị khác nhau.",
        "text_too_long": "Văn bản quá dài (tối đa 2.000 ký tự).",
        "file_too_large": "Tệp quá lớn.",
        "empty_book": "Bảng tính chưa có dòng nào ngoài dòng tiêu đề.",
        "no_sheet": "Không tìm thấy trang «Khối thi đua» trong bảng tính.",
        "too_many_rows": "Bảng tính có quá nhiều dòng.",
    }
)

BOOK_RULE = {
    "file_too_large": "Tệp quá lớn (tối đa {max} MB).",
    "too_many_rows": "Bảng tính có quá nhiều dòng (tối đa {max}).",
    "wrong_header": "Tiêu đề cột phải là «{expected}» (hãy dùng bảng tính mẫu).",
    "required": "Ô này không được để trống.",
    "text_too_long": "Nội dung ô quá dài (tối đa 2.000 ký tự).",
    "province_mixed": "Một bảng tính chỉ dành cho một tỉnh (dòng {first_row} ghi «{province}»).",
    "invalid_name": "Không tạo được mã khối từ tên này; hãy nhập «Mã khối».",
    "block_missing": "Dòng này chưa ghi khối thi đua của đơn vị (cần «Mã khối» hoặc «Tên khối "
    "thi đua»).",
    "block_name_mismatch": "Tên khối khác với tên ở dòng {first_row} («{name}»).",
    "invalid_mark": "Chỉ ghi «Khối trưởng», «Khối phó» hoặc để trống.",
    "duplicate_unit": "Đơn vị {unit} đã có ở dòng {row} của cùng khối.",
    "unit_in_two_blocks": "Đơn vị {unit} đã thuộc khối {block}; mỗi đơn vị chỉ thuộc một khối "
    "thi đua của tỉnh trong một năm.",
    "two_heads": "Khối {block} đã có Khối trưởng ở dòng {row}; mỗi khối chỉ có một Khối trưởng.",
    "two_deputies": "Khối {block} đã có Khối phó ở dòng {row}; mỗi khối chỉ có một Khối phó.",
    "head_missing": "Khối mới {block} chưa có đơn vị nào được ghi «Khối trưởng».",
    "deputy_missing": "Khối mới {block} chưa có đơn vị nào được ghi «Khối phó».",
    "too_few_members": "Khối mới {block} cần ít nhất 3 đơn vị.",
    "block_in_other_province": "Mã khối {block} đã được đăng ký cho tỉnh {province}.",
    "already_member": "Đơn vị {unit} đã là thành viên của khối {block}.",
    "not_a_member": "Đơn vị {unit} không là thành viên của khối {block} trong năm này.",
    "invalid_year": "Đơn vị {unit} không thể vào hoặc rời khối {block} từ năm này.",
    "leader_not_member": "Khối trưởng hoặc Khối phó của khối {block} không còn là thành viên; "
    "hãy ghi «Khối trưởng», «Khối phó» cho đơn vị thay thế.",
    "invalid_block": "Thông tin khối {block} chưa hợp lệ.",
}
"""A workbook's problems (domain.province_setup.CellProblem codes) whose sentence names their
values; the others (`empty_book`, `not_a_workbook`, `no_sheet`, `invalid_id`) are RULE's."""


def book_sentence(code: str, **values: Any) -> str:
    """The Vietnamese sentence of a workbook's problem (`…` for a value not known)."""
    text = BOOK_RULE.get(code) or RULE.get(code, _FALLBACK)
    return string.Formatter().vformat(text, (), _Keep(values))
