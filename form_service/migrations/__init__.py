"""Alembic migrations of the tip service's schema (intake first, then the review desk)."""
