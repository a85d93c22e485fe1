"""One cycle, one voice: the pages, the minutes and the council's document print the same date
and the same number for the same fact (app/words.py). The review is held on 5 January, so the
date shows the month's leading zero; the sheet's maximum shows the thousands' dot."""

from __future__ import annotations

import json
import re

import pytest

from app.bootstrap import Services
from app.documents import minutes_html
from app.documents.proposals import render_document
from domain.province import compile_proposals
from domain.scenario import load_scenario
from tests.workflows.helpers import send_steps
from workflows.messages import cycle_key

from .conftest import REFERENCE, Browser
from .test_pages import BASE

pytestmark = pytest.mark.temporal

HELD_ON = "05/01/2019"
TOTAL = "983,5"  # the first place's adopted total
MAX_TOTAL = "1.000"


def text_of(html: str) -> str:
    """What a reader sees: the tags gone, the spaces folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_the_pages_the_minutes_and_the_councils_document_say_the_same(
    browser: Browser,
    site: Services,
) -> None:
    raw = json.loads(REFERENCE.read_text("utf-8"))
    for step in raw["steps"]:
        if step["do"] == "hold_review":
            step["held_on"] = "2019-01-05"
    sc = load_scenario(json.dumps(raw))
    cycles = site.cycles
    await cycles.start(sc.start_command(), request_id="start")
    scoring = next(i for i, s in enumerate(sc.steps) if s.command.do == "submit_self_score")
    await send_steps(cycles, sc, sc.steps[:scoring])

    # the pages: the sheet's maximum on the self-score form, in the scoring stage
    khdt = await browser("nv-so-khdt")
    form = text_of((await khdt.get(f"{BASE}/tu-cham-diem")).text)
    assert f"/ {MAX_TOTAL}" in form, form[-1500:]

    await send_steps(cycles, sc, sc.steps[scoring:])
    state = await cycles.state(sc.block.id, sc.year)
    assert state.stage == "completed" and state.outcome is not None
    first = next(n for n in state.outcome.nominations if n.place == 1)
    assert str(next(r.total for r in state.outcome.ranking if r.unit == first.unit)) == "983.5"

    auditor = await browser("kiem-toan")
    timeline = text_of((await auditor.get(f"{BASE}/nhat-ky")).text)
    result = text_of((await khdt.get(f"{BASE}/ket-qua")).text)

    # the minutes, from the stream's events
    stream = cycle_key(sc.block.id, sc.year, cycles.prefix)[1]
    replay = await site.store.replay(stream)
    minutes = text_of(
        minutes_html(
            replay.events,
            stream=stream,
            head_version=replay.report.head_version,
            head_hash=replay.report.head_hash,
        )
    )

    # the council's document, from the compiled list of the province's year
    document = render_document(compile_proposals(sc.block.province, sc.year, [state]))

    facts = {
        "the review's day": (
            HELD_ON,
            {"timeline": timeline, "minutes": minutes, "council": document},
        ),
        "the first place's total": (
            TOTAL,
            {"result": result, "minutes": minutes, "council": document},
        ),
        "the sheet's maximum": (MAX_TOTAL, {"form": form, "minutes": minutes}),
    }
    for fact, (said, where) in facts.items():
        missing = [name for name, text in where.items() if said not in text]
        assert missing == [], f"{fact} is not {said!r} in {missing}"
    # and no other way of saying them anywhere
    for name, text in {
        "timeline": timeline,
        "result": result,
        "form": form,
        "minutes": minutes,
        "council": document,
    }.items():
        assert "05/1/2019" not in text and "983.5" not in text, name
        assert not re.search(r"/ 1000\b|\b1000 điểm", text), name
