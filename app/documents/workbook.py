"""A cycle as an Excel workbook (openpyxl), from its events alone:

    cycle_workbook(events, stream=…, head_version=…, head_hash=…) -> bytes (.xlsx)

Sheets: `Xếp hạng` (rank, unit, total, eligible: the result page's table), `Điểm theo nội dung`
(each unit's adopted score by section), `Không đủ điều kiện` (exclusions with reasons), `Bình
xét` (each vote round's tally and the nominations), `Bầu cử` (each election round's counts and
next year's leaders), `Nguồn` (the record it was made from). Scores are numbers (Excel sums
them); headings are in Vietnamese.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import Any

from domain import events as ev
from domain.fold import fold_into
from domain.payloads import RankEntry
from domain.ranking import rank_units
from domain.state import CycleState

from ..words import EXCLUSION, STAGE, vn_number
from .model import build_minutes

__all__ = ["SHEETS", "cycle_workbook", "ranking_of"]

SHEETS = ("Xếp hạng", "Điểm theo nội dung", "Không đủ điều kiện", "Bình xét", "Bầu cử", "Nguồn")


def ranking_of(s: CycleState) -> list[RankEntry]:
    """The ranking the result page shows: the outcome's once the cycle completed, else the
    ranking of the adopted scores so far (unscored units last)."""
    if s.outcome is not None:
        return list(s.outcome.ranking)
    if not s.adopted or s.score_sheet is None:
        return []
    excluded = s.excluded or {}
    ranked = rank_units(s.members, s.adopted, s.score_sheet.section_ids, s.tie_breaks)
    out = [
        RankEntry(unit=u, total=s.total_of(u), rank=ranked.rank[u], eligible=u not in excluded)
        for u in ranked.order
    ]
    out += [RankEntry(unit=u, total=None, rank=None, eligible=False) for u in ranked.unscored]
    return out


def _sheet(
    wb: Any, title: str, header: list[str], rows: list[list[Any]], widths: list[int] | None = None
) -> Any:
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    for i, w in enumerate(widths or [], start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = w
    return ws


def cycle_workbook(
    events: Sequence[ev.Event], *, stream: str, head_version: int, head_hash: bytes
) -> bytes:
    """The cycle's ranking, scores by section, exclusions, votes and election as .xlsx."""
    from openpyxl import Workbook

    s = CycleState()
    fold_into(s, list(events))
    if s.block is None or s.score_sheet is None:
        raise ValueError("no cycle in these events")
    m = build_minutes(events, stream=stream, head_version=head_version, head_hash=head_hash)
    name = s.block.name_of
    sheet = s.score_sheet
    wb = Workbook()
    wb.remove(wb.active)
    ranking = ranking_of(s)

    _sheet(
        wb,
        SHEETS[0],
        ["Hạng", "Đơn vị", "Mã đơn vị", "Tổng điểm", "Đủ điều kiện suy tôn"],
        [[e.rank, name(e.unit), e.unit, e.total, "Có" if e.eligible else "Không"] for e in ranking],
        [8, 38, 20, 12, 20],
    )

    score_rows = []
    for e in ranking:
        a = s.adopted.get(e.unit)
        score_rows.append(
            [
                e.rank,
                name(e.unit),
                e.unit,
                *[(a.sections.get(sid) if a else None) for sid in sheet.section_ids],
                a.total if a else None,
                {
                    "verified": "điểm thẩm định",
                    "self": "điểm tự chấm",
                    "corrected": "điểm điều chỉnh",
                }.get(a.source, a.source)
                if a
                else "không chấm điểm",
            ]
        )
    _sheet(
        wb,
        SHEETS[1],
        [
            "Hạng",
            "Đơn vị",
            "Mã đơn vị",
            *[f"{sec.title or sec.id} (tối đa {vn_number(sec.max)})" for sec in sheet.sections],
            f"Tổng điểm (tối đa {vn_number(sheet.max_total)})",
            "Căn cứ",
        ],
        score_rows,
        [8, 38, 20, *[18 for _ in sheet.sections], 14, 18],
    )

    refs = {(f.unit, f.kind): f.reference for f in s.findings}
    excluded = s.outcome.excluded if s.outcome is not None else (s.excluded or {})
    _sheet(
        wb,
        SHEETS[2],
        ["Đơn vị", "Mã đơn vị", "Lý do", "Căn cứ"],
        [
            [name(u), u, EXCLUSION.get(code, code), refs.get((u, code), "")]
            for u in s.members
            if u in excluded
            for code in excluded[u]
        ],
        [38, 20, 40, 50],
    )

    vote_rows: list[list[Any]] = []
    if m.vote is not None:
        for rnd in m.vote.rounds:
            for unit, row in zip(rnd.proposals, rnd.rows, strict=True):
                vote_rows.append(
                    [
                        rnd.number,
                        name(unit),
                        unit,
                        s.total_of(unit),
                        row.approvals if rnd.closed else None,
                        rnd.base if rnd.closed else None,
                        "Có" if row.confirmed else ("Không" if rnd.closed else ""),
                    ]
                )
    ws = _sheet(
        wb,
        SHEETS[3],
        [
            "Vòng",
            "Đơn vị",
            "Mã đơn vị",
            "Tổng điểm",
            "Số phiếu đồng ý",
            "Số đơn vị bỏ phiếu",
            "Được đề nghị",
        ],
        vote_rows,
        [8, 38, 20, 12, 16, 18, 14],
    )
    ws.append([])
    ws.append(
        [
            "Vị trí",
            "Đơn vị",
            "Mã đơn vị",
            "Hình thức đề nghị",
            "Số phiếu đồng ý",
            "Số đơn vị bỏ phiếu",
            "Cách quyết định",
        ]
    )
    nominations = s.outcome.nominations if s.outcome is not None else s.nominations
    for n in nominations:
        ws.append(
            [
                n.place,
                name(n.unit),
                n.unit,
                n.title,
                n.approvals,
                n.voters,
                "bỏ phiếu" if n.decided_by == "vote" else "Khối trưởng, Khối phó quyết định",
            ]
        )

    election_rows: list[list[Any]] = []
    if m.election is not None:
        for er in m.election.rounds:
            election_rows += [
                [er.number, "Khối trưởng", c.name, c.votes, er.ballots] for c in er.head_counts
            ]
            election_rows += [
                [er.number, "Khối phó", c.name, c.votes, er.ballots] for c in er.deputy_counts
            ]
    ws = _sheet(
        wb,
        SHEETS[4],
        ["Vòng", "Chức danh", "Đơn vị", "Số phiếu", "Số phiếu bầu"],
        election_rows,
        [8, 14, 38, 10, 14],
    )
    ws.append([])
    nxt = (s.year or 0) + 1
    ws.append([f"Khối trưởng năm {nxt}", None, name(s.next_head) if s.next_head else ""])
    ws.append([f"Khối phó năm {nxt}", None, name(s.next_deputy) if s.next_deputy else ""])

    _sheet(
        wb,
        SHEETS[5],
        ["Mục", "Giá trị"],
        [
            ["Khối", s.block.name],
            ["Tỉnh", s.block.province],
            ["Năm", s.year],
            ["Giai đoạn", STAGE.get(s.stage, s.stage)],
            ["Luồng sự kiện", stream],
            ["Phiên bản cuối", head_version],
            ["Mã băm cuối", head_hash.hex()],
        ],
        [20, 70],
    )
    wb.properties.title = f"{s.block.name} – năm {s.year}"
    wb.properties.creator = "thidua"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
