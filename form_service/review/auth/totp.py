"""TOTP second factor: enrolment secrets, a server-drawn QR code and replay-proof checks."""

from __future__ import annotations

from io import BytesIO

import pyotp
import qrcode
import qrcode.image.svg

STEP_SECONDS = 30
# One step either side absorbs clock drift between the phone and the server.
DRIFT_STEPS = 1
ISSUER = "Abduction RFI desk"


def new_secret() -> str:
    """Return a fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(data: str) -> str:
    """Draw data as a QR code in SVG markup, on this server (no third-party service)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    # Drop the XML declaration so the markup can sit inside an HTML page.
    return svg[svg.index("<svg") :]


def current_step(now: float) -> int:
    """Return the TOTP time step number of a moment (seconds since the epoch, from a Clock)."""
    return int(now // STEP_SECONDS)


def matching_step(secret: str, code: str, last_step: int | None, now: float) -> int | None:
    """Return the step a code belongs to, if it is valid, within drift and newer than last_step."""
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step_now = current_step(now)
    for step in range(step_now - DRIFT_STEPS, step_now + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue  # Each code, and every older one, works once only.
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None
