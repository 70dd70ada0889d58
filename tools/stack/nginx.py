"""Render deploy/nginx/ into an nginx prefix folder, as the web image's entrypoint does.

The templates hold `${NGINX_*}` placeholders and nothing else is substituted, so nginx's own
`$variables` pass through untouched. In the `web` image, deploy/nginx/docker-entrypoint.sh
does the same with `envsubst` restricted to the NGINX_* variables; this module is the local
stack's equivalent, and it refuses a template whose placeholder has no value.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

NGINX_DIR = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
PLACEHOLDER = re.compile(r"\$\{(NGINX_[A-Z0-9_]+)\}")
# Files rendered with placeholders; everything else in deploy/nginx/ is copied as it is.
TEMPLATES = ("nginx.conf.template", "conf.d/tls.conf", "conf.d/public-site.conf")
COPIED = (
    "conf.d/security-headers.conf",
    "conf.d/hsts.conf",
    "conf.d/proxy.conf",
    "ffdhe2048.pem",
    "errors",
)
# The optional onion listener, rendered into extra/onion/ only when NGINX_ONION_LISTEN is set.
ONION_TEMPLATE = "onion.conf.template"


def placeholders() -> set[str]:
    """Return every placeholder name the templates use."""
    names: set[str] = set()
    for template in (*TEMPLATES, ONION_TEMPLATE):
        names.update(PLACEHOLDER.findall((NGINX_DIR / template).read_text(encoding="utf-8")))
    return names


def render_text(text: str, values: Mapping[str, str]) -> str:
    """Substitute the placeholders of one template, failing on any without a value."""
    missing = sorted({name for name in PLACEHOLDER.findall(text) if name not in values})
    if missing:
        raise KeyError(f"no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def render_prefix(prefix: Path, values: Mapping[str, str]) -> Path:
    """Write an nginx prefix (config, includes, error pages, temp folders); return the conf."""
    for folder in (
        "conf.d",
        "extra/public",
        "extra/desk",
        "extra/tls",
        "extra/onion",
        "logs",
        "tmp",
    ):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source, target = NGINX_DIR / name, prefix / name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, target)
    for template in TEMPLATES:
        text = render_text((NGINX_DIR / template).read_text(encoding="utf-8"), values)
        target = prefix / template.removesuffix(".template")
        target.write_text(text, encoding="utf-8")
    rsa = prefix / "extra" / "tls" / "rsa.conf"
    rsa.unlink(missing_ok=True)
    if values.get("NGINX_TLS_RSA_CERT") and values.get("NGINX_TLS_RSA_KEY"):
        # The optional second certificate, as the entrypoint writes it (tls.conf includes it).
        rsa.write_text(
            f"ssl_certificate {values['NGINX_TLS_RSA_CERT']};\n"
            f"ssl_certificate_key {values['NGINX_TLS_RSA_KEY']};\n",
            encoding="utf-8",
        )
    render_onion(prefix, values)
    return prefix / "nginx.conf"


def render_onion(prefix: Path, values: Mapping[str, str]) -> None:
    """Write the onion listener's server block when NGINX_ONION_LISTEN is set, else remove it."""
    server = prefix / "extra" / "onion" / "server.conf"
    server.unlink(missing_ok=True)
    listen = values.get("NGINX_ONION_LISTEN", "")
    if not listen:
        return
    text = render_text((NGINX_DIR / ONION_TEMPLATE).read_text(encoding="utf-8"), values)
    server.write_text(text, encoding="utf-8")
    if listen.startswith("unix:"):
        # A socket an nginx left when it was killed would make this one's bind fail.
        Path(listen.removeprefix("unix:")).unlink(missing_ok=True)
