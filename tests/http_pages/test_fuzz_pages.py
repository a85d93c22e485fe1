"""The pages fuzzed (issue 16): hypothesis makes path values, query strings, forms and uploads
for every page route, sent by logged-in people of each role through the real app over a real
PostgreSQL, Temporal and worker. No request gets a 5xx; a GET writes no event, and neither
does a refused (4xx) post. THIDUA_PAGE_FUZZ_EXAMPLES sets the number of requests (default
600: well under a minute on a quiet machine)."""

from __future__ import annotations

import asyncio
import os
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.bootstrap import Services
from app.http.pages.cycle import PAGES
from domain.commands import COMMAND_NAMES

from .conftest import Browser, csrf_of
from .test_pages import start_reference

pytestmark = [pytest.mark.slow, pytest.mark.temporal]

EXAMPLES = int(os.environ.get("THIDUA_PAGE_FUZZ_EXAMPLES", "600"))
PEOPLE = ("qt-admin", "kiem-toan", "nv-so-ngoai-vu", "nv-so-khdt")

ODD = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "%00",
        "<b>x</b>",
        "99999999999999999999999",
        "-1",
        "0",
        "1e400",
        "NaN",
        "0001-01-01T00:00",
        "9999-12-31T23:59:59-23:59",
        "31/13/2019",
        "1/1/99999999999",
        "2019-03-08",
        "08/3/2019",
        "583,5",
        "9" * 5000,
        "ٶ",
        "../",
        "\ud7ff",
        "a" * 3000,
        "²⁰¹⁸",
    ]
)
TEXT = st.one_of(ODD, st.text(max_size=40))
BLOCK = st.one_of(st.just("kg-khoi-2"), st.just("khong-co"), TEXT)
YEAR = st.one_of(st.just("2018"), st.just("2019"), st.integers().map(str), TEXT)
UNITS = st.sampled_from(["so-ngoai-vu", "so-khdt", "so-noi-vu", "vp-ubnd", "zz"])
FIELDS = st.sampled_from(
    [
        "unit",
        "sections.c1",
        "sections.c2",
        "sections.c3",
        "note",
        "held_on",
        "attendance.so-khdt",
        "attendance.so-ngoai-vu",
        "order",
        "approve",
        "place.1",
        "place.2",
        "place.x",
        "head",
        "deputy",
        "stage",
        "until",
        "reason",
        "kind",
        "reference",
        "confirm",
        "block",
        "year",
        "pledge",
        "scoring",
        "nam",
    ]
)
QUERY = st.dictionaries(
    st.one_of(st.sampled_from(["phien-ban", "thoi-diem", "nam", "da-gui"]), st.text(max_size=10)),
    TEXT,
    max_size=3,
)
FORM = st.dictionaries(
    st.one_of(FIELDS, st.text(max_size=10)),
    st.one_of(UNITS, TEXT, st.lists(UNITS, max_size=3)),
    max_size=6,
)
UPLOAD = st.one_of(
    st.binary(max_size=300),
    st.integers(1, 100_000).map(lambda n: b"[" * n),
    st.dictionaries(st.text(max_size=8), st.one_of(TEXT, st.integers()), max_size=4).map(
        lambda d: repr(d).replace("'", '"').encode("utf-8", "surrogatepass")
    ),
)


def _seg(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _mostly(draw: st.DrawFn, usual: str, odd: st.SearchStrategy[str]) -> str:
    # mostly the real cycle (so the forms reach their handlers), else an odd value
    return usual if draw(st.integers(0, 9)) < 7 else draw(odd)


ROLE_PAGES = {
    "nv-so-khdt": ("giao-uoc", "tu-cham-diem", "phieu-binh-xet", "phieu-bau"),
    "nv-so-ngoai-vu": ("dieu-hanh", "giao-uoc", "tu-cham-diem"),
    "qt-admin": ("quan-ly",),
    "kiem-toan": ("nhat-ky",),
}


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """One request: who sends it, and what (mostly what their role's pages send)."""
    who = draw(st.sampled_from(PEOPLE))
    b, y = _seg(_mostly(draw, "kg-khoi-2", BLOCK)), _seg(_mostly(draw, "2018", YEAR))
    base = f"/ky/{b}/{y}"
    page = _mostly(
        draw,
        draw(st.sampled_from(ROLE_PAGES[who])),
        st.one_of(st.sampled_from(sorted(PAGES)), TEXT.map(_seg)),
    )
    kind = draw(
        st.sampled_from(
            ["get", "form", "form"] + (["upload", "block_form"] if who == "qt-admin" else [])
        )
    )
    out: dict[str, Any] = {"who": who, "csrf": draw(st.integers(0, 9)) > 0}
    if kind == "get":
        path = draw(
            st.sampled_from(
                [
                    "/",
                    "/viec-can-lam",
                    "/quan-ly",
                    "/kiem-tra",
                    base,
                    f"{base}/ket-qua",
                    f"{base}/phien-ban",
                    f"{base}/{page}",
                    f"{base}/nhat-ky",
                    f"{base}/doi-chieu",
                    f"{base}/nhat-ky/{_seg(_mostly(draw, '3', YEAR))}.json",
                ]
            )
        )
        return out | {"method": "GET", "path": path, "params": draw(QUERY)}
    if kind == "form":
        form = draw(FORM)
        actions = PAGES[page][1] if page in PAGES else COMMAND_NAMES
        form["do"] = _mostly(
            draw, draw(st.sampled_from(actions)), st.one_of(st.sampled_from(COMMAND_NAMES), TEXT)
        )
        return out | {"method": "POST", "path": f"{base}/{page}", "data": form}
    if kind == "block_form":
        return out | {"method": "POST", "path": "/quan-ly/khoi", "data": draw(FORM)}
    return out | {
        "method": "POST",
        "path": "/quan-ly",
        "data": {},
        "files": {"file": ("x.json", draw(UPLOAD), "application/json")},
    }


def _form(data: dict[str, Any]) -> dict[str, Any]:
    # a form's values as a browser sends them (text; surrogates cannot be encoded)
    def clean(v: Any) -> Any:
        if isinstance(v, list):
            return [clean(x) for x in v]
        return str(v).encode("utf-8", "replace").decode("utf-8")

    return {clean(k): clean(v) for k, v in data.items()}


async def test_fuzzed_pages_get_no_5xx_and_refused_requests_write_nothing(
    browser: Browser, site: Services
) -> None:
    admin = await browser("qt-admin")
    await start_reference(admin)
    await site.readmodels.catch_up()
    people: dict[str, tuple[httpx.AsyncClient, str]] = {}
    for login in PEOPLE:
        c = admin if login == "qt-admin" else await browser(login)
        page = "/viec-can-lam" if login.startswith("nv-") else "/quan-ly"
        people[login] = (c, csrf_of((await c.get(page)).text))
    loop = asyncio.get_running_loop()
    seen: dict[int, int] = {}

    async def one(req: dict[str, Any]) -> tuple[int, int, int, str]:
        c, csrf = people[req["who"]]
        before = int(await site.pool.fetchval("SELECT count(*) FROM events"))
        if req["method"] == "GET":
            r = await c.get(req["path"], params=_form(req["params"]))
        else:
            data = _form(req["data"]) | ({"csrf_token": csrf} if req["csrf"] else {})
            r = await c.post(req["path"], data=data, files=req.get("files"))
        after = int(await site.pool.fetchval("SELECT count(*) FROM events"))
        return r.status_code, before, after, r.text[:300]

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(req=requests())
    def fuzz(req: dict[str, Any]) -> None:
        status, before, after, text = asyncio.run_coroutine_threadsafe(one(req), loop).result(120)
        seen[status] = seen.get(status, 0) + 1
        assert status < 500, (req, text)
        if req["method"] == "GET" or status >= 400:
            assert after == before, ("a refused request wrote", req, status)

    await asyncio.to_thread(fuzz)
    print("statuses", sorted(seen.items()))
    assert sum(seen.values()) >= EXAMPLES
    assert any(400 <= s < 500 for s in seen), seen  # the fuzz reached refusals
