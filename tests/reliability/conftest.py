"""The reliability suite runs on the tip service's own fixture chain (both databases).

The fixtures live in tests/form_service/conftest.py; importing them here makes them visible
to this folder without a second chain.
"""

from __future__ import annotations

# Re-exported fixtures: pytest finds fixtures by name in a conftest's namespace.
from tests.form_service.conftest import (  # noqa: F401
    client,
    clock,
    compiled_catalogs,
    db_url,
    desk_private_key,
    desk_public_key,
    intake_app,
    migrated_postgres,
    settings,
)
