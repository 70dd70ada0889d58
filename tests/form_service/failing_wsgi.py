"""A WSGI app that fails on every request, so gunicorn itself logs the error."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Raise, as a bug escaping the app would."""
    raise RuntimeError("MARKER-FAILURE " + environ.get("PATH_INFO", ""))
