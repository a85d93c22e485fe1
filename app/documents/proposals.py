"""The province's list of proposals as the Vietnamese document for the provincial emulation
council (plain text), in the one voice of app/words.py: the issuing body beside the national
header and motto (Nghị định 30/2020/NĐ-CP), the blocks in natural order ("số 1, số 2, số 10"),
and the total counting each unit once however many blocks propose it."""

from __future__ import annotations

import re

from domain.province import BlockProposals, ProvinceProposals

from ..words import vn_date, vn_number

__all__ = ["natural_key", "render_document"]

_ROMAN = (
    "I",
    "II",
    "III",
    "IV",
    "V",
    "VI",
    "VII",
    "VIII",
    "IX",
    "X",
    "XI",
    "XII",
    "XIII",
    "XIV",
    "XV",
    "XVI",
    "XVII",
    "XVIII",
    "XIX",
    "XX",
)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sorts "Khối thi đua số 2" before "Khối thi đua số 10": numbers by value, words by text."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.split(r"(\d+)", text)
        if part
    )


def _order(blocks: tuple[BlockProposals, ...]) -> list[BlockProposals]:
    return sorted(blocks, key=lambda b: (natural_key(b.block_name), b.block_id))


def render_document(p: ProvinceProposals) -> str:
    """The list as a Vietnamese document for the provincial emulation council (plain text)."""
    nation, motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
    issuer = [f"UBND TỈNH {p.province.upper()}", "HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG"]
    width = max(len(s) for s in issuer) + 4
    lines = [
        f"{issuer[0]:<{width}}{nation}",
        f"{issuer[1]:<{width}}{motto}",
        "",
        "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG CỦA CÁC KHỐI THI ĐUA",
        f"Năm {p.year}",
        "",
    ]
    for i, b in enumerate(_order(p.blocks)):
        mark = _ROMAN[i] if i < len(_ROMAN) else str(i + 1)
        if b.status == "cancelled":
            reason = f" (lý do: {b.cancel_reason})" if b.cancel_reason else ""
            lines += [
                f"{mark}. {b.block_name}: đợt thi đua đã bị hủy{reason}; không có đề nghị.",
                "",
            ]
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
    distinct = len({n.unit for n in units})
    times = f"{len(units)} lượt đề nghị: " if len(units) != distinct else ""
    lines.append(
        f"Tổng cộng: {distinct} đơn vị được đề nghị ({times}{flags} Cờ thi đua, "
        f"{len(units) - flags} Bằng khen), từ {sum(1 for b in p.blocks if b.status == 'completed')}"
        f" khối đã tổng kết; {sum(1 for b in p.blocks if b.status == 'cancelled')} khối đã hủy."
    )
    return "\n".join(lines) + "\n"
