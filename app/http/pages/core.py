"""What every page shares: the Jinja2 environment (autoescape), rendering, the form's CSRF
check, and sending ONE command through the same cycle client as the JSON API."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import uuid
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import ValidationError
from starlette.background import BackgroundTask

from domain.commands import CommandAdapter
from domain.errors import DomainError
from domain.state import CycleState
from domain.values import Actor
from readmodels.blocks import unit_name as registered_unit_name
from readmodels.pending import inbox_count

from ... import words
from ...bootstrap import Services
from ...identity import IdentityError
from ...identity.sessions import COOKIE

__all__ = [
    "FLASH_COOKIE",
    "PAGE_CSRF_COOKIE",
    "FormError",
    "Refusal",
    "flash_of",
    "refuse",
    "render",
    "send_command",
]

HERE = Path(__file__).parent
PAGE_CSRF_COOKIE = "thidua_page_csrf"
"""The session's CSRF token, kept (httponly) for the pages to put into their forms; a form post
must send it back as `csrf_token`, and it is checked against the session's stored hash."""

env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["ngay"] = words.vn_date
env.filters["gio"] = words.vn_time
env.filters["so"] = words.vn_number
env.filters["kb"] = lambda n: f"{words.vn_number(max(1, round(n / 1024)))} KB"  # a file's size
env.filters["so_nhap"] = partial(words.vn_number, grouped=False)  # a form input's value
env.globals["BUTTON"] = words.BUTTON
env.globals["STAGE"] = words.STAGE
env.globals["EXCLUSION"] = words.EXCLUSION
env.globals["TASK"] = words.TASK
env.globals["RULE"] = words.RULE
env.globals["AGENDA"] = {
    "pledge": "Ký giao ước",
    "scoring": "Chấm điểm, thẩm định",
    "review": "Hội nghị: điểm danh, đủ số lượng, thông qua điểm",
    "discipline": "Xét điều kiện suy tôn",
    "vote": "Các vòng bình xét, suy tôn",
    "election": "Bầu Khối trưởng, Khối phó",
}
env.globals["days_left"] = words.days_left
env.globals["cycle_title"] = words.cycle_title
env.globals["RULE_SENTENCE"] = words.rule_sentence


class FormError(Exception):
    """A refused form: the rule code, the field it concerns, and the sentence to show."""

    def __init__(
        self, code: str, field: str | None = None, sentence: str | None = None, **values: Any
    ) -> None:
        super().__init__(code)
        self.code, self.field = code, field
        self.sentence = sentence or words.rule_sentence(code, **values)


class FormErrors(FormError):
    """Every refused field of one form at once (the first one is the FormError itself)."""

    def __init__(self, errors: list[FormError]) -> None:
        first = errors[0]
        super().__init__(first.code, first.field, first.sentence)
        self.errors = errors


FLASH_COOKIE = "thidua_flash"
FLASH_SECONDS = 600
FLASH_MAX = 3500
"""A refused form answers with a redirect (303) to its page, `?loi=<id>#form-errors`; what the
page shows then (the sentences, the form, what was typed) rides in this short-lived cookie of
the person's own browser, read only by the GET whose `loi` names it. Reloading that GET shows
the same refusal again and sends nothing."""


class Refusal:
    """What a page shows after its form was refused: the errors, the form (`failed`), what was
    typed and the status the page answers with (409, 422)."""

    def __init__(
        self, errors: list[FormError], failed: str, typed: dict[str, Any], status: int
    ) -> None:
        self.errors, self.failed, self.typed, self.status = errors, failed, typed, status

    @property
    def error(self) -> FormError:
        return self.errors[0]


def _short(typed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in typed.items() if len(json.dumps(v, ensure_ascii=False)) <= 300}


def refuse(
    url: str, errors: list[FormError], failed: str, typed: dict[str, Any], status: int = 409
) -> RedirectResponse:
    """Post/Redirect/Get for a refused form: nothing was written; the page shows why."""
    fid = secrets.token_urlsafe(8)
    path = url.split("?", 1)[0]
    data: dict[str, Any] = {
        "id": fid,
        "path": path,
        "status": status,
        "failed": failed,
        "errors": [[e.code, e.field, e.sentence] for e in errors],
        "typed": typed,
    }
    raw = ""
    while True:
        for shrink in (
            lambda d: d,
            lambda d: {**d, "typed": _short(d["typed"])},
            lambda d: {**d, "typed": {}},
        ):
            raw = (
                base64.urlsafe_b64encode(json.dumps(shrink(data), ensure_ascii=False).encode())
                .decode()
                .rstrip("=")
            )
            if len(raw) <= FLASH_MAX:
                break
        if len(raw) <= FLASH_MAX or len(data["errors"]) <= 1:
            break
        data["errors"] = data["errors"][: len(data["errors"]) // 2]  # the first ones
    response = RedirectResponse(f"{path}?loi={fid}#form-errors", status_code=303)
    response.set_cookie(
        FLASH_COOKIE, raw, max_age=FLASH_SECONDS, path=path, httponly=True, samesite="lax"
    )
    return response


def flash_of(request: Request) -> Refusal | None:
    """The refusal this GET was redirected to show (its `loi` names the cookie's), or None."""
    fid = request.query_params.get("loi")
    raw = request.cookies.get(FLASH_COOKIE)
    if not fid or not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
        if data["id"] != fid or data["path"] != request.url.path:
            return None
        errors = [
            FormError(str(code), field if isinstance(field, str) else None, str(text))
            for code, field, text in data["errors"]
        ]
        typed = data["typed"] if isinstance(data["typed"], dict) else {}
        status = int(data["status"]) if int(data["status"]) in (200, 409, 413, 422) else 409
        return Refusal(errors, str(data["failed"]), typed, status) if errors else None
    except (ValueError, KeyError, TypeError):
        return None


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def actor(request: Request) -> Actor:
    who = request.scope.get("state", {}).get("actor")
    assert isinstance(who, Actor)
    return who


def unit_name(state: CycleState | None, unit: str | None) -> str:
    if unit is None:
        return ""
    if state is not None and state.block is not None:
        for m in state.block.members:
            if m.id == unit:
                return m.name
    return unit


def inbox_key(who: Actor | None) -> str | None:
    """Whose tasks a person sees: the unit's, or the secretariat's (`admin`); auditors none."""
    if who is None:
        return None
    return who.unit if who.kind == "unit" else "admin" if who.kind == "admin" else None


async def inbox_of(request: Request) -> tuple[int, str] | None:
    """The person's task count and the list's stamp (one query on the `pending` read model)."""
    key = inbox_key(request.scope.get("state", {}).get("actor"))
    if key is None:
        return None
    svc = services(request)
    try:
        return await inbox_count(svc.pool, key, prefix=svc.cycles.prefix)
    except Exception:  # a store that is away: no count in the header; the page says why
        return None


async def own_unit_name(request: Request) -> str | None:
    """The full name of the person's unit (from the blocks' register, else the tasks)."""
    who = request.scope.get("state", {}).get("actor")
    if not isinstance(who, Actor) or who.kind != "unit" or not who.unit:
        return None
    try:
        return await registered_unit_name(services(request).pool, who.unit)
    except Exception:  # a store that is away: the page says so elsewhere
        return None


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    scope_state = request.scope.get("state", {})
    who = scope_state.get("actor")
    state = ctx.get("state")
    inbox = scope_state.get("inbox")
    own = scope_state.get("unit_name")

    def name_of(u: str | None) -> str:
        name = unit_name(state, u)
        if name == u and own and who is not None and u == who.unit:
            return str(own)
        return name

    html = env.get_template(template).render(
        request=request,
        who=who,
        csrf=request.cookies.get(PAGE_CSRF_COOKIE, ""),
        inbox=inbox,
        name_of=name_of,
        **ctx,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def forbidden(request: Request, reason: str = "not_authorized", **ctx: Any) -> HTMLResponse:
    return render(
        request,
        "forbidden.html",
        status=403,
        code=reason,
        sentence=words.rule_sentence(reason),
        **ctx,
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def check_csrf(request: Request, form: Any) -> None:
    """A form post carries the session's CSRF token (checked against its stored hash)."""
    token = form.get("csrf_token")
    await services(request).identity.sessions.check_csrf(
        request.cookies.get(COOKIE), token if isinstance(token, str) else None
    )


def parse_score(raw: str | None, field: str) -> Decimal:
    """`583,5` or `583.5` → Decimal; the rules judge the range and the places."""
    text = (raw or "").strip().replace(" ", "").replace(",", ".")
    if not text:
        raise FormError("missing_section", field)
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise FormError("not_a_number", field) from None
    if not value.is_finite():
        raise FormError("not_a_number", field)
    return value


def shape(body: dict[str, Any]) -> Any:
    """The command `body` asks for, its shape checked (FormError `invalid_request` naming the
    field); the rules are not judged here."""
    try:
        return CommandAdapter.validate_python(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err.get("loc", ()) if str(p) != body.get("do")]
        raise FormError("invalid_request", ".".join(loc) or None) from None


async def send_command(request: Request, block: str, year: int, body: dict[str, Any]) -> Any:
    """Validate the command's shape, send it as the person, and bring the read models up to
    date so the next page shows it (see redirect_after_command). A rejection raises FormError;
    nothing is written."""
    svc = services(request)
    command = shape(body)
    result: Any
    health = getattr(request.app.state, "health", None)
    if health is not None:  # PostgreSQL down or no worker: 503 with the code at once
        await health.gate("store", "worker")
    timeout = svc.settings.command_timeout
    try:
        async with asyncio.timeout(timeout) as limit:
            if command.do == "start_cycle":
                await svc.cycles.start(command, actor(request), request_id=str(uuid.uuid4()))
                result = await _started(svc, command.block.id, command.year)
            else:
                result = await svc.cycles.send(
                    block, year, command, actor(request), request_id=str(uuid.uuid4())
                )
    except IdentityError:
        raise
    except DomainError as exc:
        raise FormError(exc.code, exc.field, detail=exc.message) from None
    except TimeoutError:
        if not limit.expired():
            raise
        from ...health import Unavailable

        raise Unavailable(
            "command_timeout",
            f"the command was not answered in {timeout:g} s; "
            "it may still be applied: reload the page before sending it again",
        ) from None
    return result


async def catch_up_quietly(svc: Services) -> None:
    """Bring the read models up to date after a command (run after the answer is sent: the
    worker's runner would catch up within half a second anyway)."""
    with contextlib.suppress(Exception):
        await svc.readmodels.catch_up()


def redirect_after_command(request: Request, url: str) -> RedirectResponse:
    """Post/Redirect/Get; the read models catch up once the answer is on its way."""
    return RedirectResponse(
        url, status_code=303, background=BackgroundTask(catch_up_quietly, services(request))
    )


async def _started(svc: Services, block: str, year: int) -> CycleState | None:
    """Wait (briefly) until the new cycle's start is recorded, so the next page shows it."""
    for _ in range(100):
        with contextlib.suppress(Exception):
            state = await svc.cycles.state(block, year)
            if state.version >= 1:
                return state
        await asyncio.sleep(0.05)
    return None


def markup(text: str) -> Markup:
    return Markup(text)
