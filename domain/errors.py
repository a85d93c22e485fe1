"""Domain errors: one tree, one code per rule.

    DomainError(code, message, field)
     ├── AuthorizationError  not_authorized
     ├── StageError          wrong_stage
     ├── RuleError           every other rule code of a cycle or a block
     └── IdentityError       a person's rules and the identity layer's refusals

Rule codes: RULE_CODES lists every code the domain raises, a cycle's (CYCLE_CODES) and a
block's (BLOCK_CODES). DOMAIN.md names most of them; the rest are ours and documented in the
README. tests/domain/test_codes.py produces each cycle code and finds every code raised in
domain/ listed; app/words.py has a sentence for each.

Reason codes of exclusion (not errors): no_pledge, not_scored, below_area_floor and the kinds of
excluding findings.
"""

from __future__ import annotations

__all__ = [
    "BLOCK_CODES",
    "CYCLE_CODES",
    "RULE_CODES",
    "AuthorizationError",
    "DomainError",
    "IdentityError",
    "RuleError",
    "StageError",
]

CYCLE_CODES: frozenset[str] = frozenset(
    {
        "cycle_exists",
        "invalid_block",
        "invalid_ruleset",
        "invalid_score_sheet",
        "invalid_deadline",
        "not_authorized",
        "wrong_stage",
        "not_a_member",
        "already_signed",
        "score_above_max",
        "score_negative",
        "too_many_decimals",
        "unknown_section",
        "missing_section",
        "no_self_score",
        "already_verified",
        "reason_required",
        "quorum_not_met",
        "invalid_attendance",
        "not_scored",
        "unknown_finding",
        "finding_exists",
        "unresolved_tie",
        "not_tied",
        "round_open",
        "no_round_open",
        "no_open_places",
        "no_candidates",
        "max_rounds_reached",
        "rounds_remaining",
        "already_voted",
        "not_entitled_to_vote",
        "not_a_candidate",
        "duplicate_choice",
        "place_not_open",
        "leaders_disagree",
        "vote_not_held",
        "election_not_failed",
        "deadline_not_reached",
        "too_many_resubmissions",
        "limit_reached",
    }
)
"""The codes of a cycle's rules (`invalid_block`, `invalid_ruleset` and `invalid_score_sheet`
also when a block, ruleset or sheet is built)."""

BLOCK_CODES: frozenset[str] = frozenset(
    {
        "block_exists",
        "unknown_block",
        "already_member",
        "not_a_member",
        "invalid_year",
        "invalid_block",
        "leader_not_member",
        "reason_required",
        "previous_cycle_open",
        "no_previous_cycle",
        "invalid_input",
        "no_members",
        "unit_in_two_blocks",
    }
)
"""The codes of a block's rules and of the plan of its cycle's start."""

RULE_CODES: frozenset[str] = CYCLE_CODES | BLOCK_CODES
"""Every rule code a DomainError of the domain carries."""


class DomainError(Exception):
    """A command broke a rule. `code` is the rule, `field` the input it concerns (if any)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}{where}: {self.message}"

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class AuthorizationError(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__("not_authorized", message)


class StageError(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__("wrong_stage", message)


class RuleError(DomainError):
    pass


class IdentityError(DomainError):
    """A refused identity command (domain.person's rules, app/identity's checks). Codes:

    invalid_login, invalid_name, invalid_role, unit_required, unit_not_allowed, invalid_position,
    invalid_email, person_exists, unknown_person, person_disabled, weak_password,
    invalid_expiry, unknown_token, login_failed (wrong login or password: the answer never
    tells which), login_delayed (too many failures of this login from this address: retry
    after the delay, `LoginDelayed.retry_after_seconds`), not_authenticated, csrf_failed,
    oidc_failed.

    A DomainError: the CLI prints it as one line (exit 1), the HTTP API answers with its code.
    """
