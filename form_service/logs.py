"""Log configuration of the service's processes: no time of day, no public form paths.

A log line written while a tip is posted dates the tip, whatever it says. So no line the
service or gunicorn writes carries a timestamp, and any message naming a path under /form/
or /check/ (the tip form, the tipster's follow-up pages) has the path replaced, so even a
log collector that stamps each line on arrival learns only that some public page failed.
No line ever holds a client address or user agent: gunicorn's access log is off
(deploy/gunicorn.conf.py) and the apps log none.
"""

from __future__ import annotations

import logging
import re
from typing import Any

PLAIN_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Any spelling of a public form path: /form/..., //check..., /form%2F...
PUBLIC_PATH = re.compile(r"/+(?:form|check)(?:[/?%][^\s\"']*|(?=[\s\"']|$))", re.IGNORECASE)
HIDDEN_PATH = "<public form path>"


class HidePublicPaths(logging.Filter):
    """Replace public form paths in a record's message, keeping the rest of the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record (message and traceback) in place; never drop it."""
        message = record.getMessage()
        if PUBLIC_PATH.search(message):
            record.msg = PUBLIC_PATH.sub(HIDDEN_PATH, message)
            record.args = ()
        if record.exc_info and not record.exc_text:
            # The formatter prints exc_text when set: an exception's text may name the path.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = PUBLIC_PATH.sub(HIDDEN_PATH, record.exc_text)
        return True


def plain_handler(stream: Any = None) -> logging.Handler:
    """Return a stderr handler writing lines without time and without public paths."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    handler.addFilter(HidePublicPaths())
    return handler


# gunicorn's `logconfig_dict` (deploy/gunicorn.conf.py): its error log without timestamps or
# form paths (it would say "Error handling request POST /form/en/"), its access log nowhere.
GUNICORN_LOGCONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"hide_public_paths": {"()": HidePublicPaths}},
    "formatters": {"plain": {"format": PLAIN_FORMAT}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["hide_public_paths"],
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
    "root": {"level": "WARNING", "handlers": ["stderr"]},
}
