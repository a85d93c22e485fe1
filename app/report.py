"""The outcome of a cycle as readable tables, in Vietnamese."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from domain.scenario import Scenario

from .words import STAGE, reason_words, vn_number

__all__ = ["render_outcome"]


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
            str(row["rank"] or "—"),
            name(row["unit"]),
            vn_number(row["total"]) or "—",
            "có" if row["eligible"] else "không",
        )
    excluded = Table(title="Đơn vị không đủ điều kiện suy tôn")
    excluded.add_column("Đơn vị")
    excluded.add_column("Lý do")
    for unit, reasons in outcome["excluded"].items():
        excluded.add_row(name(unit), reason_words(reasons))
    noms = Table(title="Kết quả bình xét, suy tôn")
    noms.add_column("Vị trí", justify="right")
    noms.add_column("Đơn vị")
    noms.add_column("Danh hiệu đề nghị")
    noms.add_column("Tán thành", justify="right")
    noms.add_column("Hình thức")
    for n in outcome["nominations"]:
        tally = (
            f"{n['approvals']}/{n['voters']} (vòng {n['round']})"
            if n["approvals"] is not None
            else "—"
        )
        how = "bỏ phiếu" if n["decided_by"] == "vote" else "Khối trưởng và Khối phó quyết định"
        noms.add_row(str(n["place"]), name(n["unit"]), n["title"], tally, how)
    head, deputy = outcome.get("next_head"), outcome.get("next_deputy")
    leaders = (
        f"Khối trưởng năm {scenario.year + 1}: [bold]{name(head) if head else '—'}[/bold]\n"
        f"Khối phó năm {scenario.year + 1}: [bold]{name(deputy) if deputy else '—'}[/bold]"
    )
    status = STAGE.get(outcome["status"], outcome["status"])
    footer = (
        f"Trạng thái: {status} · {outcome['events']} sự kiện trong kho · "
        f"mã băm cuối: {(outcome.get('last_hash') or '')[:16]}…"
    )
    title = f"{block.name} — {block.province}, năm {scenario.year}"
    console.print(Panel(Group(ranking, excluded, noms, leaders, footer), title=title))
