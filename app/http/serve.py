"""`thidua api`: the HTTP app on the found stack, served by uvicorn."""

from __future__ import annotations

import uvicorn

from ..bootstrap import bootstrap
from ..settings import Settings

__all__ = ["serve"]


async def serve(settings: Settings, *, host: str, port: int) -> None:
    from ..tracing import setup_tracing
    from . import create_app

    setup_tracing(settings.otel_exporter_otlp_endpoint, "thidua-api")
    async with bootstrap(settings, temporal="find") as services:
        config = uvicorn.Config(
            create_app(services),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            limit_concurrency=1000,
            timeout_keep_alive=30,
            proxy_headers=False,  # create_app believes THIDUA_TRUSTED_PROXIES only
        )
        await uvicorn.Server(config).serve()
