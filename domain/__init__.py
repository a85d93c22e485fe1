"""The pure domain of one emulation cycle: events, commands, the fold and the rules.

No I/O, no clock, no Temporal: time and ids come in as arguments.
"""

from .commands import Command, CommandAdapter
from .decide import build_outcome, current_ranking, decide, validate
from .errors import AuthorizationError, DomainError, RuleError, StageError
from .events import Event, EventAdapter
from .fold import evolve, fold
from .pending import Reminder, pending_actions, reminders
from .setup import Block, Member, Ruleset, ScoreSheet, Section, resolve_ruleset
from .state import CycleState
from .values import Actor
from .views import auditor_state, public_state

__all__ = [
    "Actor",
    "AuthorizationError",
    "Block",
    "Command",
    "CommandAdapter",
    "CycleState",
    "DomainError",
    "Event",
    "EventAdapter",
    "Member",
    "Reminder",
    "RuleError",
    "Ruleset",
    "ScoreSheet",
    "Section",
    "StageError",
    "auditor_state",
    "build_outcome",
    "current_ranking",
    "decide",
    "evolve",
    "fold",
    "pending_actions",
    "public_state",
    "reminders",
    "resolve_ruleset",
    "validate",
]
