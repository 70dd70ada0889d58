"""nginx in front of everything: headers on all responses, errors, TLS, caching, the desk's wall."""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.system.conftest import Client, Response, Stack, access_log_lines
from tools.stack import nginx as nginx_config
from tools.stack import prepare as stack_setup
from tools.stack import run as stack_runner

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.xdist_group("stack")

TWO_YEARS = 2 * 365 * 24 * 3600
FORM_LIMIT = int(stack_setup.form_max_body())
# (where, path on that server, method, declared body length, expected status)
STATIC_CASES = [
    ("public", "/en/", "GET", 0, 200),
    ("public", "/en/no-such-page/", "GET", 0, 404),
    ("public", "/en/", "POST", 100_000, 413),
    ("public", "/__test__/500", "GET", 0, 500),
    ("public", "/__test__/502", "GET", 0, 502),
    ("public", "/theme/css/site.css", "GET", 0, 200),
    ("http", "/en/", "GET", 0, 301),
]
FORM_CASES = [
    ("public", "/form/en/", "GET", 0, 200),
    ("public", "/form/en/no-such-page", "GET", 0, 404),
    ("public", "/form/en/", "POST", FORM_LIMIT + 1, 413),
    ("public", "/form/__test__/500", "GET", 0, 500),
]
DESK_CASES = [
    ("desk", "/staff/sign-in", "GET", 0, 200),
    ("desk", "/no-such-page", "GET", 0, 404),
    ("desk", "/staff/sign-in", "POST", 300_000, 413),
    ("desk", "/staff/__test__/500", "GET", 0, 500),
]


def send(stack: Stack, where: str, path: str, method: str, length: int) -> Response:
    """Send a request; a POST only declares its length, as nginx answers before the body."""
    base = {"public": stack.public, "desk": stack.desk, "http": stack.http, "onion": stack.onion}
    if method == "GET":
        return Client(stack.ca).get(base[where] + path)
    parts = urlsplit(base[where])
    connection: http.client.HTTPConnection
    if parts.scheme == "http":
        connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    else:
        context = ssl.create_default_context(cafile=str(stack.ca))
        connection = http.client.HTTPSConnection(parts.netloc, context=context, timeout=30)
    try:
        connection.putrequest(method, path)
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        raw = connection.getresponse()
        headers: dict[str, list[str]] = {}
        for name, value in raw.getheaders():
            headers.setdefault(name.lower(), []).append(value)
        return Response(raw.status, headers, raw.read())
    finally:
        connection.close()


def parse_csp(value: str) -> dict[str, list[str]]:
    """Split a Content-Security-Policy into directive -> sources."""
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            assert words[0] not in directives, f"{words[0]} repeated"
            directives[words[0]] = words[1:]
    return directives


def assert_security_headers(response: Response, *, hsts: bool = True) -> None:
    """Check every header the issue lists, each sent exactly once (HSTS unless told not)."""
    csp = parse_csp(response.header("Content-Security-Policy") or "")
    assert csp["default-src"] == ["'none'"]
    for directive in ("object-src", "base-uri", "frame-ancestors"):
        assert csp[directive] == ["'none'"], directive
    assert csp["form-action"] == ["'self'"]
    for directive, sources in csp.items():
        assert set(sources) <= {"'self'", "'none'"}, f"{directive} {sources}"
    if hsts:
        policy = [
            part.strip() for part in (response.header("Strict-Transport-Security") or "").split(";")
        ]
        assert int(policy[0].removeprefix("max-age=")) >= TWO_YEARS
        assert "includeSubDomains" in policy
    else:
        assert response.header("Strict-Transport-Security") is None
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.header("Referrer-Policy") == "same-origin"
    permissions = response.header("Permissions-Policy") or ""
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in permissions
    assert response.header("Cross-Origin-Opener-Policy") == "same-origin"
    assert response.header("Cross-Origin-Resource-Policy") == "same-origin"
    assert response.header("Server") == "nginx", "no version banner"


@pytest.mark.parametrize(("where", "path", "method", "length", "status"), STATIC_CASES)
def test_static_responses_carry_every_security_header(
    stack: Stack, where: str, path: str, method: str, length: int, status: int
) -> None:
    response = send(stack, where, path, method, length)
    assert response.status == status
    assert_security_headers(response)


@pytest.mark.parametrize(("where", "path", "method", "length", "status"), FORM_CASES)
def test_form_responses_carry_every_security_header(
    stack: Stack, where: str, path: str, method: str, length: int, status: int
) -> None:
    response = send(stack, where, path, method, length)
    assert response.status == status
    assert_security_headers(response)


@pytest.mark.parametrize(("where", "path", "method", "length", "status"), DESK_CASES)
def test_desk_responses_carry_every_security_header(
    stack: Stack, where: str, path: str, method: str, length: int, status: int
) -> None:
    response = send(stack, where, path, method, length)
    assert response.status == status
    assert_security_headers(response)


def test_http_redirects_to_the_https_origin(client: Client, stack: Stack) -> None:
    response = client.get(stack.http + "/ja/privacy/?a=1")
    assert response.status == 301
    assert response.header("Location") == stack.public + "/ja/privacy/?a=1"


def test_too_large_upload_gets_our_friendly_page(stack: Stack) -> None:
    response = send(stack, "public", "/form/ja/", "POST", FORM_LIMIT + 1)
    assert response.status == 413
    assert "Too large to send" in response.text
    assert "25&nbsp;MB" in response.text
    assert 'lang="ja"' in response.text


def test_an_upload_at_the_limit_reaches_the_app(stack: Stack) -> None:
    # Declared at exactly the limit: nginx passes it on (the app then waits for the body,
    # which never comes, so only the status line matters: anything but nginx's 413).
    parts = urlsplit(stack.public)
    context = ssl.create_default_context(cafile=str(stack.ca))
    with (
        socket.create_connection((parts.hostname, parts.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=parts.hostname) as tls,
    ):
        tls.sendall(
            f"POST /form/en/ HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {FORM_LIMIT}\r\n\r\n".encode()
            + b"x" * 1024
        )
        tls.settimeout(2)
        try:
            answer = tls.recv(64)
        except TimeoutError:
            answer = b""  # nginx is still buffering the body, as it should
    assert b" 413 " not in answer


def test_slow_uploads_do_not_hold_gunicorn_workers(stack: Stack) -> None:
    parts = urlsplit(stack.public)
    context = ssl.create_default_context(cafile=str(stack.ca))
    uploads = []
    try:
        # More unfinished uploads than the two instances have workers (2 x 2).
        for _ in range(6):
            raw = socket.create_connection((parts.hostname, parts.port), timeout=10)
            tls = context.wrap_socket(raw, server_hostname=parts.hostname)
            uploads.append(tls)
            tls.sendall(
                f"POST /form/en/ HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                "Content-Length: 100000\r\n\r\n".encode()
                + b"x" * 1000
            )
        # Were nginx streaming those bodies, every sync worker would sit waiting for the rest,
        # and these requests straight to the instances would time out.
        for base in stack.intake:
            for _ in range(3):
                assert Client(stack.ca, timeout=5).get(f"{base}/form/en/").status == 200
    finally:
        for tls in uploads:
            tls.close()


def test_a_real_oversized_body_gets_the_413_page_not_a_reset(stack: Stack) -> None:
    parts = urlsplit(stack.public)
    context = ssl.create_default_context(cafile=str(stack.ca))
    connection = http.client.HTTPSConnection(parts.netloc, context=context, timeout=60)
    body = b"--x\r\n" + b"a" * (FORM_LIMIT + 1024) + b"\r\n--x--\r\n"
    try:
        connection.request(
            "POST",
            "/form/en/",
            body=body,
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        response = connection.getresponse()
        assert response.status == 413
        assert b"Too large to send" in response.read()
    finally:
        connection.close()


def test_the_404_page_is_in_the_language_of_the_address(client: Client, stack: Stack) -> None:
    html_lang = {"en": "en", "ja": "ja", "ko": "ko", "zh-hans": "zh-Hans"}
    for lang, code in html_lang.items():
        response = client.get(f"{stack.public}/{lang}/no-such-page/")
        assert response.status == 404
        assert f'<html lang="{code}"' in response.text, lang


def test_server_errors_get_our_page(client: Client, stack: Stack) -> None:
    for path in ("/__test__/500", "/__test__/502"):
        response = client.get(stack.public + path)
        assert "Temporarily unavailable" in response.text, path


def test_the_desk_is_not_reachable_through_the_public_server_block(
    client: Client, stack: Stack
) -> None:
    for path in (
        "/staff/",
        "/staff/sign-in",
        "/staff/site.css",
        "/form/../staff/sign-in",
        "/form/%2e%2e/staff/sign-in",
        "/STAFF/sign-in",
    ):
        response = client.get(stack.public + path)
        assert response.status == 404, path
        assert "desk_session" not in str(response.headers), path
    # Naming the desk's host does not help either: the listener decides, not the Host header.
    response = client.get(stack.public + "/staff/sign-in", Host=urlsplit(stack.desk).netloc)
    assert response.status == 404


def test_the_desk_answers_on_its_own_listener(client: Client, stack: Stack) -> None:
    response = client.get(stack.desk + "/staff/sign-in")
    assert response.status == 200
    assert 'name="password"' in response.text
    assert any(c.startswith("desk_session=") for c in response.headers.get("set-cookie", []))


def test_tls_follows_the_intermediate_profile(stack: Stack) -> None:
    parts = urlsplit(stack.public)

    def handshake(context: ssl.SSLContext) -> str | None:
        try:
            with (
                socket.create_connection((parts.hostname, parts.port), timeout=5) as raw,
                context.wrap_socket(raw, server_hostname=parts.hostname) as tls,
            ):
                return tls.version()
        except (ssl.SSLError, ConnectionResetError):
            return None

    def context(maximum: ssl.TLSVersion, ciphers: str | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(stack.ca))
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        with warnings.catch_warnings():
            # Offering TLS 1.1 is deprecated, which is the point: the server must refuse it.
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.maximum_version = maximum
        # Level 0 lets this client offer what old clients offer; the server must refuse.
        ctx.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
        return ctx

    assert handshake(context(ssl.TLSVersion.TLSv1_3)) == "TLSv1.3"
    assert handshake(context(ssl.TLSVersion.TLSv1_2)) == "TLSv1.2"
    assert handshake(context(ssl.TLSVersion.TLSv1_1)) is None
    assert handshake(context(ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA")) is None
    assert handshake(context(ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256")) == "TLSv1.2"


def test_both_certificates_are_served_ecdsa_and_rsa(stack: Stack) -> None:
    parts = urlsplit(stack.public)

    def served_certificate(ciphers: str) -> bytes | None:
        ctx = ssl.create_default_context(cafile=str(stack.ca))
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(ciphers)
        with (
            socket.create_connection((parts.hostname, parts.port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname=parts.hostname) as tls,
        ):
            return tls.getpeercert(binary_form=True)

    def on_disk(name: str) -> bytes:
        return ssl.PEM_cert_to_DER_cert((stack.ca.parent / name).read_text())

    # A TLS 1.2 client that offers only one key type's suites gets that key type's certificate.
    assert served_certificate("ECDHE-ECDSA-AES128-GCM-SHA256") == on_disk("cert.pem")
    assert served_certificate("ECDHE-RSA-AES128-GCM-SHA256") == on_disk("rsa-cert.pem")


def test_static_files_are_served_precompressed_and_pages_are_not(
    client: Client, stack: Stack
) -> None:
    css = client.get(stack.public + "/theme/css/site.css", **{"Accept-Encoding": "gzip"})
    assert css.header("Content-Encoding") == "gzip"
    assert css.header("Vary") == "Accept-Encoding"
    page = client.get(stack.public + "/en/", **{"Accept-Encoding": "gzip"})
    assert page.header("Content-Encoding") == "gzip"
    # Dynamic pages hold a CSRF token next to reflected input: never compressed (BREACH).
    form = client.get(stack.public + "/form/en/", **{"Accept-Encoding": "gzip"})
    assert form.header("Content-Encoding") is None


def test_fingerprinted_theme_assets_are_cached_for_a_year(client: Client, stack: Stack) -> None:
    versioned = client.get(stack.public + "/theme/css/site.css?v=0123abcd")
    assert versioned.header("Cache-Control") == "public, max-age=31536000, immutable"
    plain = client.get(stack.public + "/theme/css/site.css")
    assert "immutable" not in (plain.header("Cache-Control") or "")
    form = client.get(stack.public + "/form/en/")
    assert form.header("Cache-Control") == "no-store"


def test_no_onion_location_unless_configured(client: Client, stack: Stack) -> None:
    assert client.get(stack.public + "/en/").header("Onion-Location") is None


def test_onion_location_when_configured(stack: Stack, tmp_path: Path) -> None:
    onion = "http://abductioninfoexampleonionaddressxxxxxxxxxxxxxxxxxxxxxx.onion"
    values = {
        **stack_runner.nginx_values(),
        "NGINX_ONION_ORIGIN": onion,
        "NGINX_HTTP_LISTEN": "127.0.0.1:18080",
        "NGINX_HTTPS_LISTEN": "127.0.0.1:18443",
        "NGINX_DESK_LISTEN": "127.0.0.1:18444",
        "NGINX_ONION_LISTEN": "127.0.0.1:18081",
        "NGINX_ERROR_LOG": "stderr",
    }
    conf = nginx_config.render_prefix(tmp_path, values)
    command = ["nginx", "-p", f"{tmp_path}/", "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
    with (tmp_path / "nginx.log").open("wb") as log:
        nginx = subprocess.Popen(command, stderr=log)
    try:
        client = Client(stack.ca)
        for _ in range(100):
            try:
                response = client.get("https://127.0.0.1:18443/ja/")
                break
            except ConnectionRefusedError:
                time.sleep(0.1)
        assert response.header("Onion-Location") == onion + "/ja/"
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)


def test_our_error_pages_are_valid_html(vnu_errors: Any) -> None:
    pages = sorted((ROOT / "deploy" / "nginx" / "errors").glob("*.html"))
    assert len(pages) == 3
    assert vnu_errors(pages) == []


def test_our_error_pages_pass_axe(stack: Stack, browser: Any, axe_violations: Any) -> None:
    # JavaScript on for axe itself (evaluated by Playwright); the pages have none.
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        for url in (stack.public + "/__test__/500", stack.desk + "/no-such-page"):
            page.goto(url)
            assert page.locator("main h1").count() == 1, url
            assert axe_violations(page) == [], url
    finally:
        context.close()


def test_the_desk_gets_the_fingerprinted_stylesheet_long_cached_and_precompressed(
    client: Client, stack: Stack
) -> None:
    page = client.get(stack.desk + "/staff/sign-in").text
    href = page.split('<link rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    assert href.startswith("/theme/css/site.css?v=")
    css = client.get(stack.desk + href, **{"Accept-Encoding": "gzip"})
    assert css.status == 200
    assert css.header("content-encoding") == "gzip"
    assert css.header("cache-control") == "public, max-age=31536000, immutable"


def test_the_stack_serves_a_site_built_for_its_own_origin(client: Client, stack: Stack) -> None:
    page = client.get(stack.public + "/ja/international-recognition/").text
    assert f'<link rel="canonical" href="{stack.public}/ja/' in page
    assert f'hreflang="ko" href="{stack.public}/ko/' in page
    assert "127.0.0.1:8000" not in page
    robots = client.get(stack.public + "/robots.txt").text
    assert f"Sitemap: {stack.public}/sitemap.xml" in robots
    sitemap = client.get(stack.public + "/sitemap.xml").text
    assert f"<loc>{stack.public}/</loc>" in sitemap
    assert "127.0.0.1:8000" not in sitemap


def test_no_request_to_the_form_or_follow_up_pages_reaches_the_access_log(stack: Stack) -> None:
    marker = f"/en/log-probe-{time.monotonic_ns()}/"
    client = Client(stack.ca)
    for path in ["/form/en/", "//form/en/", "/form%2Fen/", "/%66orm/en/", "/check/en/"]:
        client.get(stack.public + path)
        client.request(
            "POST",
            stack.public + path,
            body=b"topic=other&message=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    # A form post too large for nginx: answered by its own 413 page under /_errors/.
    assert send(stack, "public", "/form/en/", "POST", FORM_LIMIT + 1).status == 413
    # A static address after them, to know the log was written up to here.
    assert client.get(stack.public + marker).status == 404
    lines = access_log_lines(stack, marker)
    assert any(marker in line for line in lines)
    for line in lines:
        assert "form" not in line.lower() and "check" not in line, line
        assert "%66" not in line and "_errors" not in line, line
