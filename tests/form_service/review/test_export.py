"""Exported cells are safe to open in a spreadsheet: formulas neutralised, the rest kept."""

from __future__ import annotations

import csv
import io
import json

import pytest

from form_service.review import export


@pytest.mark.parametrize(
    "cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\0x", '=HYPERLINK("http://x")']
)
def test_csv_formula_cells_are_neutralised(cell: str) -> None:
    rows = [{"message": cell, cell: "value"}]
    parsed = list(csv.reader(io.StringIO(export.to_csv(rows), newline="")))
    for value in parsed[0] + parsed[1]:
        assert not value.startswith(export.FORMULA_STARTS)
    assert parsed[1][0] == "'" + cell
    assert json.loads(export.to_json(rows))[0]["message"] == "'" + cell


def test_ordinary_cells_are_left_alone() -> None:
    rows = [{"message": "Hello, 世界 = fine", "labels": ["a", "b"]}]
    parsed = list(csv.reader(io.StringIO(export.to_csv(rows), newline="")))
    assert parsed == [["message", "labels"], ["Hello, 世界 = fine", "a, b"]]


def test_every_csv_cell_is_quoted() -> None:
    text = export.to_csv([{"tip_id": 7, "message": "plain"}])
    for line in text.splitlines():
        assert all(cell.startswith('"') and cell.endswith('"') for cell in line.split(","))


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_a_formula_after_any_separator_never_starts_a_cell(separator: str) -> None:
    # A spreadsheet set to ";" (much of Europe) splits "x;=2+3" into "x" and "=2+3".
    rows = [{"message": f"x{separator}=2+3", "contact": f"a{separator}@SUM(1)"}]
    for text in (export.to_csv(rows), "\n".join(export.to_json(rows).splitlines())):
        for line in text.splitlines():
            for piece in line.split(separator):
                assert not piece.strip('"').startswith(("=", "+", "-", "@")), piece
