"""The desk's routes, in one blueprint: sign-in (auth), tips (inbox and work), admin pages.

Each module adds its routes to `bp`; importing them registers the routes (review.create_app).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__)
