"""Notifications: the outbox delivered by e-mail (see deliver.py for the guarantee)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg

from ..settings import Settings
from .compose import compose, message_id
from .deliver import Deliverer, backoff, follow_outbox
from .sender import Message, PermanentFailure, Sender, SmtpSender, TemporaryFailure

__all__ = [
    "Deliverer",
    "Message",
    "PermanentFailure",
    "Sender",
    "SmtpSender",
    "TemporaryFailure",
    "backoff",
    "compose",
    "deliverer_of",
    "follow_outbox",
    "message_id",
    "smtp_sender",
]


def smtp_sender(settings: Settings) -> SmtpSender | None:
    """The SMTP sender of the settings; None (notifications off) without SMTP_HOST."""
    if not settings.smtp_host:
        return None
    return SmtpSender(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
    )


def deliverer_of(settings: Settings, pool: asyncpg.Pool) -> Deliverer | None:
    sender = smtp_sender(settings)
    if sender is None:
        return None
    return Deliverer(
        pool, sender, settings.smtp_from, lease=timedelta(seconds=settings.notify_lease_seconds)
    )


async def _main() -> int:
    """`python -m app.notify`: only the delivery loop (DATABASE_URL and SMTP_* from the
    environment), until SIGTERM; the worker runs the same loop."""
    import signal

    from eventstore import create_pool

    from ..logging import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.database_url or not settings.smtp_host:
        raise SystemExit("python -m app.notify needs DATABASE_URL and SMTP_HOST")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        deliverer = deliverer_of(settings, pool)
        assert deliverer is not None
        await follow_outbox(deliverer, stop, settings.smtp_poll_seconds)
    finally:
        await pool.close()
    return 0
