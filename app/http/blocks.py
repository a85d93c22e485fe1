"""Blocks across the years and provinces' years over HTTP: the same functions as `thidua block`
and `thidua year` (app/blocks.py). The secretariat (admin) changes; every caller reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from domain.block_rules import parse_block
from domain.errors import DomainError

from ..blocks import (
    BlockService,
    load_deadlines,
    load_ruleset,
    load_score_sheet,
    show_json,
)
from ..documents.proposals import render_document
from ..province_setup import ProvinceSetup
from .deps import Caller
from .params import BlockId, Province, ProvinceYear, UnitId

__all__ = ["router"]

router = APIRouter(tags=["blocks"])


def block_service(request: Request) -> BlockService:
    blocks: BlockService = request.app.state.services.blocks
    return blocks


Blocks = Annotated[BlockService, Depends(block_service)]


class JoinBody(BaseModel):
    unit: str
    name: str
    from_year: int = Field(ge=1945, le=2200)


class LeaveBody(BaseModel):
    after_year: int = Field(ge=1945, le=2200)


class RenameBody(BaseModel):
    name: str


class LeadersBody(BaseModel):
    year: int = Field(ge=1945, le=2200)
    head: str
    deputy: str
    reason: str


class CycleBody(BaseModel):
    year: int = Field(ge=1945, le=2200)
    ruleset: dict[str, Any] | None = None
    score_sheet: dict[str, Any] | None = None
    deadlines: dict[str, Any] | None = None


class YearBody(BaseModel):
    ruleset: dict[str, Any]
    score_sheet: dict[str, Any]
    deadlines: dict[str, Any] = Field(default_factory=dict)


@router.post("/blocks", status_code=201)
async def register(body: dict[str, Any], who: Caller, blocks: Blocks) -> dict[str, Any]:
    """Register a block (the scenario format's `block` object, or a whole scenario)."""
    # a unit sits in one block of a province for a year (unit_in_two_blocks)
    return show_json(await ProvinceSetup(blocks).register(parse_block(body), who))


@router.get("/blocks/{block}")
async def show(block: BlockId, who: Caller, blocks: Blocks) -> dict[str, Any]:
    return show_json(await blocks.state(block))


@router.post("/blocks/{block}/members")
async def join(block: BlockId, body: JoinBody, who: Caller, blocks: Blocks) -> dict[str, Any]:
    return show_json(
        await ProvinceSetup(blocks).join(block, body.unit, body.name, body.from_year, who)
    )


@router.post("/blocks/{block}/members/{unit}/leave")
async def leave(
    block: BlockId, unit: UnitId, body: LeaveBody, who: Caller, blocks: Blocks
) -> dict[str, Any]:
    return show_json(await blocks.leave(block, unit, body.after_year, who))


@router.post("/blocks/{block}/name")
async def rename(block: BlockId, body: RenameBody, who: Caller, blocks: Blocks) -> dict[str, Any]:
    return show_json(await blocks.rename(block, body.name, who))


@router.post("/blocks/{block}/leaders")
async def appoint(block: BlockId, body: LeadersBody, who: Caller, blocks: Blocks) -> dict[str, Any]:
    """The secretariat appoints the leaders of a year, with a reason."""
    return show_json(
        await blocks.appoint_leaders(block, body.year, body.head, body.deputy, body.reason, who)
    )


@router.post("/blocks/{block}/cycles", status_code=201)
async def start_block_cycle(
    request: Request, block: BlockId, body: CycleBody, who: Caller, blocks: Blocks
) -> Any:
    """Start the block's cycle of a year from its members and leaders of that year."""
    from .commands import bounded

    async def start() -> dict[str, Any]:
        handle = await blocks.start_cycle(
            block,
            body.year,
            ruleset=load_ruleset(body.ruleset) if body.ruleset is not None else None,
            score_sheet=load_score_sheet(body.score_sheet)
            if body.score_sheet is not None
            else None,
            deadlines=load_deadlines(body.deadlines) if body.deadlines is not None else None,
            actor=who,
        )
        return {"workflow_id": handle.id, "block": block, "year": body.year}

    return await bounded(
        request, start(), where=f"/cycles/{block}/{body.year}/state", request_id=None
    )


@router.get("/provinces/{province}/blocks")
async def province_blocks(province: Province, who: Caller, blocks: Blocks) -> list[str]:
    return await blocks.blocks_of(province)


@router.post("/provinces/{province}/years/{year}", status_code=202)
async def open_year(
    province: Province, year: ProvinceYear, body: YearBody, who: Caller, blocks: Blocks
) -> dict[str, Any]:
    """Open the province's year: every block's cycle starts (again: only the missing ones)."""
    handle, new = await blocks.open_year(
        province,
        year,
        ruleset=load_ruleset(body.ruleset),
        score_sheet=load_score_sheet(body.score_sheet),
        deadlines=load_deadlines(body.deadlines),
        actor=who,
    )
    return {"workflow_id": handle.id, "new": new}


@router.get("/provinces/{province}/years/{year}/progress")
async def year_progress(province: Province, year: ProvinceYear, who: Caller, blocks: Blocks) -> Any:
    return (await blocks.year_progress(province, year)).model_dump(mode="json")


@router.get("/provinces/{province}/years/{year}/proposals", response_model=None)
async def proposals(
    province: Province,
    year: ProvinceYear,
    who: Caller,
    blocks: Blocks,
    format: Annotated[str, Query(pattern="^(json|text)$")] = "json",
) -> Any:
    """The compiled list of proposals: JSON, or the Vietnamese document (`format=text`)."""
    p = await blocks.proposals(province, year)
    if p is None:
        raise DomainError("unknown_proposals", f"no list of proposals for {province} {year} yet")
    if format == "text":
        return PlainTextResponse(render_document(p))
    return p.model_dump(mode="json")
