"""Run Alembic migrations against the database named by the service's Settings."""

from __future__ import annotations

import importlib
import importlib.util

from alembic import context

from form_service.db import Base, make_engine
from form_service.settings import Settings

# Import every module that declares tables so autogenerate sees the whole schema;
# the desk's modules arrive in a later issue and may not exist yet.
importlib.import_module("form_service.models")
for _module in ("form_service.staff", "form_service.audit", "form_service.desk_models"):
    if importlib.util.find_spec(_module) is not None:
        importlib.import_module(_module)

config = context.config
settings = config.attributes.get("settings") or Settings.from_env()


def run_migrations_online() -> None:
    """Migrate through a real connection (SQLite pragmas applied as at run time)."""
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                # SQLite alters tables by copying them; batch mode does that for us.
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `db upgrade`")
run_migrations_online()
