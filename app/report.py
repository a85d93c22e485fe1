"""The outcome of a cycle as readable tables, in Vietnamese."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from domain.scenario import Scenario

__all__ = ["render_outcome"]

REASONS = {
    "no_pledge": "không ký giao ước thi đua",
    "not_scored": "không có điểm",
    "below_area_floor": "dưới điểm sàn của lĩnh vực",
    "leader_disciplined": "lãnh đạo bị xử lý kỷ luật",
    "court_conclusion": "có kết luận của Tòa án",
    "party_org_not_clean": "tổ chức đảng không trong sạch, vững mạnh",
    "security_order_weak": "xếp loại yếu về an ninh trật tự",
    "legal_violation": "vi phạm pháp luật",
    "other": "lý do khác",
}
STAGES = {
    "pledge": "ký giao ước", "scoring": "chấm điểm", "review": "hội nghị tổng kết",
    "discipline": "xét kỷ luật", "vote": "bình xét, suy tôn", "election": "bầu Khối trưởng, Khối phó",
    "completed": "hoàn thành", "cancelled": "đã hủy",
}


def render_outcome(console: Console, scenario: Scenario, outcome: dict[str, Any]) -> None:
    block = scenario.block
    name = block.name_of
    ranking = Table(title="Xếp hạng (điểm đã thông qua)", show_lines=False)
    ranking.add_column("Hạng", justify="right")
    ranking.add_column("Đơn vị")
    ranking.add_column("Tổng điểm", justify="right")
    ranking.add_column("Đủ điều kiện suy tôn", justify="center")
    for row in outcome["ranking"]:
        ranking.add_row(
            str(row["rank"] or "—"), name(row["unit"]), row["total"] or "—",
            "có" if row["eligible"] else "không",
        )
    excluded = Table(title="Đơn vị không đủ điều kiện suy tôn")
    excluded.add_column("Đơn vị")
    excluded.add_column("Lý do")
    for unit, reasons in outcome["excluded"].items():
        excluded.add_row(name(unit), "; ".join(REASONS.get(r, r) for r in reasons))
    noms = Table(title="Kết quả bình xét, suy tôn")
    noms.add_column("Vị trí", justify="right")
    noms.add_column("Đơn vị")
    noms.add_column("Danh hiệu đề nghị")
    noms.add_column("Tán thành", justify="right")
    noms.add_column("Hình thức")
    for n in outcome["nominations"]:
        tally = f"{n['approvals']}/{n['voters']} (vòng {n['round']})" if n["approvals"] is not None else "—"
        how = "bỏ phiếu" if n["decided_by"] == "vote" else "Khối trưởng và Khối phó quyết định"
        noms.add_row(str(n["place"]), name(n["unit"]), n["title"], tally, how)
    head, deputy = outcome.get("next_head"), outcome.get("next_deputy")
    leaders = (
        f"Khối trưởng năm {scenario.year + 1}: [bold]{name(head) if head else '—'}[/bold]\n"
        f"Khối phó năm {scenario.year + 1}: [bold]{name(deputy) if deputy else '—'}[/bold]"
    )
    status = STAGES.get(outcome["status"], outcome["status"])
    footer = (
        f"Trạng thái: {status} · {outcome['events']} sự kiện trong kho · "
        f"mã băm cuối: {(outcome.get('last_hash') or '')[:16]}…"
    )
    title = f"{block.name} — {block.province}, năm {scenario.year}"
    console.print(Panel(Group(ranking, excluded, noms, leaders, footer), title=title))
