"""The words the pages use (UI.md): commands as buttons, stages, rule codes as sentences,
exclusion reasons. A rule code never appears on screen; it sits in `data-code`."""

from __future__ import annotations

import string
from typing import Any

from ...vocabulary import EXCLUSION, STAGE

__all__ = ["BUTTON", "EXCLUSION", "RECONCILE", "RULE", "STAGE", "TASK", "reconcile_sentence",
           "rule_sentence"]

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
    "no_open_places": "Tất cả các vị trí đề nghị đã được xác định.",
    "no_candidates": "Không còn đơn vị đủ điều kiện để đề nghị.",
    "max_rounds_reached": "Đã hết số vòng bỏ phiếu theo quy chế.",
    "rounds_remaining": "Vẫn còn vòng bỏ phiếu theo quy chế; chưa thể quyết định thay.",
    "not_a_candidate": "Đơn vị được chọn không thuộc danh sách ứng cử.",
    "deputy_must_agree": "Cần có sự đồng ý của Khối phó.",
    "place_not_open": "Vị trí này không còn để trống.",
    "election_not_failed": "Cuộc bầu chưa thất bại; chưa thể chỉ định.",
    "deadline_not_reached": "Chưa đến thời hạn.",
    "unknown_cycle": "Không tìm thấy kỳ thi đua này.",
    "not_scored": "Đơn vị chưa có điểm được công nhận.",
    "login_failed": "Tên đăng nhập hoặc mật khẩu không đúng (hoặc tài khoản đang tạm khóa).",
    "not_authenticated": "Phiên làm việc đã hết; vui lòng đăng nhập lại.",
    "csrf_failed": "Biểu mẫu đã hết hạn; vui lòng tải lại trang và gửi lại.",
    "invalid_request": "Thông tin nhập chưa hợp lệ.",
    "invalid_scenario": "Tệp kỳ thi đua chưa đúng định dạng.",
    "required": "Cần nhập thông tin này.",
    "confirm_required": "Cần xác nhận trước khi gửi.",
    "invalid_date": "Ngày chưa hợp lệ (ví dụ 08/3/2019).",
    "invalid_year": "Năm chưa hợp lệ (ví dụ 2019).",
    "unknown_block": "Khối thi đua chưa được đăng ký.",
    "previous_cycle_open": "Kỳ thi đua năm trước của khối chưa kết thúc; Khối trưởng, Khối phó "
                           "năm nay do kỳ đó bầu.",
    "no_previous_cycle": "Khối chưa có kỳ thi đua năm trước để lấy quy chế và bảng điểm; hãy "
                         "khởi tạo bằng tệp kỳ thi đua.",
    "temporal_unavailable": "Chưa kết nối được với Temporal nên chưa thể đối chiếu. Vui lòng "
                            "thử lại sau.",
    "unknown_workflow": "Temporal không còn lưu lịch sử của kỳ thi đua này (đã quá thời hạn lưu "
                        "giữ), nên không thể đối chiếu.",
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
            kind) or f"Yêu cầu «{BUTTON.get(name, name)}» (mã yêu cầu {request})"
    return string.Formatter().vformat(RECONCILE[code], (), _Keep(values))


_FALLBACK = "Thao tác chưa thực hiện được. Vui lòng kiểm tra lại thông tin đã nhập."


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def rule_sentence(code: str, **values: Any) -> str:
    """The Vietnamese sentence of a rule code, its placeholders filled (`…` where unknown)."""
    text = RULE.get(code, _FALLBACK)
    return string.Formatter().vformat(text, (), _Keep(values))
