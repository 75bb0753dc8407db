"""The web security floor: session cookie, CSRF tokens, Origin checks, response headers."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

security_log = logging.getLogger("portail.security")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cookie_names(https: bool) -> tuple[str, str]:
    """(session cookie, anonymous CSRF cookie); ``__Host-`` pins them to our origin over HTTPS."""
    prefix = "__Host-" if https else ""
    return f"{prefix}portail_session", f"{prefix}portail_csrf"


# What csrf_token_for returns: an HMAC-SHA256 in lowercase hex. ASCII-only by construction,
# unlike ``\d`` or ``str.isalnum``, which accept other scripts' digits.
CSRF_TOKEN_SHAPE = re.compile(r"[0-9a-f]{64}")


def csrf_token_for(secret_key: bytes, binding: str) -> str:
    """The synchronizer token of a session (or of an anonymous visitor's cookie)."""
    return hmac.new(secret_key, b"csrf|" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret_key: bytes, binding: str | None, submitted: str | None) -> bool:
    """Whether ``submitted`` is the token of ``binding``; anything not shaped like one is refused
    before comparing (``hmac.compare_digest`` raises TypeError on non-ASCII str, so compare bytes)."""
    if not binding or not submitted or not CSRF_TOKEN_SHAPE.fullmatch(submitted):
        return False
    return hmac.compare_digest(csrf_token_for(secret_key, binding).encode("ascii"), submitted.encode("ascii"))


# What the Secrets port issues (URL-safe base64): anything else in ``?jeton=`` is no token of ours,
# and could not be put in a Set-Cookie header as it is (non-latin-1 characters, ";", spaces).
LINK_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def token_shaped(value: str) -> bool:
    """Whether ``value`` could be a session or e-mailed link token the portal issued."""
    return LINK_TOKEN_SHAPE.fullmatch(value) is not None


# A browser that signed in to an account: "<random id>.<HMAC of the id and the login>" (OWASP's
# device cookies); its login tries are counted apart from everyone else's for that e-mail.
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600


def device_cookie_name(https: bool) -> str:
    return ("__Host-" if https else "") + "portail_appareil"


def _device_mac(secret_key: bytes, device: str, normalised_login: str) -> str:
    return hmac.new(secret_key, f"device|{device}|{normalised_login}".encode(), hashlib.sha256).hexdigest()


def device_cookie_for(secret_key: bytes, device: str, normalised_login: str) -> str:
    """The cookie value that proves ``device`` signed in to ``normalised_login``."""
    return f"{device}.{_device_mac(secret_key, device, normalised_login)}"


def device_from_cookie(secret_key: bytes, value: str, normalised_login: str) -> str:
    """The device id in ``value`` if it was issued for ``normalised_login``, else ""."""
    device, _, mac = value[:200].partition(".")
    if not token_shaped(device) or not CSRF_TOKEN_SHAPE.fullmatch(mac):
        return ""
    expected = _device_mac(secret_key, device, normalised_login).encode("ascii")
    return device if hmac.compare_digest(expected, mac.encode("ascii")) else ""


def new_anonymous_binding() -> str:
    return secrets.token_urlsafe(32)


def same_origin(scope_headers: dict[str, str], base_url: str) -> bool:
    """Refuse cross-site unsafe requests: Sec-Fetch-Site first, then Origin / Referer."""
    fetch_site = scope_headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = scope_headers.get("origin") or scope_headers.get("referer")
    if not origin or origin == "null":
        return origin is None  # no header at all: a non-browser client; the token still decides
    ours = urlsplit(base_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc) or _is_local_host(theirs.netloc, ours.netloc)


def _is_local_host(theirs: str, ours: str) -> bool:
    # 127.0.0.1 and localhost name the same local server in the embedded setup.
    local = {"127.0.0.1", "localhost", "[::1]"}
    t_host, _, t_port = theirs.rpartition(":") if ":" in theirs else (theirs, "", "")
    o_host, _, o_port = ours.rpartition(":") if ":" in ours else (ours, "", "")
    return t_host in local and o_host in local and t_port == o_port


def safe_next(target: str | None, default: str = "/") -> str:
    """Follow ``next=`` only to a local path: never to another site, never ``//host``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return default
    return target


def escape_for_log(value: object) -> str:
    """One line per event: control characters become visible escapes."""
    text = str(value)
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)[:300]


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self' {form_targets}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    """Adds the security headers to every response (pages, files, errors alike)."""

    def __init__(self, app: ASGIApp, *, https: bool, form_targets: str = "") -> None:
        self.app = app
        self.https = https
        self.csp = CSP.format(form_targets=form_targets).replace("  ", " ")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", self.csp)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if "cache-control" not in headers:
                    static = scope["path"].startswith("/static/")
                    headers["Cache-Control"] = "public, max-age=86400" if static else "no-store"
                if self.https:
                    headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
            await send(message)

        await self.app(scope, receive, send_with_headers)
