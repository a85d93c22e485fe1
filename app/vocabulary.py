"""The words every Vietnamese output uses (the pages, the minutes, the CLI's tables), once, as
UI.md gives them: the stages of a cycle and the reasons a unit is excluded from nomination."""

from __future__ import annotations

__all__ = ["EXCLUSION", "STAGE"]

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
