"""One voice (app/words.py): every rule code the rules, the pages' forms or the identity can
answer has its own Vietnamese sentence, never the generic one; "no vote round yet" says so."""

from __future__ import annotations

import re
from pathlib import Path

from app import words

ROOT = Path(__file__).parents[2]
RAISED = re.compile(
    r'(?:RuleError|FormError|IdentityError|DomainError)\(\s*"([a-z_]+)"|code\s*=\s*"([a-z_]+)"'
)


def codes() -> set[str]:
    found: set[str] = set()
    for folder in ("domain", "app/http/pages", "app/identity"):
        for f in (ROOT / folder).rglob("*.py"):
            for m in RAISED.finditer(f.read_text("utf-8")):
                found.add(m.group(1) or m.group(2))
    return found


def test_every_rule_code_a_form_can_produce_has_its_own_sentence() -> None:
    found = codes()
    assert {"already_signed", "no_round_open", "invalid_date", "weak_password"} <= found
    missing = sorted(c for c in found if c not in words.RULE)
    assert missing == []
    generic = sorted(c for c in found if words.rule_sentence(c) == words.rule_sentence("?"))
    assert generic == []


def test_no_vote_round_yet_is_its_own_sentence() -> None:
    yet, none_open = words.rule_sentence("no_round_yet"), words.rule_sentence("no_round_open")
    assert yet != none_open and "Chưa có vòng bỏ phiếu" in yet


def test_overdue_only_for_a_deadline_that_was_live() -> None:
    from datetime import UTC, datetime, timedelta

    from readmodels.pending import PendingAction

    now = datetime.now(UTC)

    def task(deadline: datetime | None, started: datetime | None) -> PendingAction:
        return PendingAction(
            "cycle-k-2018",
            "Sở",
            "sign_pledge",
            "",
            "",
            "k",
            "Khối",
            2018,
            "",
            "pledge",
            deadline,
            started,
        )

    assert task(now - timedelta(days=3), now - timedelta(days=30)).overdue
    assert not task(now - timedelta(days=3000), now - timedelta(days=1)).overdue  # before start
    assert not task(now + timedelta(days=3), now - timedelta(days=30)).overdue
    assert not task(None, now).overdue
