"""A province from one workbook, on the real PostgreSQL: a wrong workbook writes nothing and
names its cells; corrected, it registers exactly its blocks; imported again, nothing changes.
Through the CLI (`thidua province template` / `import`)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from app.blocks import BlockService
from app.cli import app as cli
from app.province_setup import ProvinceSetup
from domain.province_book import SHEET
from domain.setup import Block, Member
from eventstore import EventStore

pytestmark = pytest.mark.db


def fill(template: Path, out: Path, rows: list[list[Any]]) -> Path:
    wb = load_workbook(template)
    ws = wb[SHEET]
    ws.delete_rows(2, ws.max_row)
    for r in rows:
        ws.append(r)
    wb.save(out)
    return out


async def stream_versions(store: EventStore, ids: list[str]) -> dict[str, int]:
    out = {}
    for bid in ids:
        out[bid] = len(await store.read_stream(f"block-{bid}"))
    return out


async def test_a_province_workbook_is_refused_cell_by_cell_then_registers_its_three_blocks(
    db_url: str,
    store: EventStore,
    pool: asyncpg.Pool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("THIDUA_HOME", str(tmp_path))
    tag = uuid.uuid4().hex[:6]
    province = f"Tỉnh thử {tag}"
    old, k1, k2, k3 = (f"{n}-{tag}" for n in ("cu", "k1", "k2", "k3"))
    # the record: a block of the province already holds `so-a-{tag}`
    service = BlockService(store, pool)
    await service.register(
        Block(
            id=old,
            name="Khối cũ",
            province=province,
            members=tuple(
                Member(id=f"{u}-{tag}", name=f"Đơn vị {u}") for u in ("so-a", "so-b", "so-c")
            ),
            head=f"so-a-{tag}",
            deputy=f"so-b-{tag}",
        )
    )

    runner = CliRunner()

    async def invoke(args: list[str], **kw: Any) -> Any:  # the CLI runs its own event loop
        return await asyncio.to_thread(runner.invoke, cli, args, **kw)

    template = tmp_path / "mau.xlsx"
    r = await invoke(["province", "template", str(template)])
    assert r.exit_code == 0, r.output
    headers = [c.value for c in load_workbook(template)[SHEET][1]]
    assert headers == [
        "Tỉnh, thành phố",
        "Mã khối",
        "Tên khối thi đua",
        "Mã đơn vị",
        "Tên đầy đủ của đơn vị",
        "Khối trưởng / Khối phó",
    ]

    def block(bid: str, name: str, units: list[str]) -> list[list[Any]]:
        marks = ["Khối trưởng", "Khối phó"] + [""] * (len(units) - 2)
        return [
            [province, bid, name, f"{u}-{tag}", f"Đơn vị {u}", m]
            for u, m in zip(units, marks, strict=True)
        ]

    good = [
        *block(k1, "Khối 1", ["d1", "d2", "d3"]),
        *block(k2, "Khối 2", ["e1", "e2", "e3", "e4"]),
        *block(k3, "Khối 3", ["f1", "f2", "f3", "f4"]),
    ]
    bad = [list(r) for r in good]
    bad[5][3] = f"so-a-{tag}"  # row 7: a unit of the block already registered
    bad[10][1] = bad[10][2] = None  # row 12: a row without its block
    wrong = fill(template, tmp_path / "sai.xlsx", bad)

    r = await invoke(["province", "import", str(wrong), "--year", "2019", "--yes"])
    assert r.exit_code == 1, r.output
    lines = [x.strip() for x in r.output.splitlines() if x.strip().startswith("Trang")]
    assert len(lines) == 2, r.output
    assert lines[0].startswith(
        f"Trang «Khối thi đua», dòng 7, cột D (Mã đơn vị): Đơn vị so-a-{tag} đã thuộc khối {old}"
    )
    assert lines[1].startswith(
        "Trang «Khối thi đua», dòng 12, cột C (Tên khối thi đua): Dòng này chưa ghi khối thi đua"
    )
    for bid in (k1, k2, k3):
        assert await store.read_stream(f"block-{bid}") == []

    right = fill(template, tmp_path / "dung.xlsx", good)
    r = await invoke(["province", "import", str(right), "--year", "2019"], input="n\n")
    assert r.exit_code == 1 and "Không ghi gì" in r.output, r.output
    for bid in (k1, k2, k3):
        assert await store.read_stream(f"block-{bid}") == []

    r = await invoke(["province", "import", str(right), "--year", "2019", "--yes"])
    assert r.exit_code == 0, r.output
    assert "Đã ghi 3 thay đổi" in r.output
    setup = ProvinceSetup(service)
    assert sorted(await service.blocks_of(province)) == sorted([old, k1, k2, k3])
    record = await setup.record(province)
    assert [m.id for m in record[k2].members_in(2019)] == [f"e{i}-{tag}" for i in range(1, 5)]
    assert record[k2].leaders_in(2019) == (f"e1-{tag}", f"e2-{tag}")
    before = await stream_versions(store, [old, k1, k2, k3])
    assert before == {old: 1, k1: 1, k2: 1, k3: 1}

    r = await invoke(["province", "import", str(right), "--year", "2019", "--yes"])
    assert r.exit_code == 0, r.output
    assert "Không có gì thay đổi" in r.output
    assert await stream_versions(store, [old, k1, k2, k3]) == before
