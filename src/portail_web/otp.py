"""What a phone's authenticator app scans: the ``otpauth://`` URI (pyotp) drawn as an SVG QR code (segno).

Drawn on the server as inline SVG: no JavaScript, no image service that would see the secret.
"""

from __future__ import annotations

import pyotp
import segno
from markupsafe import Markup, escape


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """``otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…`` (SHA-1, 6 digits, 30 s: the domain's check)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str, label: str) -> Markup:
    """The QR code of ``uri`` as an inline ``<svg role="img">`` named ``label`` for screen readers."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", svgclass="qr")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S704 - segno's own output


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
