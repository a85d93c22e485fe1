"""Senders: how a message leaves thidua. E-mail over SMTP now; other channels (Zalo OA, SMS)
would be other implementations of `Sender`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

__all__ = ["Message", "PermanentFailure", "Sender", "SmtpSender", "TemporaryFailure"]


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str
    message_id: str
    """`<…@…>`, derived from (outbox row, person): a message sent again is the same message."""


class TemporaryFailure(Exception):
    """Try again later (the server is away, busy or answered 4xx)."""


class PermanentFailure(Exception):
    """Never try this message again (the server answered 5xx: a bad address, say)."""


class Sender(Protocol):
    async def send(self, message: Message) -> None:
        """Hand `message` over; raise TemporaryFailure or PermanentFailure."""
        ...


class SmtpSender:
    """One SMTP session per message (aiosmtplib): STARTTLS and login when configured."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self._user, self._password = user, password
        self._starttls, self._timeout = starttls, timeout

    def __repr__(self) -> str:  # never the password
        return f"SmtpSender({self.host}:{self.port}, from={self.sender})"

    def email(self, message: Message) -> EmailMessage:
        m = EmailMessage()
        m["From"] = self.sender
        m["To"] = message.to
        m["Subject"] = message.subject
        m["Message-ID"] = message.message_id
        m["Date"] = format_datetime(datetime.now(UTC))
        m["Auto-Submitted"] = "auto-generated"
        m.set_content(message.body)
        return m

    async def send(self, message: Message) -> None:
        import aiosmtplib

        try:
            await aiosmtplib.send(
                self.email(message),
                hostname=self.host,
                port=self.port,
                username=self._user,
                password=self._password,
                start_tls=self._starttls,
                use_tls=False,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentFailure(f"recipient refused ({codes[0]})") from exc
            raise TemporaryFailure(f"recipient deferred ({codes})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            # a refused login or sender is this side's setting, not the message: try again
            ours = (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused)
            if 500 <= exc.code < 600 and not isinstance(exc, ours):
                raise PermanentFailure(f"SMTP {exc.code}") from exc
            raise TemporaryFailure(f"SMTP {exc.code}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(type(exc).__name__) from exc
