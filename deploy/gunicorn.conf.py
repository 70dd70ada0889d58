"""gunicorn settings for the intake and review apps, in the containers and the local stack.

Sizing (docs/deployment.md): nginx buffers every request body and every response, so a
worker is busy only while the app itself works (sealing a tip, a database round trip), never
while a client uploads or downloads. Synchronous workers suit that: measured on a 2-core machine,
they gave a 3-20 times better p99 than gthread workers, which wait on SQLite's write lock.
Rule of thumb: 2 x cores + 1 workers per instance, capped at 8; add instances (or machines)
rather than workers beyond that.
"""

from __future__ import annotations

import multiprocessing
import os

from form_service.logs import GUNICORN_LOGCONFIG

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
# The longest legitimate request seals a 25 MB upload already buffered by nginx: a few
# seconds at most. Anything slower is stuck and gets restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 1000
max_requests_jitter = 100
# Never open a database connection before the fork: a SQLite or PostgreSQL connection shared by
# forked workers corrupts its state. Each worker loads the app (and connects) itself.
preload_app = False

# No access log: it would carry client addresses and date every tip. Errors go to stderr
# without them, without timestamps and without form paths (form_service/logs.py); gunicorn
# logs the peer address of a malformed request only at debug level.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
logconfig_dict = GUNICORN_LOGCONFIG

# Only nginx may set X-Forwarded-Proto (gunicorn) and X-Forwarded-For (the app's ProxyFix,
# trusting exactly one proxy). Locally nginx is 127.0.0.1; in compose the app port is reachable
# only on the internal network, so the web container's address is set there.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Heartbeat files in memory rather than on a container's overlay filesystem.
# (S108: /dev/shm is the memory filesystem gunicorn's docs recommend for exactly this.)
if os.path.isdir("/dev/shm"):  # noqa: S108  # nosec B108
    worker_tmp_dir = "/dev/shm"  # noqa: S108  # nosec B108

# No runtime control socket (gunicorn 24+): nothing manages workers at run time, and several
# instances on one machine would otherwise share its default path.
control_socket_disable = True


def on_starting(server: object) -> None:
    """Refuse to start (exit 4, one line) when the app could only fail later with 500s.

    Runs in the master before any worker forks: an empty secret, a key that cannot be
    unlocked, a database at another schema or catalogs never compiled stop the service here,
    where the operator sees the reason, not in front of tipsters (form_service/cli/startup.py).
    """
    from form_service.cli.startup import check_or_exit

    uri = str(getattr(getattr(server, "app", None), "app_uri", "") or "")
    for app in ("intake", "review"):
        if uri.startswith(f"form_service.{app}"):
            # The desk's master also unlocks the key once, with core dumps and ptrace off,
            # and its forked workers inherit both (form_service/review/keys.py).
            check_or_exit(app, serving=True)
