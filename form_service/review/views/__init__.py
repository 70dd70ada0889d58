"""The desk's routes, in one blueprint: sign-in (auth), tips (inbox and work), admin pages.

Each module adds its routes to `bp`; importing them registers the routes (review.create_app).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from werkzeug.routing import IntegerConverter, Map

from form_service.models.base import MAX_ROW_ID

bp = Blueprint("review", __name__)
# Far more pages than any inbox or audit log has; a larger number would overflow the query.
MAX_PAGE = 1_000_000


class RowIdConverter(IntegerConverter):
    """Match a row number the database can hold; a larger one is simply not found (404)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        """Accept 1 to MAX_ROW_ID only."""
        super().__init__(url_map, min=1, max=MAX_ROW_ID)


def page_number() -> int:
    """Return the page asked for in the query string (1 if none); 404 for a page beyond reach."""
    page = request.args.get("page", 1, type=int) or 1
    if page > MAX_PAGE:
        abort(404)
    return max(1, page)
