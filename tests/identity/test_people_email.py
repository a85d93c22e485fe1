"""A person's e-mail: validated, an event of the person's stream, absent (not null) when not
given, so the events written before it existed keep their bytes."""

from __future__ import annotations

import asyncpg
import orjson
import pytest

from app.identity import Identity, IdentityError, PeopleReadModel, verify_person_stream
from domain.person import fold_person
from eventstore import EventStore
from eventstore.chain import canonical_body
from tests.identity.conftest import ADMIN

pytestmark = pytest.mark.db

# The data of a person_created as written before e-mails existed, byte for byte.
OLD_CREATED = (
    b'{"login":"vh-binh","name":"L\xc3\xaa B\xc3\xacnh","position":null,'
    b'"role":"unit","unit":"so-vhttdl"}'
)


async def test_without_email_the_event_is_byte_for_byte_what_it_was(
    identity: Identity, store: EventStore, pool: asyncpg.Pool
) -> None:
    await identity.add_person("vh-binh", name="Lê Bình", role="unit", unit="so-vhttdl", by=ADMIN)
    [e] = await store.read_stream("person-vh-binh")
    assert "email" not in e.data
    assert orjson.dumps(e.data, option=orjson.OPT_SORT_KEYS) == OLD_CREATED
    # the stored event re-serialises to the body its hash was computed from
    body = canonical_body(
        stream=e.stream,
        version=e.version,
        event_id=e.event_id,
        type=e.type,
        schema_version=e.schema_version,
        data=orjson.loads(OLD_CREATED),
        actor=e.actor,
        effective_at=e.effective_at,
        request_id=e.request_id,
    )
    assert body == canonical_body(
        stream=e.stream,
        version=e.version,
        event_id=e.event_id,
        type=e.type,
        schema_version=e.schema_version,
        data=dict(e.data),
        actor=e.actor,
        effective_at=e.effective_at,
        request_id=e.request_id,
    )
    assert await verify_person_stream(pool, "vh-binh") == []
    # an old event folds to a person without an e-mail
    assert fold_person(None, "person_created", orjson.loads(OLD_CREATED), 1).email is None


async def test_email_on_add_and_set_is_an_event_and_survives_a_rebuild(
    identity: Identity, store: EventStore, pool: asyncpg.Pool
) -> None:
    p = await identity.add_person(
        "gd-chi",
        name="Phạm Chi",
        role="unit",
        unit="so-gddt",
        email="Chi.Pham@SoGDDT.gov.vn",
        by=ADMIN,
    )
    assert p.email == "Chi.Pham@sogddt.gov.vn"  # the domain normalised, the local part kept
    await identity.people.change("gd-chi", email="chi@sogddt.gov.vn", by=ADMIN)
    events = await store.read_stream("person-gd-chi")
    assert events[0].data["email"] == "Chi.Pham@sogddt.gov.vn"
    assert (events[1].type, events[1].data) == ("person_changed", {"email": "chi@sogddt.gov.vn"})
    await identity.people.change("gd-chi", email="", by=ADMIN)  # "" removes it
    assert (await store.read_stream("person-gd-chi"))[2].data == {"email": None}
    await identity.people.change("gd-chi", email="chi2@sogddt.gov.vn", by=ADMIN)
    before = await identity.people.list()
    await PeopleReadModel().rebuild(pool)
    assert await identity.people.list() == before
    assert (await identity.people.require("gd-chi")).email == "chi2@sogddt.gov.vn"
    assert await verify_person_stream(pool, "gd-chi") == []


@pytest.mark.parametrize("bad", ["chi", "chi@", "a b@x.vn", "chi@@x.vn", "x" * 300 + "@x.vn"])
async def test_a_bad_email_is_refused_naming_the_field_and_writes_nothing(
    identity: Identity, store: EventStore, bad: str
) -> None:
    login = f"bad-{abs(hash(bad)) % 10_000}"
    with pytest.raises(IdentityError) as info:
        await identity.add_person(login, name="X", role="unit", unit="so-x", email=bad, by=ADMIN)
    assert (info.value.code, info.value.field) == ("invalid_email", "email")
    assert bad not in str(info.value)
    assert await store.read_stream(f"person-{login}") == []
    await identity.add_person(login, name="X", role="unit", unit="so-x", by=ADMIN)
    with pytest.raises(IdentityError):
        await identity.people.change(login, email=bad, by=ADMIN)
    assert len(await store.read_stream(f"person-{login}")) == 1
