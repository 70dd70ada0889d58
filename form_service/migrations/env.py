"""Run Alembic migrations against the database named by the service's Settings."""

from __future__ import annotations

from alembic import context

from form_service.db import make_engine

# The models package imports every table module, so autogenerate sees the whole schema.
from form_service.models import Base
from form_service.settings import Settings

config = context.config
settings = config.attributes.get("settings") or Settings.from_env()


def run_migrations_online() -> None:
    """Migrate through a real connection (SQLite pragmas applied as at run time)."""
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite alters a table by copying it and dropping the original; with foreign
                # keys on, dropping `staff` would cascade into its sessions and assignments.
                # The pragma only takes effect outside a transaction, so it is set first.
                connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
                connection.commit()  # end the transaction SQLAlchemy began for the pragma
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                # SQLite alters tables by copying them; batch mode does that for us.
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                connection.commit()
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                connection.commit()
                if broken:
                    raise RuntimeError(f"the migration broke {len(broken)} foreign key(s)")
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `db upgrade`")
run_migrations_online()
