"""The result page's bar chart of totals: SVG made on the server (no script, printable).

Readable: each unit's name stands above its bar and the total after it, in dark text on the
page's white (no text on a bar's colour); a unit left out says so in words, not by colour only.
Below 40rem (a phone) the chart is hidden and the ranking table beside it carries the same
figures (app.css): a 640-unit-wide drawing shrunk to 360 px would print its words at 7 px."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from ...words import vn_number

__all__ = ["CHART_COLOURS", "bar_chart"]

CHART_COLOURS = {"text": "#1b1b1b", "bar": "#0b4f8a", "bar-out": "#5f6670", "page": "#ffffff"}
"""The colours app.css gives the chart (tests check their contrast: text ≥ 4.5:1, bars ≥ 3:1)."""


def bar_chart(rows: list[tuple[str, Any, bool]], *, title: str) -> Markup:
    """Horizontal bars, one per (unit name, total, eligible); the longest bar is the best."""
    scored = [(name, Decimal(str(t)), ok) for name, t, ok in rows if t is not None]
    if not scored:
        return Markup("")
    top = max(t for _, t, _ in scored) or Decimal(1)
    label_h, bar_h, gap, width = 18, 16, 10, 640
    row_h = label_h + bar_h + gap
    height = len(scored) * row_h + gap
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (name, total, ok) in enumerate(scored):
        y = gap + i * row_h
        w = max(2, int((width - 90) * (total / top)))
        cls = "bar" if ok else "bar bar-out"
        label = name if ok else f"{name} (không đủ điều kiện suy tôn)"
        parts.append(
            f'<g><text x="0" y="{y + label_h - 5}" class="bar-label">{escape(label)}</text>'
            f'<rect class="{cls}" x="0" y="{y + label_h}" width="{w}" height="{bar_h}" rx="2"/>'
            f'<text x="{w + 6}" y="{y + label_h + bar_h - 3}" class="bar-value">'
            f"{escape(vn_number(total))}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
