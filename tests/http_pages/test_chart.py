"""The result page's chart (app/http/pages/chart.py, app.css): its words in dark text on the
page's white, never on a bar, at ≥ 4.5:1; bars ≥ 3:1; a left-out unit said in words; on a
phone (below 40rem) the chart gives way to the ranking table."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from app.http.pages.chart import CHART_COLOURS, bar_chart

CSS = (Path(__file__).parents[2] / "app/http/pages/static/app.css").read_text("utf-8")
SVG = "{http://www.w3.org/2000/svg}"


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def fill_of(selector: str) -> str:
    m = re.search(re.escape(selector) + r"[^{]*\{[^}]*fill:(#[0-9a-fA-F]{6})", CSS)
    assert m, selector
    return m.group(1).lower()


def test_the_charts_words_stand_on_white_in_dark_text() -> None:
    chart = bar_chart(
        [
            ("Sở Ngoại vụ", "983.5", True),
            ("Sở Tư pháp", "12", False),
            ("Văn phòng UBND tỉnh", "950", True),
        ],
        title="Tổng điểm",
    )
    root = ET.fromstring(str(chart))
    rects = [(float(r.get("y", 0)), float(r.get("height", 0))) for r in root.iter(f"{SVG}rect")]
    texts = list(root.iter(f"{SVG}text"))
    assert len(texts) == 6 and len(rects) == 3
    for t in texts:  # no word on a bar's colour: each label's baseline sits above its bar
        if t.get("class") == "bar-label":
            y = float(t.get("y", 0))
            assert not any(top <= y - 4 <= top + h for top, h in rects), t.text
    assert "Sở Tư pháp (không đủ điều kiện suy tôn)" in [t.text for t in texts]
    # the colours app.css gives them, and their contrast on the page's white
    assert fill_of(".chart .bar-label") == CHART_COLOURS["text"]
    assert re.search(r"\.chart \.bar\{fill:(#[0-9a-f]{6})", CSS).group(1) == CHART_COLOURS["bar"]  # type: ignore[union-attr]
    assert fill_of(".chart .bar-out") == CHART_COLOURS["bar-out"]
    assert contrast(CHART_COLOURS["text"], CHART_COLOURS["page"]) >= 4.5
    assert contrast(CHART_COLOURS["bar"], CHART_COLOURS["page"]) >= 3
    assert contrast(CHART_COLOURS["bar-out"], CHART_COLOURS["page"]) >= 3
    size = re.search(r"\.chart \.bar-label[^{]*\{[^}]*font-size:(\d+)px", CSS)
    assert size and int(size.group(1)) >= 14  # drawn 640 wide: ≥ 14 px from 640 px up


def test_on_a_phone_the_table_carries_the_figures() -> None:
    narrow = re.search(r"@media \(max-width:40rem\)\{([^@]*)\}", CSS)
    assert narrow and ".chart{display:none}" in narrow.group(1)
    assert ".chart-narrow{display:block}" in narrow.group(1)
