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
