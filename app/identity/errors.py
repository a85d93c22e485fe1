"""Refusals of the identity layer: a rule code, a message, and the field at fault
(IdentityError lives in domain.errors: the person's rules raise it too)."""

from __future__ import annotations

from domain.errors import IdentityError

__all__ = ["STATUS", "IdentityError"]

STATUS = {
    "login_failed": 401,
    "not_authenticated": 401,
    "csrf_failed": 403,
    "unknown_person": 404,
    "unknown_token": 404,
    "oidc_failed": 401,
    "login_delayed": 429,
}
"""HTTP statuses of the identity codes (the others: 409, like every rule)."""
