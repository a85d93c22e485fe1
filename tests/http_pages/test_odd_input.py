"""Issue 16: odd path and query values, forms and uploads answer 4xx (never 500), write
nothing, and the answer does not echo what was sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.bootstrap import Services

from .conftest import Browser, csrf_of
from .test_pages import BASE, start_reference

pytestmark = pytest.mark.temporal

BIG = "99999999999999999999999"


@dataclass(frozen=True)
class Odd:
    who: str
    method: str  # GET, JSON/RAW (an API post), FORM/BLOCK (a page's form), FILE (the upload)
    path: str
    status: int
    body: Any = None
    field: str | None = None  # the field the JSON answer names
    says: str | None = None  # what the answer must say
    secret: str | None = None  # what the answer must not repeat (a form keeps what was typed
    # in its field, as every refused form does; its sentence never repeats it)


ODD = [
    Odd("qt-admin", "GET", "/blocks/%00", 422, field="block"),
    Odd("qt-admin", "JSON", "/blocks/%00/name", 422, {"name": "Khối mới"}, field="block"),
    Odd(
        "qt-admin",
        "JSON",
        "/blocks/%00/members",
        422,
        {"unit": "so-moi", "name": "Sở mới", "from_year": 2019},
        field="block",
    ),
    Odd(
        "qt-admin",
        "JSON",
        "/blocks/kg-khoi-2/members",
        422,
        {"unit": "<b>x</b>", "name": "Sở mới", "from_year": 2019},
        field="unit",
        secret="<b>x</b>",
    ),
    Odd("qt-admin", "JSON", "/blocks/kg-khoi-2/name", 422, {"name": "a\x00b"}, field="name"),
    Odd("qt-admin", "GET", "/provinces/a%00b/blocks", 422, field="province"),
    Odd(
        "kiem-toan",
        "GET",
        f"{BASE}/nhat-ky?phien-ban={BIG}",
        422,
        secret=BIG,
        says='data-code="invalid_version"',
    ),
    Odd("kiem-toan", "GET", f"{BASE}/nhat-ky/{BIG}.json", 404, secret=BIG),
    Odd("kiem-toan", "GET", "/ky/%00/2018/doi-chieu", 404),
    Odd("kiem-toan", "GET", f"/ky/kg-khoi-2/{BIG}/nhat-ky", 404, secret=BIG),
    Odd(
        "kiem-toan",
        "GET",
        f"{BASE}/nhat-ky?thoi-diem=0001-01-01T00:00",
        422,
        says='data-code="invalid_moment"',
    ),
    Odd("kiem-toan", "GET", f"{BASE}/nhat-ky?thoi-diem=9999-12-31T23:59:59-23:59", 422),
    Odd(
        "kiem-toan",
        "GET",
        "/cycles/kg-khoi-2/2018/audit?as_of=0001-01-01T00:00:00%2B14:00",
        422,
        field="as_of",
    ),
    Odd("kiem-toan", "GET", f"/cycles/kg-khoi-2/{BIG}/state", 404, secret=BIG),
    Odd(
        "nv-so-ngoai-vu",
        "FORM",
        f"{BASE}/dieu-hanh",
        409,
        {"do": "leaders_decide", "place.abc": "so-khdt"},
        says='data-code="invalid_request"',
    ),
    Odd(
        "nv-so-ngoai-vu",
        "FORM",
        f"{BASE}/dieu-hanh",
        409,
        {"do": "leaders_decide", f"place.{BIG}": "so-khdt"},
        secret=BIG,
    ),
    Odd(
        "qt-admin",
        "FORM",
        f"{BASE}/quan-ly",
        409,
        {"do": "extend_deadline", "stage": "pledge", "until": f"1/1/{BIG}"},
        says='data-code="invalid_date"',
    ),
    Odd(
        "qt-admin",
        "FORM",
        f"{BASE}/quan-ly",
        409,
        {"do": "cancel_cycle", "reason": "a\x00b"},
        says='data-code="invalid_request"',
    ),
    Odd("qt-admin", "RAW", "/cycles/kg-khoi-2/2018/commands", 400, b"[" * 100_000),
    Odd("qt-admin", "RAW", "/blocks", 400, b'{"block": ' + b"[" * 100_000),
    Odd("qt-admin", "GET", "/quan-ly?nam=²⁰¹⁸", 200),  # not a year: every year is listed
    Odd(
        "qt-admin",
        "BLOCK",
        "/quan-ly/khoi",
        422,
        {"block": "kg-khoi-2", "year": "²⁰¹⁹"},
        says='data-code="invalid_year"',
    ),
    Odd(
        "qt-admin",
        "BLOCK",
        "/quan-ly/khoi",
        422,
        {"block": "kg-khoi-2", "year": "2019", "pledge": "1/1/0"},
        says='data-code="invalid_date"',
    ),
    Odd(
        "qt-admin",
        "FILE",
        "/quan-ly",
        422,
        b"[" * 100_000,
        says='data-code="too_deep">Tệp lồng quá nhiều cấp',
    ),
    Odd(
        "qt-admin",
        "FILE",
        "/quan-ly",
        422,
        b'{"year": ' + b"9" * 5000 + b"}",
        secret="set_int_max_str_digits",
        says='data-code="number_too_long">Tệp có một số',
    ),
    Odd(
        "qt-admin",
        "FILE",
        "/quan-ly",
        422,
        b'{"format": "zzqq-sent"}',
        secret="zzqq-sent",
        says='data-field="format" data-code="unsupported_format"><code>format</code>: Định dạng',
    ),
]


async def _send(c: httpx.AsyncClient, odd: Odd, csrf: str) -> httpx.Response:
    if odd.method == "GET":
        return await c.get(odd.path)
    if odd.method == "JSON":
        return await c.post(odd.path, json=odd.body, headers={"X-CSRF-Token": csrf})
    if odd.method == "RAW":
        return await c.post(
            odd.path,
            content=odd.body,
            headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
        )
    if odd.method in ("FORM", "BLOCK"):
        return await c.post(odd.path, data={"csrf_token": csrf, **odd.body})
    return await c.post(
        odd.path,
        data={"csrf_token": csrf},
        files={"file": ("odd.json", odd.body, "application/json")},
    )


async def _count(site: Services) -> int:
    return int(await site.pool.fetchval("SELECT count(*) FROM events"))


async def test_odd_input_answers_4xx_and_writes_nothing(browser: Browser, site: Services) -> None:
    admin = await browser("qt-admin")
    await start_reference(admin)
    await site.readmodels.catch_up()
    people: dict[str, tuple[httpx.AsyncClient, str]] = {}
    for login in {o.who for o in ODD}:
        c = admin if login == "qt-admin" else await browser(login)
        page = "/viec-can-lam" if login.startswith("nv-") else "/quan-ly"
        people[login] = (c, csrf_of((await c.get(page)).text))
    failures = []
    for odd in ODD:
        before = await _count(site)
        c, csrf = people[odd.who]
        try:
            r = await _send(c, odd, csrf)
        except Exception as exc:  # the app's own exception: a 500
            failures.append((odd.method, odd.path[:60], type(exc).__name__, str(exc)[:200]))
            continue
        after = await _count(site)
        problem = []
        if r.status_code != odd.status:
            problem.append(f"status {r.status_code}")
        if after != before:
            problem.append(f"{after - before} events written")
        if odd.field and r.json().get("field") != odd.field:
            problem.append(f"field {r.json().get('field')!r}")
        if odd.says and odd.says not in r.text:
            problem.append(f"does not say {odd.says}")
        if odd.secret and odd.secret in r.text:
            problem.append("the input is echoed")
        if "\x00" in r.text or "Traceback" in r.text:
            problem.append("odd characters or internals in the answer")
        if problem:
            failures.append((odd.method, odd.path[:60], problem, r.text[:300]))
    assert not failures, "\n".join(map(str, failures))


@pytest.mark.parametrize(
    "tiep",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/\x00x",
        "/" + "a" * 2001,
        "/ky/ă",
    ],
)
def test_after_login_only_a_local_path(tiep: str) -> None:
    from app.http.pages.auth import _next

    assert _next(tiep) == "/"
    assert _next("/ky/kg-khoi-2/2018?x=1") == "/ky/kg-khoi-2/2018?x=1"
