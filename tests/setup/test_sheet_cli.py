"""`thidua sheet template` and `thidua sheet import` on a real PostgreSQL: the template filled
with the reference sheet imports to the reference sheet; a wrong cell is named and nothing
saved; a confirmed import saves a version, an unconfirmed one nothing."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from app.cli import app as cli

from .test_sheets import REFERENCE, filled_template, reference_json


def test_template_import_and_save(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("THIDUA_HOME", str(tmp_path))
    runner = CliRunner()
    empty = tmp_path / "mau.xlsx"
    r = runner.invoke(cli, ["sheet", "template", str(empty)])
    assert r.exit_code == 0, r.output
    ws = load_workbook(empty)["Bảng điểm"]
    assert ws["A5"].value == "Mã nội dung" and ws["D5"].value == "Điểm tối đa"

    filled = tmp_path / "bang-diem.xlsx"
    filled.write_bytes(filled_template(reference_json()))
    r = runner.invoke(cli, ["sheet", "import", str(filled), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == reference_json()

    from_json = tmp_path / "from-json.xlsx"
    r = runner.invoke(cli, ["sheet", "template", str(from_json), "--from", str(REFERENCE)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["sheet", "import", str(from_json), "--json"])
    assert json.loads(r.stdout) == reference_json()

    wb = load_workbook(io.BytesIO(filled.read_bytes()))
    wb["Bảng điểm"]["A7"] = "Nội dung 2"
    bad = tmp_path / "sai.xlsx"
    wb.save(bad)
    province = f"Tỉnh {uuid.uuid4().hex[:6]}"
    r = runner.invoke(
        cli, ["sheet", "import", str(bad), "--province", province, "--year", "2018", "--yes"]
    )
    assert r.exit_code == 1
    assert 'Trang "Bảng điểm", dòng 7, cột A (Mã nội dung): Mã chỉ gồm' in r.output
    assert "Nội dung 2" not in r.output

    r = runner.invoke(
        cli, ["sheet", "import", str(filled), "--province", province, "--year", "2018"], input="n\n"
    )
    assert r.exit_code == 1 and "Không lưu gì" in r.output
    r = runner.invoke(cli, ["sheet", "show", province, "2018"])
    assert r.exit_code == 1  # nothing saved
    r = runner.invoke(
        cli, ["sheet", "import", str(filled), "--province", province, "--year", "2018"], input="y\n"
    )
    assert r.exit_code == 0 and "version 1" in r.output, r.output
    r = runner.invoke(
        cli, ["sheet", "import", str(filled), "--province", province, "--year", "2018", "--yes"]
    )
    assert r.exit_code == 0 and "unchanged" in r.output, r.output
    r = runner.invoke(cli, ["sheet", "show", province, "2018"])
    assert r.exit_code == 0 and json.loads(r.stdout) == {**reference_json(), "version": 1}


def test_year_open_reads_a_filled_template_and_names_its_wrong_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THIDUA_HOME", str(tmp_path))
    wb = load_workbook(io.BytesIO(filled_template(reference_json())))
    wb["Bảng điểm"]["D8"] = -5
    bad = tmp_path / "sai.xlsx"
    wb.save(bad)
    r = CliRunner().invoke(
        cli,
        [
            "year",
            "open",
            "Kiên Giang",
            "2018",
            "--ruleset",
            str(REFERENCE),
            "--sheet",
            str(bad),
            "--deadlines",
            str(REFERENCE),
        ],
    )
    assert r.exit_code == 1, r.output
    assert 'Trang "Bảng điểm", dòng 8, cột D (Điểm tối đa): Điểm tối đa phải lớn hơn 0' in r.output
