"""People as events of their own streams, the read model, and the actor of a person."""

from __future__ import annotations

import asyncpg
import pytest

from app.identity import Identity, IdentityError, PeopleReadModel, verify_person_stream
from domain.values import Actor
from eventstore import EventStore
from tests.identity.conftest import ADMIN

pytestmark = pytest.mark.db


async def test_a_person_is_an_event_stream_and_a_read_model_row(
    identity: Identity, store: EventStore
) -> None:
    p = await identity.add_person(
        "khdt-lan",
        name="Nguyễn Thị Lan",
        role="unit",
        unit="so-khdt",
        position="Chánh Văn phòng",
        by=ADMIN,
    )
    assert (p.role, p.unit, p.affiliation, p.active) == ("unit", "so-khdt", "so-khdt", True)
    events = await store.read_stream("person-khdt-lan")
    assert [e.type for e in events] == ["person_created"]
    assert events[0].data == {
        "login": "khdt-lan",
        "name": "Nguyễn Thị Lan",
        "position": "Chánh Văn phòng",
        "role": "unit",
        "unit": "so-khdt",
    }
    assert events[0].actor == {"kind": "admin", "unit": None, "name": "test"}
    assert await identity.people.get("khdt-lan") == p

    actor = p.actor()
    assert actor == Actor(
        kind="unit",
        unit="so-khdt",
        login="khdt-lan",
        name="Nguyễn Thị Lan",
        position="Chánh Văn phòng",
    )


async def test_role_unit_and_disable_are_events_and_the_model_rebuilds_from_them(
    identity: Identity, store: EventStore, pool: asyncpg.Pool
) -> None:
    await identity.add_person("tuphap-an", name="Trần An", role="unit", unit="so-tu-phap", by=ADMIN)
    await identity.people.change("tuphap-an", role="unit", unit="so-noi-vu", by=ADMIN)
    await identity.people.change("tuphap-an", role="auditor", by=ADMIN)
    await identity.disable("tuphap-an", by=ADMIN)
    events = await store.read_stream("person-tuphap-an")
    assert [e.type for e in events] == [
        "person_created",
        "person_changed",
        "person_changed",
        "person_disabled",
    ]
    assert events[2].data == {"role": "auditor", "unit": None}
    p = await identity.people.require("tuphap-an")
    assert (p.role, p.unit, p.affiliation, p.active, p.version) == (
        "auditor",
        None,
        "audit-office",
        False,
        4,
    )

    before = await identity.people.list()
    await PeopleReadModel().rebuild(pool)
    assert await identity.people.list() == before
    assert await verify_person_stream(pool, "tuphap-an") == []

    # applying an event twice (the projection runner after the in-call update) changes nothing
    async with pool.acquire() as conn:
        for e in events:
            await PeopleReadModel().apply(conn, e)
    assert await identity.people.list() == before


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"login": "Bad Login", "role": "admin"}, "invalid_login", "login"),
        ({"login": "x1", "role": "boss"}, "invalid_role", "role"),
        ({"login": "x2", "role": "unit"}, "unit_required", "unit"),
        ({"login": "x3", "role": "admin", "unit": "so-khdt"}, "unit_not_allowed", "unit"),
        ({"login": "x4", "role": "admin", "name": " "}, "invalid_name", "name"),
        ({"login": "x5", "role": "admin", "password": "short"}, "weak_password", "password"),
    ],
)
async def test_bad_input_names_field_and_rule_and_writes_nothing(
    identity: Identity, pool: asyncpg.Pool, kwargs: dict[str, str], code: str, field: str
) -> None:
    count = await pool.fetchval("SELECT count(*) FROM events")
    args = {"name": "Someone", **kwargs}
    login = args.pop("login")
    with pytest.raises(IdentityError) as err:
        await identity.add_person(login, by=ADMIN, **args)  # type: ignore[arg-type]
    assert (err.value.code, err.value.field) == (code, field)
    assert await pool.fetchval("SELECT count(*) FROM events") == count
    assert await identity.people.get(login) is None


async def test_a_login_is_taken_once(identity: Identity) -> None:
    await identity.add_person("dup", name="A", role="admin", by=ADMIN)
    with pytest.raises(IdentityError) as err:
        await identity.add_person("dup", name="B", role="auditor", by=ADMIN)
    assert err.value.code == "person_exists"
    assert (await identity.people.require("dup")).name == "A"


async def test_a_tampered_person_event_is_found(identity: Identity, pool: asyncpg.Pool) -> None:
    await identity.add_person("tamper", name="A", role="admin", by=ADMIN)
    await identity.people.change("tamper", name="B", by=ADMIN)
    assert await verify_person_stream(pool, "tamper") == []
    async with pool.acquire() as conn, conn.transaction():
        # the table owner can switch the append-only trigger off; an attacker with that right
        await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        await conn.execute(
            # the stored canonical body must match the columns (or be gone): drop it too
            "UPDATE events SET data = jsonb_set(data, '{name}', '\"C\"'), body = NULL"
            " WHERE stream = 'person-tamper' AND version = 2"
        )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")
    assert await verify_person_stream(pool, "tamper") == ["hash_mismatch at version 2"]


async def test_the_projection_runner_keeps_the_people_read_model(
    identity: Identity, pool: asyncpg.Pool
) -> None:
    from eventstore import ProjectionRunner

    await identity.add_person("runner-a", name="A", role="unit", unit="so-khdt", by=ADMIN)
    await identity.disable("runner-a", by=ADMIN)
    before = await identity.people.require("runner-a")
    runner = ProjectionRunner(pool, [PeopleReadModel()])
    assert await runner.rebuild() > 0
    assert await identity.people.require("runner-a") == before
    await identity.enable("runner-a", by=ADMIN)
    await runner.catch_up()
    assert (await identity.people.require("runner-a")).active
