"""The API's documentation pages, served with no script, style or image from another origin:
`/docs` (Swagger UI) and `/docs/oauth2-redirect`, rendered by FastAPI's own `get_swagger_ui_html`,
Swagger UI's JavaScript, CSS and favicon served from the `fastapi-offline` package's static files
under `/docs/assets/` (a dependency of the project, so they come with the install and need no
CDN). They are public, as the OpenAPI document is. There is no `/redoc`: ReDoc's bundle always
shows its vendor's logo from cdn.redoc.ly, which no policy here allows.

The pages' Content-Security-Policy (app/http/headers.py) allows scripts and styles from 'self'
only, plus the hash of Swagger UI's one inline script: `docs_script_hashes` renders the page
the way the route does and hashes that script."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from .headers import DOCS_ASSETS_PREFIX as ASSETS_PREFIX
from .headers import DOCS_PATHS, inline_script_hashes

__all__ = ["docs_script_hashes", "install_docs"]

SWAGGER, OAUTH2_REDIRECT = DOCS_PATHS
# Swagger UI's validator badge would load an image from validator.swagger.io: off
_SWAGGER_PARAMETERS = {"validatorUrl": None}


def _assets() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def _swagger(app: FastAPI, root: str) -> HTMLResponse:
    assets = f"{root}{ASSETS_PREFIX}"
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
        swagger_js_url=f"{assets}swagger-ui-bundle.js",
        swagger_css_url=f"{assets}swagger-ui.css",
        swagger_favicon_url=f"{assets}favicon.png",
        swagger_ui_parameters={**_SWAGGER_PARAMETERS, **(app.swagger_ui_parameters or {})},
    )


def docs_script_hashes(app: FastAPI) -> list[str]:
    """The inline scripts of the documentation pages, as the routes render them (no root
    path): Swagger UI's initialisation and the OAuth2 redirect page's script."""
    if not app.openapi_url:
        return []
    return [
        *inline_script_hashes(bytes(_swagger(app, "").body).decode()),
        *inline_script_hashes(bytes(get_swagger_ui_oauth2_redirect_html().body).decode()),
    ]


def install_docs(app: FastAPI) -> None:
    """The documentation routes and their assets on `app` (created with docs_url=None and
    redoc_url=None, so that FastAPI's CDN-loading pages are not there)."""
    app.mount(ASSETS_PREFIX.rstrip("/"), StaticFiles(directory=_assets()), name="docs-assets")

    @app.get(SWAGGER, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return _swagger(app, request.scope.get("root_path", ""))

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
