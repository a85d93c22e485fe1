"""Refusals of the identity layer: a rule code, a message, and the field at fault."""

from __future__ import annotations

from domain.errors import DomainError

__all__ = ["STATUS", "IdentityError"]

STATUS = {
    "login_failed": 401, "not_authenticated": 401, "csrf_failed": 403, "unknown_person": 404,
    "unknown_token": 404, "oidc_failed": 401, "login_delayed": 429,
}
"""HTTP statuses of the identity codes (the others: 409, like every rule)."""


class IdentityError(DomainError):
    """A refused identity command. Codes:

    invalid_login, invalid_name, invalid_role, unit_required, unit_not_allowed, invalid_position,
    person_exists, unknown_person, person_disabled, weak_password, invalid_expiry,
    unknown_token, login_failed (wrong login or password: the answer never tells which),
    login_delayed (too many failures of this login from this address: retry after the delay,
    `LoginDelayed.retry_after_seconds`), not_authenticated, csrf_failed, oidc_failed, person_changed_meanwhile.

    A DomainError: the CLI prints it as one line (exit 1), the HTTP API answers with its code.
    """
