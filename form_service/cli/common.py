"""What every command needs: settings from the environment and a database session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import click
from sqlalchemy.orm import Session

from form_service.db import make_engine, make_session_factory
from form_service.settings import Settings, SettingsError

AnySettings = TypeVar("AnySettings", bound=Settings)
# Who the audit log names for what the command line does.
CLI_ACTOR = "cli"


def load_settings(kind: type[AnySettings]) -> AnySettings:
    """Read settings of one kind from the environment, as a command-line error if wrong."""
    try:
        return kind.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def database(settings: Settings) -> Iterator[Session]:
    """Open a session on the database the settings name, and close it after."""
    engine = make_engine(settings)
    try:
        with make_session_factory(engine, settings)() as session:
            yield session
    finally:
        engine.dispose()
