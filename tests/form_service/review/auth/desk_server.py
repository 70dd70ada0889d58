"""Run one desk process for the cross-process tests; prints its port, then serves forever.

Environment: DESK_TEST_DB_URL, DESK_TEST_PRIVATE_KEY (base64), DESK_TEST_RATELIMIT_URL.
"""

from __future__ import annotations

import base64
import os
import sys

from nacl.public import PrivateKey
from werkzeug.serving import make_server

from form_service.review import create_app
from form_service.settings import ReviewSettings


def main() -> None:
    """Build the desk from the test environment and serve it on a free loopback port."""
    key = PrivateKey(base64.b64decode(os.environ["DESK_TEST_PRIVATE_KEY"]))
    settings = ReviewSettings(
        secret_key="review-secret-" + "r" * 32,
        desk_public_key=base64.b64encode(bytes(key.public_key)).decode("ascii"),
        database_url=os.environ["DESK_TEST_DB_URL"],
        environment="development",
        cookie_secure=False,
        ratelimit_storage_url=os.environ["DESK_TEST_RATELIMIT_URL"],
    )
    app = create_app(settings, key)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    sys.stdout.write(f"{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
