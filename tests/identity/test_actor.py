"""The actor with a person, and events written before people existed."""

from __future__ import annotations

import pytest

from domain.codec import canonical_json
from domain.values import Actor

pytestmark = pytest.mark.pure


def test_an_actor_without_a_person_keeps_its_old_bytes() -> None:
    old = {"kind": "unit", "unit": "so-khdt", "name": None}
    actor = Actor.model_validate(old)
    assert actor.login is None and actor.position is None
    assert canonical_json(actor.model_dump(mode="json")) == canonical_json(old)
    assert actor.model_dump() == old


def test_the_actor_of_a_person_carries_login_name_position_and_the_persons_unit() -> None:
    a = Actor.of_person(
        role="unit", login="khdt-lan", name="Lan", unit="so-khdt", position="Chánh Văn phòng"
    )
    assert a.model_dump(mode="json") == {
        "kind": "unit",
        "unit": "so-khdt",
        "name": "Lan",
        "login": "khdt-lan",
        "position": "Chánh Văn phòng",
    }
    assert Actor.model_validate(a.model_dump(mode="json")) == a
    admin = Actor.of_person(role="admin", login="root", name="Root")
    assert (admin.kind, admin.unit) == ("admin", None)
    with pytest.raises(ValueError):
        Actor.of_person(role="unit", login="x", name="X")
