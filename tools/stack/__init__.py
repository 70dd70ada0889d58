"""The production topology from local processes: `python -m tools.stack start|stop|status`.

nginx (the system package) with deploy/nginx/ rendered for loopback and a local certificate
authority, its plain-HTTP onion listener included (where Tor's daemon would connect), two
gunicorn `intake` instances and one `review` instance with deploy/gunicorn.conf.py, against
the PostgreSQL and Redis servers of this machine; each app connects as its own database role
and to its own Redis database, as in docker-compose.yml.
Everything it writes lives in the ignored folder var/stack/; see docs/deployment.md.

STACK_PORT_OFFSET (default 0) moves every port, the database and role names and the Redis
databases, so two checkouts can run their stacks side by side.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "var" / "stack"
HOST = "127.0.0.1"
OFFSET = int(os.environ.get("STACK_PORT_OFFSET", "0"))
HTTP_PORT, HTTPS_PORT, DESK_PORT = 8080 + OFFSET, 8443 + OFFSET, 8444 + OFFSET
# The onion listener (plain HTTP, as Tor's daemon reaches it); STACK_ONION_LISTEN="" turns it off.
ONION_LISTEN = os.environ.get("STACK_ONION_LISTEN", f"{HOST}:{8081 + OFFSET}")
INTAKE_PORTS = (8101 + OFFSET, 8102 + OFFSET)
REVIEW_PORT = 8201 + OFFSET
