"""The province's list of proposals as the Vietnamese document for the provincial emulation
council (plain text), in the one voice of app/words.py."""

from __future__ import annotations

from domain.province import ProvinceProposals

from ..words import vn_date, vn_number

__all__ = ["render_document"]

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII",
          "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX")


def render_document(p: ProvinceProposals) -> str:
    """The list as a Vietnamese document for the provincial emulation council (plain text)."""
    lines = [
        f"UBND TỈNH {p.province.upper()}",
        "HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG",
        "",
        "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG CỦA CÁC KHỐI THI ĐUA",
        f"Năm {p.year}",
        "",
    ]
    for i, b in enumerate(p.blocks):
        mark = _ROMAN[i] if i < len(_ROMAN) else str(i + 1)
        if b.status == "cancelled":
            reason = f" (lý do: {b.cancel_reason})" if b.cancel_reason else ""
            lines += [f"{mark}. {b.block_name}: đợt thi đua đã bị hủy{reason}; không có đề nghị.",
                      ""]
            continue
        held = f" (hội nghị tổng kết ngày {vn_date(b.held_on)})" if b.held_on else ""
        lines.append(f"{mark}. {b.block_name}{held}")
        if not b.proposals:
            lines.append("   Không có đơn vị được đề nghị.")
        for n in b.proposals:
            how = (
                f"{n.approvals}/{n.voters} phiếu tán thành (vòng {n.round})"
                if n.decided_by == "vote"
                else "do Khối trưởng và Khối phó quyết định"
            )
            lines.append(
                f"   {n.place}. {n.name} — đề nghị tặng {n.title}; "
                f"tổng điểm {vn_number(n.total) or '—'}; {how}."
            )
        lines.append("")
    units = p.proposed
    flags = sum(1 for n in units if n.place == 1)
    lines.append(
        f"Tổng cộng: {len(units)} đơn vị được đề nghị ({flags} Cờ thi đua, "
        f"{len(units) - flags} Bằng khen), từ {sum(1 for b in p.blocks if b.status == 'completed')}"
        f" khối đã tổng kết; {sum(1 for b in p.blocks if b.status == 'cancelled')} khối đã hủy."
    )
    return "\n".join(lines) + "\n"
