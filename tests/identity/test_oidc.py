"""Single sign-on against a real OpenID Connect provider started here (oidc-provider-mock: an
authlib-based provider with discovery, JWKS, authorization code flow and RS256 ID tokens)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from app.identity import Identity, IdentityError, OidcConfig, OidcLogin
from tests.identity.conftest import ADMIN

pytestmark = pytest.mark.db

REDIRECT = "http://thidua.test/session/oidc"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


def sso(identity: Identity, issuer: str, client_id: str = "thidua") -> OidcLogin:
    return OidcLogin(
        OidcConfig(issuer=issuer, client_id=client_id, client_secret="s3cret-of-the-client"),
        identity.people,
    )


async def authorize(issuer: str, url: str, sub: str, claims: dict[str, str]) -> str:
    """What the browser does at the provider: the person signs in, and is sent back with a
    code."""
    async with httpx.AsyncClient() as http:
        r = await http.put(f"{issuer}/users/{sub}", json=claims)
        assert r.status_code == 204, r.text
        r = await http.post(url, data={"sub": sub})
    assert r.status_code == 302, r.text
    back = urlsplit(r.headers["location"])
    assert back._replace(query="").geturl() == REDIRECT
    return parse_qs(back.query)["code"][0]


async def test_sso_maps_the_configured_claim_to_a_person_in_the_store(
    identity: Identity, provider: str
) -> None:
    await identity.add_person(
        "ngoaivu-hoa",
        name="Lê Hoa",
        role="unit",
        unit="so-ngoai-vu",
        position="Phó Giám đốc",
        by=ADMIN,
    )
    login = sso(identity, provider)
    start = await login.authorization_url(REDIRECT)
    code = await authorize(
        provider, start.url, "hoa@kiengiang.gov.vn", {"preferred_username": "ngoaivu-hoa"}
    )
    person = await login.exchange(code, redirect_uri=REDIRECT, nonce=start.nonce)
    assert person.login == "ngoaivu-hoa"
    assert person.actor().unit == "so-ngoai-vu"


async def test_sso_refuses_unknown_or_disabled_people_a_wrong_nonce_and_another_audience(
    identity: Identity, provider: str
) -> None:
    await identity.add_person("sso-off", name="Off", role="auditor", by=ADMIN)
    await identity.disable("sso-off", by=ADMIN)
    login = sso(identity, provider)
    for claim in ("nobody-in-store", "sso-off"):
        start = await login.authorization_url(REDIRECT)
        code = await authorize(provider, start.url, f"{claim}@x", {"preferred_username": claim})
        with pytest.raises(IdentityError) as err:
            await login.exchange(code, redirect_uri=REDIRECT, nonce=start.nonce)
        assert err.value.code == "oidc_failed"

    await identity.add_person("sso-on", name="On", role="auditor", by=ADMIN)
    start = await login.authorization_url(REDIRECT)
    code = await authorize(provider, start.url, "on@x", {"preferred_username": "sso-on"})
    with pytest.raises(IdentityError) as err:
        await login.exchange(code, redirect_uri=REDIRECT, nonce="another login's nonce")
    assert err.value.code == "oidc_failed" and "nonce" in err.value.message

    # an ID token issued to another client is not accepted by ours
    other = sso(identity, provider, client_id="another-app")
    start = await other.authorization_url(REDIRECT)
    code = await authorize(provider, start.url, "on@x", {"preferred_username": "sso-on"})
    async with httpx.AsyncClient() as http:
        meta = await other.metadata()
        r = await http.post(
            meta["token_endpoint"],
            auth=("another-app", "x"),
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        )
    id_token = r.json()["id_token"]
    with pytest.raises(IdentityError) as err:
        await login.person(id_token, nonce=start.nonce)
    assert err.value.code == "oidc_failed" and "audience" in err.value.message.lower()
    assert (await other.person(id_token, nonce=start.nonce)).login == "sso-on"


async def test_sso_through_the_http_routes_gives_a_session(
    identity: Identity,
    provider: str,
    pool: object,
    store: object,
    tmp_path: object,
    db_url: str,
) -> None:
    """GET /session/oidc → the provider → /session/oidc/callback: a session cookie for the
    person the claim names; a callback with another state is refused."""
    from app.bootstrap import Services
    from app.http import create_app
    from app.identity import IdentityConfig
    from app.settings import Settings
    from eventstore import ProjectionRunner
    from eventstore.outbox import Outbox
    from readmodels import all_read_models

    await identity.add_person(
        "sso-http",
        name="Vũ Minh",
        role="unit",
        unit="vp-hdnd",
        position="Phó Chánh Văn phòng",
        by=ADMIN,
    )
    services = Services(
        settings=Settings(thidua_home=tmp_path, database_url=db_url),  # type: ignore[arg-type]
        pool=pool,
        database_url=db_url,
        store=store,
        outbox=Outbox(pool),  # type: ignore[arg-type]
        readmodels=ProjectionRunner(pool, all_read_models()),  # type: ignore[arg-type]
    )
    config = IdentityConfig(
        oidc=OidcConfig(issuer=provider, client_id="thidua", client_secret="s3cret-of-the-client")
    )
    services._identity = Identity(pool, store, config)  # type: ignore[arg-type]
    app = create_app(services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://thidua"
    ) as client:
        r = await client.get("/session/oidc")
        assert r.status_code == 302
        async with httpx.AsyncClient() as browser:
            await browser.put(f"{provider}/users/minh", json={"preferred_username": "sso-http"})
            back = await browser.post(r.headers["location"], data={"sub": "minh"})
        callback = back.headers["location"]
        assert callback.startswith("http://thidua/session/oidc/callback?")
        forged = await client.get(callback.replace("state=", "state=x"))
        assert (forged.status_code, forged.json()["code"]) == (401, "oidc_failed")
        r = await client.get(callback)
        assert r.status_code == 200, r.text
        me = (await client.get("/session/me")).json()
        assert me == {
            "kind": "unit",
            "unit": "vp-hdnd",
            "login": "sso-http",
            "name": "Vũ Minh",
            "position": "Phó Chánh Văn phòng",
        }
