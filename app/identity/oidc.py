"""Single sign-on through the province's OpenID Connect provider (optional).

The authorization code flow: `authorization_url()` sends the browser to the provider with a
random `state` and `nonce`; the provider sends it back with a code; `exchange()` trades the code
at the token endpoint (client secret, HTTP basic), verifies the ID token (signature by a key of
the provider's JWKS through PyJWT's `PyJWKClient`, issuer, audience = our client id, expiry,
nonce) and maps the configured claim (default `preferred_username`) to a person already in the
store. Nobody is created by single sign-on; a disabled person or an unknown claim value is
refused with `oidc_failed`.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from pydantic import BaseModel

from .errors import IdentityError
from .people import People, Person

__all__ = ["OidcConfig", "OidcLogin", "OidcStart"]

_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


class OidcConfig(BaseModel):
    issuer: str
    client_id: str
    client_secret: str
    claim: str = "preferred_username"
    scope: str = "openid profile"


@dataclass(frozen=True)
class OidcStart:
    url: str
    state: str  # kept by the caller (e.g. a signed cookie) and compared on return
    nonce: str


class OidcLogin:
    def __init__(self, config: OidcConfig, people: People, *, timeout: float = 10.0) -> None:
        self.config = config
        self._people = people
        self._timeout = timeout
        self._metadata: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKClient | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                r = await http.get(url)
            if r.status_code != 200:
                raise IdentityError("oidc_failed", f"discovery at {url} answered {r.status_code}")
            meta = r.json()
            if meta.get("issuer", "").rstrip("/") != self.config.issuer.rstrip("/"):
                raise IdentityError("oidc_failed", "the provider names another issuer")
            self._metadata = meta
        return self._metadata

    async def authorization_url(self, redirect_uri: str) -> OidcStart:
        meta = await self.metadata()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.config.scope,
                "state": state,
                "nonce": nonce,
            }
        )
        return OidcStart(f"{meta['authorization_endpoint']}?{query}", state, nonce)

    async def exchange(self, code: str, *, redirect_uri: str, nonce: str) -> Person:
        """Trade the code for tokens and map the verified ID token to a person."""
        meta = await self.metadata()
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            r = await http.post(
                meta["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                },
                auth=(self.config.client_id, self.config.client_secret),
            )
        if r.status_code != 200 or "id_token" not in r.json():
            raise IdentityError("oidc_failed", f"the token endpoint answered {r.status_code}")
        return await self.person(r.json()["id_token"], nonce=nonce)

    async def claims(self, id_token: str, *, nonce: str | None) -> dict[str, Any]:
        """The verified claims of an ID token."""
        meta = await self.metadata()
        if self._jwks is None:
            self._jwks = jwt.PyJWKClient(meta["jwks_uri"], cache_keys=True)
        try:
            key = await asyncio.to_thread(self._signing_key, id_token)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=_ALGORITHMS,
                audience=self.config.client_id,
                issuer=meta["issuer"],
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                leeway=30,
            )
        except jwt.PyJWTError as exc:
            raise IdentityError("oidc_failed", f"the ID token is not valid: {exc}") from exc
        if nonce is not None and not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise IdentityError("oidc_failed", "the ID token's nonce is not this login's")
        return claims

    def _signing_key(self, id_token: str) -> jwt.PyJWK:
        """The JWKS key named by the token's `kid`; without a `kid`, the provider's only
        signing key (OIDC Core 10.1: a `kid` is required only when the set has several)."""
        assert self._jwks is not None
        if jwt.get_unverified_header(id_token).get("kid"):
            return self._jwks.get_signing_key_from_jwt(id_token)
        keys = self._jwks.get_signing_keys()
        if len(keys) != 1:
            raise jwt.PyJWKClientError("the ID token names no key and the provider has several")
        return keys[0]

    async def person(self, id_token: str, *, nonce: str | None) -> Person:
        claims = await self.claims(id_token, nonce=nonce)
        value = claims.get(self.config.claim)
        person = await self._people.get(value) if isinstance(value, str) else None
        if person is None or not person.active:
            raise IdentityError(
                "oidc_failed", f"the provider's {self.config.claim!r} names no active person"
            )
        return person
