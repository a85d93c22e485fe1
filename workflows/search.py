"""Typed search attributes of the cycle workflows, so that operators find cycles in the
Temporal Web UI (`ThiduaBlock = "kg-khoi-2" AND ThiduaYear = 2018`). A server must have them
registered before a workflow sets them: `thidua dev up` does it; deploy/README.md shows how on
a cluster; tests pass SEARCH_ATTRIBUTE_KEYS to `WorkflowEnvironment.start_local`. The workflow
upserts them at start and on every stage change."""

from __future__ import annotations

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

__all__ = [
    "SA_BLOCK",
    "SA_PROVINCE",
    "SA_STAGE",
    "SA_YEAR",
    "SEARCH_ATTRIBUTES",
    "SEARCH_ATTRIBUTE_KEYS",
]

SA_BLOCK = SearchAttributeKey.for_keyword("ThiduaBlock")
SA_YEAR = SearchAttributeKey.for_int("ThiduaYear")
SA_STAGE = SearchAttributeKey.for_keyword("ThiduaStage")
SA_PROVINCE = SearchAttributeKey.for_keyword("ThiduaProvince")

SEARCH_ATTRIBUTE_KEYS: tuple[SearchAttributeKey[str] | SearchAttributeKey[int], ...] = (
    SA_BLOCK,
    SA_YEAR,
    SA_STAGE,
    SA_PROVINCE,
)

_CLI_TYPE = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
}

SEARCH_ATTRIBUTES: tuple[tuple[str, str], ...] = tuple(
    (k.name, _CLI_TYPE[k.indexed_value_type]) for k in SEARCH_ATTRIBUTE_KEYS
)
"""(name, type as the temporal CLI spells it)."""
