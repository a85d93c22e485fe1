"""The person aggregate (domain.person, domain.person_rules): decide on the folded person, and
payloads that keep the stored bytes (no `type` key, no `email` when there is none, only the
changed fields)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from uuid import UUID

import pytest

from domain.codec import from_record, to_record
from domain.errors import IdentityError
from domain.person import Person, PersonEventAdapter, fold_person_events
from domain.person_rules import AddPerson, ChangePerson, NotePerson, SetActive, decide_person
from domain.values import Actor

pytestmark = pytest.mark.pure

ADMIN = Actor.admin(name="test")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def run(person: Person | None, command: object) -> tuple[list[object], Person | None]:
    ids = (UUID(int=i) for i in itertools.count(1))
    events = decide_person(
        person,
        command,
        ADMIN,
        login="lan",
        now=NOW,  # type: ignore[arg-type]
        ids=lambda: next(ids),
    )
    return events, fold_person_events(events, person)  # type: ignore[arg-type]


def test_a_person_is_created_once_and_changed_field_by_field() -> None:
    events, lan = run(None, AddPerson(login="lan", name=" Lan ", role="unit", unit="so-khdt"))
    assert to_record(events[0]).data == {  # type: ignore[arg-type]
        "login": "lan",
        "name": "Lan",
        "position": None,
        "role": "unit",
        "unit": "so-khdt",
    }
    assert lan is not None and (lan.version, lan.affiliation) == (1, "so-khdt")
    with pytest.raises(IdentityError) as err:
        run(lan, AddPerson(login="lan", name="B", role="admin"))
    assert err.value.code == "person_exists"

    assert run(lan, ChangePerson(name="Lan")) == ([], lan)  # nothing changes, nothing written
    events, lan2 = run(lan, ChangePerson(role="auditor", email="lan@sokhdt.gov.vn"))
    assert to_record(events[0]).data == {  # type: ignore[arg-type]
        "role": "auditor",
        "unit": None,
        "email": "lan@sokhdt.gov.vn",
    }
    assert lan2 is not None and (lan2.role, lan2.unit, lan2.version) == ("auditor", None, 2)


@pytest.mark.parametrize(
    ("command", "code", "field"),
    [
        (AddPerson(login="Lan!", name="A", role="admin"), "invalid_login", "login"),
        (AddPerson(login="lan", name=" ", role="admin"), "invalid_name", "name"),
        (AddPerson(login="lan", name="A", role="boss"), "invalid_role", "role"),
        (AddPerson(login="lan", name="A", role="unit"), "unit_required", "unit"),
        (
            AddPerson(login="lan", name="A", role="admin", unit="so-khdt"),
            "unit_not_allowed",
            "unit",
        ),
        (
            AddPerson(login="lan", name="A", role="admin", email="not an address"),
            "invalid_email",
            "email",
        ),
        (SetActive(active=False), "unknown_person", "login"),
    ],
)
def test_a_refusal_names_the_rule_and_the_field(command: object, code: str, field: str) -> None:
    with pytest.raises(IdentityError) as err:
        run(None, command)
    assert (err.value.code, err.value.field) == (code, field)


def test_events_round_trip_through_the_one_codec_with_their_bytes() -> None:
    _, lan = run(None, AddPerson(login="lan", name="Lan", role="admin"))
    kinds = [
        SetActive(active=False),
        SetActive(active=True),
        NotePerson(type="password_reset"),
        NotePerson(
            type="token_issued",
            data={"token_id": "t1", "name": None, "expires_at": "2027-03-01T08:00:00+00:00"},
        ),
        NotePerson(type="token_revoked", data={"token_id": "t1"}),
    ]
    for command in kinds:
        events, lan = run(lan, command)
        record = to_record(events[0])  # type: ignore[arg-type]
        assert "type" not in record.data
        assert to_record(from_record(record, PersonEventAdapter)) == record
    assert lan is not None and (lan.version, lan.active) == (6, True)
    assert run(lan, SetActive(active=True)) == ([], lan)
