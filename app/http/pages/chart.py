"""The result page's bar chart of totals: SVG made on the server (no script, printable)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from ...words import vn_number

__all__ = ["bar_chart"]


def bar_chart(rows: list[tuple[str, Any, bool]], *, title: str) -> Markup:
    """Horizontal bars, one per (unit name, total, eligible); the longest bar is the best."""
    scored = [(name, Decimal(str(t)), ok) for name, t, ok in rows if t is not None]
    if not scored:
        return Markup("")
    top = max(t for _, t, _ in scored) or Decimal(1)
    bar_h, gap, label_w, width = 26, 8, 0, 640
    height = len(scored) * (bar_h + gap) + gap
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (name, total, ok) in enumerate(scored):
        y = gap + i * (bar_h + gap)
        w = max(2, int((width - label_w - 90) * (total / top)))
        cls = "bar" if ok else "bar bar-out"
        parts.append(
            f'<g><rect class="{cls}" x="{label_w}" y="{y}" width="{w}" height="{bar_h}" rx="3"/>'
            f'<text x="{label_w + 6}" y="{y + bar_h * 0.68:.0f}" class="bar-label">'
            f"{escape(name)}</text>"
            f'<text x="{label_w + w + 6}" y="{y + bar_h * 0.68:.0f}" class="bar-value">'
            f"{escape(vn_number(total))}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
