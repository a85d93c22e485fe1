"""The API's documentation in a real browser that can reach nothing but the service: every
request to another host is aborted (and recorded), yet /docs shows Swagger UI with the API's
title and its operations, with no Content-Security-Policy message."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from .conftest import Stack, is_csp_message

pytestmark = [pytest.mark.browser, pytest.mark.temporal]

CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"


class Offline:
    def __init__(self, ctx: BrowserContext) -> None:
        self.ctx, self.outside, self.csp = ctx, list[str](), list[str]()
        ctx.route("**/*", self._route)
        ctx.on("console", lambda m: self.csp.append(m.text) if is_csp_message(m.text) else None)

    def _route(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def page(self) -> Page:
        return self.ctx.new_page()


@pytest.fixture
def offline(stack: Stack, chromium: Browser) -> Iterator[Offline]:
    """A fresh context with no session (the docs are public) and no way out of 127.0.0.1."""
    assert urlsplit(stack.url).hostname == "127.0.0.1"
    ctx = chromium.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    offline = Offline(ctx)
    # the block works: the CDN the docs used to load from is out of reach
    probe = offline.page()
    with pytest.raises(PlaywrightError):
        probe.goto(CDN)
    assert offline.outside == [CDN]
    probe.close()
    offline.outside.clear()
    yield offline
    ctx.close()


def test_swagger_ui_renders_the_api_with_nothing_from_outside(offline: Offline) -> None:
    page = offline.page()
    response = page.goto("/docs")
    assert response is not None and response.status == 200
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("thidua")
    operations = page.locator(".opblock .opblock-summary-path")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 1
    expect(page.locator(".opblock-summary-path", has_text="/cycles").first).to_be_visible()
    # an operation opens (Swagger UI's own script at work, not just its first paint)
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert offline.outside == [], offline.outside
    assert offline.csp == [], offline.csp
