"""Evidence of a self-score in the pure rules (domain/evidence.py): files named by hash, name,
size and type; absent from the event and the command when there is none, so that the events
and request bindings of before keep their bytes; bounded; only the sheet's sections."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.codec import canonical_json, to_record
from domain.commands import CommandAdapter
from domain.events import SelfScoreSubmitted
from domain.evidence import EVIDENCE_PER_SCORE, EVIDENCE_PER_SECTION, EvidenceFile
from domain.recheck import recheck

from .helpers import Cycle, secs

pytestmark = pytest.mark.pure

PDF = {"sha256": "a" * 64, "name": "Quyết định số 12.pdf", "size": 2048, "type": "application/pdf"}


def file(i: int) -> dict[str, object]:
    return {**PDF, "sha256": f"{i:064x}"}


def test_a_self_score_without_evidence_is_recorded_as_before() -> None:
    c = Cycle()
    c.sign()
    (e,) = c.do("u1", "submit_self_score", unit="u1", sections=secs(500))
    assert isinstance(e, SelfScoreSubmitted)
    assert "evidence" not in e.payload()  # the bytes (and hash) of an event of before
    assert canonical_json(to_record(e).data) == canonical_json(
        {"type": "self_score_submitted", "unit": "u1", "sections": secs(500)}
    )
    command = CommandAdapter.validate_python(
        {"do": "submit_self_score", "unit": "u1", "sections": secs(500)}
    )
    assert "evidence" not in command.model_dump(mode="json")  # idempotency binding unchanged


def test_the_event_names_each_file_and_the_audit_rechecks_it() -> None:
    c = Cycle()
    c.sign()
    (e,) = c.do(
        "u1",
        "submit_self_score",
        unit="u1",
        sections=secs(500),
        evidence={"c1": [PDF], "c3": [file(1)]},
    )
    assert e.payload()["evidence"] == {"c1": [PDF], "c3": [file(1)]}
    assert c.state.self_scores["u1"]["c1"] == 500
    assert recheck(c.events) == []


def test_evidence_only_for_the_sheets_sections() -> None:
    c = Cycle()
    c.sign()
    err = c.reject("u1", "submit_self_score", unit="u1", sections=secs(500), evidence={"c9": [PDF]})
    assert (err.code, err.field) == ("unknown_section", "evidence.c9")


@pytest.mark.parametrize(
    ("evidence", "where"),
    [
        ({"c1": [file(i) for i in range(EVIDENCE_PER_SECTION + 1)]}, ("evidence", "c1")),
        (
            {
                s: [file(i * 10 + j) for j in range(EVIDENCE_PER_SECTION)]
                for i, s in enumerate(("c1", "c2", "c3", "c4", "c5"))
            },
            (),
        ),
        ({"c1": [{**PDF, "sha256": "A" * 64}]}, ("evidence", "c1", 0, "sha256")),
        ({"c1": [{**PDF, "size": 0}]}, ("evidence", "c1", 0, "size")),
        ({"c1": [{**PDF, "size": 11 * 2**20}]}, ("evidence", "c1", 0, "size")),
        ({"c1": [{**PDF, "type": "text/html"}]}, ("evidence", "c1", 0, "type")),
        ({"c1": [{**PDF, "name": "a\x00b.pdf"}]}, ("evidence", "c1", 0, "name")),
        ({"c1": [{**PDF, "name": "x" * 256}]}, ("evidence", "c1", 0, "name")),
    ],
)
def test_the_shape_of_evidence_is_bounded(
    evidence: dict[str, object], where: tuple[object, ...]
) -> None:
    with pytest.raises(ValidationError) as info:
        CommandAdapter.validate_python(
            {"do": "submit_self_score", "unit": "u1", "sections": secs(500), "evidence": evidence}
        )
    loc = info.value.errors()[0]["loc"]
    assert loc[1:] == where, loc
    if not where:  # the whole self-score: more than EVIDENCE_PER_SCORE files
        assert f"at most {EVIDENCE_PER_SCORE}" in str(info.value)


def test_a_file_name_is_its_last_path_part() -> None:
    f = EvidenceFile.model_validate({**PDF, "name": "C:\\Tai lieu\\..\\Báo cáo.docx"})
    assert f.name == "Báo cáo.docx"
