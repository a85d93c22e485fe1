"""Stored person, block and province events keep their bytes: each kind of event is written
through its real path (the identity service, the block service, the rotation's and the
province's activities) into the real PostgreSQL, read back, decoded into its aggregate's event
and encoded again by the codec; the hashed body of the re-encoded event is the stored body,
byte for byte (so earlier chains still verify after a change to the events or the codec)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from argon2 import PasswordHasher

from activities.block import BlockActivities
from activities.year import YearActivities
from app.blocks import BlockService
from app.identity import Identity
from domain.block import BlockEventAdapter
from domain.codec import from_record, to_record
from domain.person import PersonEventAdapter
from domain.province import ProvinceEventAdapter
from domain.values import Actor
from eventstore import EventStore
from eventstore.chain import chain_hash, record_body
from tests.eventstore.cycles import records, reference_events
from workflows.year_messages import BlockLeadersInput, CompileInput

from .helpers import block_object

ADMIN = Actor.admin(name="test")


def again(adapter: Any) -> Any:
    """A stored event decoded as its aggregate's event and encoded again (the one codec)."""
    return lambda row: to_record(from_record(row, adapter))


async def same_bytes(store: EventStore, stream: str, again: Any) -> list[str]:
    """The types of the stream's events, after checking that each re-encoded body is the
    stored one and chains to the stored hash."""
    stored = await store.read_stream(stream)
    rows = await store.rows(stream)
    assert [r[0] for r in rows] == [e.version for e in stored]
    prev = bytes(32)
    for event, (version, body, hash_) in zip(stored, rows, strict=True):
        r = again(event)
        body_again = record_body(stream, version, r)
        assert body_again == bytes(body), (stream, version, event.type)
        assert chain_hash(prev, body_again) == bytes(hash_)
        prev = bytes(hash_)
    return [e.type for e in stored]


@pytest.fixture
def identity(pool: asyncpg.Pool, store: EventStore) -> Identity:
    return Identity(
        pool, store, hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    )


async def test_every_kind_of_person_event_keeps_its_bytes(
    identity: Identity, store: EventStore
) -> None:
    login, bare = f"bytes-{uuid4().hex[:8]}", f"bare-{uuid4().hex[:8]}"
    await identity.add_person(
        login,
        name="Nguyễn Văn A",
        role="unit",
        unit="so-khdt",
        position="Giám đốc",
        email="a@sokhdt.gov.vn",
        by=ADMIN,
    )
    await identity.add_person(bare, name="B", role="admin", by=ADMIN)  # no position, no e-mail
    people = identity.people
    await people.change(login, name="Nguyễn Văn Á", by=ADMIN)
    await people.change(login, role="auditor", by=ADMIN)  # role and unit (null) together
    await people.change(login, position="", email="", by=ADMIN)  # removed: null
    await people.change(login, email="a2@sokhdt.gov.vn", by=ADMIN)
    await identity.disable(login, by=ADMIN)
    await identity.enable(login, by=ADMIN)
    await identity.set_password(login, "một mật khẩu đủ dài 2026", by=ADMIN)
    issued = await identity.issue_token(login, by=ADMIN, name="máy chủ")
    await identity.issue_token(login, by=ADMIN, expires=timedelta(days=1))  # no name
    await identity.revoke_token(str(issued.id), by=ADMIN)

    types = await same_bytes(store, f"person-{login}", again(PersonEventAdapter))
    assert set(types) == {
        "person_created",
        "person_changed",
        "person_disabled",
        "person_enabled",
        "password_reset",
        "token_issued",
        "token_revoked",
    }
    assert await same_bytes(store, f"person-{bare}", again(PersonEventAdapter)) == [
        "person_created"
    ]


async def test_every_kind_of_block_and_province_event_keeps_its_bytes(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    prefix = f"bytes{uuid4().hex[:8]}-"
    blocks = BlockService(store, pool)
    blocks.prefix = prefix
    await blocks.register(block_object("kg-khoi-2", province="Tỉnh Bytes"))
    await blocks.join("kg-khoi-2", "so-moi", "Sở Mới", 2019)
    await blocks.leave("kg-khoi-2", "so-moi", 2020)
    await blocks.rename("kg-khoi-2", "Khối thi đua số 2 (mới)")
    await blocks.appoint_leaders("kg-khoi-2", 2019, "so-khdt", "vp-doan-dbqh", "bầu không thành")

    cycle_stream = f"{prefix}cycle-kg-khoi-2-2018"
    await store.append(cycle_stream, 0, list(records(reference_events(unique_ids=True))))
    at = datetime(2019, 1, 5, 8, 0, tzinfo=UTC)
    stream = blocks.stream("kg-khoi-2")
    assert await BlockActivities(store).set_block_leaders(
        BlockLeadersInput(
            block_stream=stream,
            cycle_stream=cycle_stream,
            year=2020,
            head="so-khdt",
            deputy="vp-doan-dbqh",
            at=at,
        )
    )
    types = await same_bytes(store, stream, again(BlockEventAdapter))
    assert types == [
        "block_registered",
        "member_joined",
        "member_left",
        "block_renamed",
        "leaders_set",
        "leaders_set",
    ]

    province_stream = f"{prefix}province-bytes-2018"
    year = YearActivities(store, directory=None)  # type: ignore[arg-type]
    compiled = await year.compile_proposals(
        CompileInput(
            province="Tỉnh Bytes",
            year=2018,
            stream=province_stream,
            cycle_streams=[cycle_stream],
            event_id=str(uuid4()),
            at=at,
        )
    )
    assert compiled.blocks and compiled.proposed
    assert await same_bytes(store, province_stream, again(ProvinceEventAdapter)) == [
        "proposals_compiled"
    ]
