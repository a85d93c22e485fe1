"""A real SMTP server for the tests (aiosmtpd, in its own thread) and a handler that keeps what
arrives and can hold the first message."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["Mailbox", "smtp_server"]


class Mailbox:
    """aiosmtpd handler: keeps every message that reaches DATA; with `hold`, the first one
    waits (the client gets no answer) until `release` is set."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.arrived: list[tuple[str, str, str]] = []  # (recipient, Message-ID, subject)
        self.bodies: list[str] = []
        self.hold = False
        self.held = threading.Event()
        self.release = threading.Event()
        self.refuse = refuse or set()
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.arrived.append((rcpt, msg["Message-ID"], str(msg["Subject"])))
            self.bodies.append(msg.get_content())
            first = self.hold and not self.held.is_set()
            if first:
                self.held.set()
        if first:  # the server holds the first message: the client waits for the 250
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)
        return "250 OK"


@contextmanager
def smtp_server(box: Mailbox) -> Iterator[int]:
    """Serve `box` on a free port of 127.0.0.1; yields the port."""
    with socket.socket() as probe:  # a free port (aiosmtpd checks its own with a connection)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        box.release.set()
        controller.stop()
