"""Refusals of the identity layer: a rule code, a message, and the field at fault."""

from __future__ import annotations

from typing import Any

__all__ = ["IdentityError"]


class IdentityError(Exception):
    """A refused identity command. Codes:

    invalid_login, invalid_name, invalid_role, unit_required, unit_not_allowed, invalid_position,
    person_exists, unknown_person, person_disabled, weak_password, invalid_expiry,
    unknown_token, login_failed (wrong login or password, or the login is locked for a while:
    the answer never tells which), not_authenticated, csrf_failed, oidc_failed.
    """

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.code}{where}: {self.message}"
