"""Every scenario of tests/workflows/scenarios driven through the pages only: each step a form
post of its unit's person (or the secretariat's) on the page that carries it; a step that
means to break a rule gets that rule's sentence (`data-code`) and writes nothing; the outcome
matches the file's `expect`, event count included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.bootstrap import Services
from domain.outcome import compare_outcome, outcome_json
from domain.values import Actor
from workflows.messages import cycle_key

from .conftest import PASSWORD, Browser, csrf_of

pytestmark = pytest.mark.temporal

FILES = sorted((Path(__file__).parents[1] / "workflows" / "scenarios").glob("*.json"))
PAGE = {
    "sign_pledge": "giao-uoc",
    "submit_self_score": "tu-cham-diem",
    "cast_ballot": "phieu-binh-xet",
    "cast_election_ballot": "phieu-bau",
    "record_finding": "quan-ly",
    "withdraw_finding": "quan-ly",
    "cancel_cycle": "quan-ly",
    "appoint_leaders": "quan-ly",
    "extend_deadline": "quan-ly",
}
UNIT_FORMS = ("sign_pledge", "submit_self_score")
NOTED = ("close_pledge", "close_scoring", "close_vote_round", "withdraw_finding", "extend_deadline")


def form_of(step: dict[str, Any]) -> dict[str, Any]:
    do = step["do"]
    data: dict[str, Any] = {"do": do}
    for sid, value in step.get("sections", {}).items():
        data[f"sections.{sid}"] = str(value).replace(".", ",")
    data["confirm"] = "1"  # the page's confirm step of an act that cannot be undone
    if do in NOTED and "note" not in step:
        data["note"] = "Theo kịch bản"  # the reason the page requires
    if do in UNIT_FORMS and step.get("unit") != step["as"]:
        data["unit"] = step["unit"]  # a unit's person acting for another unit
    if do == "hold_review":
        data["held_on"] = step["held_on"]
        for u in step["present"]:
            data[f"attendance.{u}"] = "present"
        for a in step.get("absent", ()):
            data[f"attendance.{a['unit']}"] = (
                "written"
                if a.get("written_opinion")
                else "notice"
                if a.get("with_notice", True)
                else "no_notice"
            )
    for key in ("note", "kind", "reference", "deputy", "head", "reason", "stage", "until"):
        if key in step:
            data[key] = step[key]
    if "unit" in step and do not in UNIT_FORMS:
        data["unit"] = step["unit"]
    if "approve" in step:
        data["approve"] = list(step["approve"])
    if "order" in step:
        data["order"] = list(step["order"])
    if do == "leaders_decide":
        for p in step["places"]:
            data[f"place.{p['place']}"] = p["unit"]
    return data


async def person(site: Services, browser: Browser, who: str) -> httpx.AsyncClient:
    login = "qt-admin" if who == "admin" else f"nv-{who}"
    if who != "admin" and await site.identity.people.get(login) is None:
        await site.identity.add_person(
            login,
            name=f"Cán bộ {who}",
            role="unit",
            unit=who,
            password=PASSWORD,
            by=Actor.admin(name="test"),
        )
    return await browser(login)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
async def test_scenario_through_the_pages(path: Path, browser: Browser, site: Services) -> None:
    sc = json.loads(path.read_text("utf-8"))
    block, year = sc["block"]["id"], sc["year"]
    base = f"/ky/{block}/{year}"
    stream = cycle_key(block, year, site.cycles.prefix)[1]
    people: dict[str, httpx.AsyncClient] = {"admin": await person(site, browser, "admin")}
    page = await people["admin"].get("/quan-ly")
    r = await people["admin"].post(
        "/quan-ly",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": (path.name, path.read_bytes())},
    )
    assert r.status_code == 303, r.text[-2000:]
    for i, step in enumerate(sc["steps"]):
        who = step["as"]
        if who not in people:
            people[who] = await person(site, browser, who)
        c = people[who]
        url = f"{base}/{PAGE.get(step['do'], 'dieu-hanh')}"
        got = await c.get(url)
        assert got.status_code in (200, 403), (i, step, got.text[-1500:])
        csrf = csrf_of(got.text)
        before = await site.store.head(stream)
        r = await c.post(url, data={"csrf_token": csrf, **form_of(step)})
        if step.get("expect_error"):
            assert r.status_code in (403, 409), (i, step, r.status_code)
            assert f'data-code="{step["expect_error"]}"' in r.text, (i, step, r.text[-3000:])
            assert await site.store.head(stream) == before
        else:
            assert r.status_code == 303, (i, step, r.text[-3000:])
    state = await site.cycles.state(block, year)
    events = await site.store.head(stream)
    outcome = outcome_json(state, [], events=events, last_hash=None)
    assert compare_outcome(outcome, sc["expect"]) == []
    result = await people["admin"].get(f"{base}/ket-qua")
    assert result.status_code == 200
