"""Exports of a tip selection as CSV and JSON, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# A spreadsheet reads a cell starting with any of these as a formula (or strips them first);
# OWASP "CSV Injection" lists =, +, -, @, tab and carriage return; NUL truncates in some readers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
# A spreadsheet set to another separator (";" in much of Europe, tab, "|") splits a cell
# wherever one occurs, whatever the quoting: "x;=2+3" then opens as "x" and a formula. So a
# separator or line break directly followed by a formula start gets the apostrophe too.
_INNER_FORMULA = re.compile(r"([,;|\t\r\n])(?=[=+\-@\t\r\0])")


def neutralise(value: Any) -> str:
    """Return a cell value as text that no spreadsheet will evaluate as a formula."""
    text = "" if value is None else str(value)
    # A leading apostrophe makes the cell literal text in Excel, LibreOffice and Sheets.
    text = _INNER_FORMULA.sub(r"\1'", text)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _flatten(row: Mapping[str, Any]) -> dict[str, str]:
    """Turn one exported row into neutralised text cells (lists joined with ', ')."""
    cells: dict[str, str] = {}
    for key, value in row.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(item) for item in value)
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        cells[neutralise(key)] = neutralise(value)
    return cells


def columns_of(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return the union of the rows' keys in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(neutralise(key), None)
    return list(seen)


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Write rows as CSV text with a header line; every cell is neutralised."""
    cells = [_flatten(row) for row in rows]
    buffer = io.StringIO()
    # Every cell quoted: a reader never has to guess where a cell holding a separator ends.
    writer = csv.DictWriter(
        buffer,
        fieldnames=columns_of(cells),
        restval="",
        lineterminator="\r\n",
        quoting=csv.QUOTE_ALL,
    )
    writer.writeheader()
    writer.writerows(cells)
    return buffer.getvalue()


def to_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """Write rows as a JSON array of objects; string cells get the same neutralisation as CSV."""
    return json.dumps([_flatten(row) for row in rows], ensure_ascii=False, indent=2)
