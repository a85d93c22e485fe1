"""Each event in words, for the auditor's timeline (UI.md's voice; units by full name)."""

from __future__ import annotations

from typing import Any

from ...words import EXCLUSION, STAGE, vn_date, vn_number

__all__ = ["describe"]


def describe(type_: str, d: dict[str, Any], names: dict[str, str]) -> str:
    def n(u: Any) -> str:
        return names.get(str(u), str(u)) if u else "—"

    def ns(us: Any) -> str:
        return ", ".join(n(u) for u in us) if us else "không có"

    match type_:
        case "cycle_started":
            return (
                f"Khởi tạo kỳ thi đua năm {d.get('year')} của {d['block'].get('name')} "
                f"({len(d['block'].get('members', ()))} đơn vị)"
            )
        case "pledge_signed":
            return f"{n(d.get('unit'))} ký giao ước thi đua"
        case "pledge_closed":
            return f"Kết thúc ký giao ước; chưa ký: {ns(d.get('unsigned'))}"
        case "self_score_submitted":
            return f"{n(d.get('unit'))} gửi bản tự chấm điểm"
        case "score_verified":
            total = sum(float(v) for v in d.get("sections", {}).values())
            return f"Thẩm định điểm của {n(d.get('unit'))}: {vn_number(round(total, 2))} điểm"
        case "scoring_closed":
            return f"Kết thúc chấm điểm; không chấm điểm: {ns(d.get('not_scored'))}"
        case "review_held":
            return (
                f"Hội nghị tổng kết ngày {vn_date(d.get('held_on'))}: "
                f"{len(d.get('present', ()))} đơn vị có mặt"
            )
        case "score_corrected":
            return f"Điều chỉnh điểm của {n(d.get('unit'))}: {vn_number(d.get('total'))} điểm"
        case "finding_recorded":
            return (
                f"Ghi nhận vi phạm của {n(d.get('unit'))}: "
                f"{EXCLUSION.get(d.get('kind', ''), d.get('kind'))} ({d.get('reference')})"
            )
        case "finding_withdrawn":
            return (
                f"Rút ghi nhận vi phạm của {n(d.get('unit'))}: "
                f"{EXCLUSION.get(d.get('kind', ''), d.get('kind'))}"
            )
        case "discipline_check_closed":
            ex = d.get("excluded", {})
            return "Kết thúc xét điều kiện; không đủ điều kiện: " + (
                "; ".join(
                    f"{n(u)} ({', '.join(EXCLUSION.get(r, r) for r in rs)})" for u, rs in ex.items()
                )
                or "không có"
            )
        case "tie_broken":
            return f"Xác định thứ tự đồng điểm: {ns(d.get('order'))}"
        case "vote_round_opened":
            return f"Mở vòng bỏ phiếu {d.get('round')}: đề nghị {ns(d.get('proposals'))}"
        case "ballot_cast":
            return f"{n(d.get('voter'))} gửi phiếu bình xét"
        case "vote_round_closed":
            return f"Kết thúc vòng bỏ phiếu {d.get('round')}"
        case "leaders_decided":
            places = d.get("places", {})
            return "Khối trưởng, Khối phó quyết định: " + ", ".join(
                f"vị trí {p}: {n(u)}" for p, u in sorted(places.items())
            )
        case "election_opened":
            return f"Mở bầu Khối trưởng, Khối phó (vòng {d.get('round')})"
        case "election_ballot_cast":
            return f"{n(d.get('voter'))} gửi phiếu bầu"
        case "election_round_closed":
            return (
                f"Kết thúc vòng bầu {d.get('round')}: Khối trưởng {n(d.get('head'))}, "
                f"Khối phó {n(d.get('deputy'))}"
            )
        case "leaders_appointed":
            return f"Chỉ định Khối trưởng {n(d.get('head'))}, Khối phó {n(d.get('deputy'))}"
        case "deadline_extended":
            return (
                f"Gia hạn bước {STAGE.get(d.get('stage', ''), d.get('stage'))} "
                f"đến ngày {vn_date(d.get('until'))}"
            )
        case "deadline_missed":
            return f"Quá hạn bước {STAGE.get(d.get('stage', ''), d.get('stage'))}"
        case "cycle_cancelled":
            return f"Hủy kỳ thi đua: {d.get('reason')}"
        case "cycle_completed":
            o = d.get("outcome", {})
            return (
                f"Hoàn thành kỳ thi đua; Khối trưởng năm sau {n(o.get('next_head'))}, "
                f"Khối phó {n(o.get('next_deputy'))}"
            )
    return type_
