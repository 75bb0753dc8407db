"""Who is asking: the session cookie resolved into an identity, once per request.

``VisitorMiddleware`` puts a ``Visitor`` in ``request.state.visitor``: the identity (or
None), the CSRF binding (the session token, or an anonymous random cookie) and the language.
"""

from __future__ import annotations

import attrs
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portail_domain.model.accounts import Identity, StaffUser, Subscriber
from portail_domain.portal import Portal
from portail_domain.services.accounts import keep_up_session, look_up_session

from .i18n import pick_language
from .reads import read
from .security import cookie_names, csrf_token_for, new_anonymous_binding


@attrs.define
class Visitor:
    identity: Identity | None
    csrf_binding: str
    language: str
    secret_key: bytes = attrs.field(repr=False)
    set_anonymous_cookie: bool = False

    @property
    def csrf_token(self) -> str:
        return csrf_token_for(self.secret_key, self.csrf_binding)

    @property
    def subscriber(self) -> Subscriber | None:
        return self.identity.subscriber if self.identity else None

    @property
    def staff(self) -> StaffUser | None:
        """The member of staff, once this session has passed the second factor (else None)."""
        if self.identity is None or not self.identity.session.second_factor:
            return None
        return self.identity.staff

    @property
    def staff_pending(self) -> StaffUser | None:
        """A member of staff signed in with the password only: the second factor is still to give."""
        if self.identity is None or self.identity.session.second_factor:
            return None
        return self.identity.staff


class LoginRequired(Exception):
    """Raised by endpoints that need a subscriber; answered with 303 to /connexion?next=…"""


def visitor(request: Request) -> Visitor:
    found: Visitor = request.state.visitor
    return found


def require_subscriber(request: Request) -> Subscriber:
    """The logged-in subscriber, from the session (never from the URL). Staff: see ``portail_web.staff``."""
    subscriber = visitor(request).subscriber
    if subscriber is None:
        raise LoginRequired()
    return subscriber


class VisitorMiddleware:
    LANGUAGE_COOKIE = "portail_lang"

    def __init__(self, app: ASGIApp, *, portal: Portal) -> None:
        self.app = app
        self.portal = portal
        self.https = portal.config.https
        self.session_cookie, self.anonymous_cookie = cookie_names(self.https)
        self.writing: set[str] = set()  # sessions whose write is under way (token hashes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/") or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        token = connection.cookies.get(self.session_cookie, "")
        identity = await self.identity(token) if token else None
        anonymous = connection.cookies.get(self.anonymous_cookie, "")
        set_cookie = False
        if identity is None and len(anonymous) < 32:
            anonymous, set_cookie = new_anonymous_binding(), True
        preferred = identity.subscriber.language.value if identity and identity.subscriber else None
        language = pick_language(
            connection.cookies.get(self.LANGUAGE_COOKIE), connection.headers.get("accept-language"), preferred
        )
        scope.setdefault("state", {})["visitor"] = Visitor(
            identity=identity,
            csrf_binding=token if identity is not None else anonymous,
            language=language,
            secret_key=self.portal.config.secret_key,
            set_anonymous_cookie=set_cookie,
        )
        expired_session = bool(token) and identity is None

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if set_cookie:
                    headers.append("set-cookie", self.cookie(self.anonymous_cookie, anonymous))
                if expired_session and not any(
                    v.startswith(self.session_cookie + "=") for k, v in headers.items() if k == "set-cookie"
                ):
                    headers.append("set-cookie", self.cookie(self.session_cookie, "", max_age=0))
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def identity(self, token: str) -> Identity | None:
        """The session's identity, read inline where the database allows. The write it may leave
        (a dead session removed; "last seen", once a minute) runs in a thread, once: requests of
        the same session arriving meanwhile do not queue for the write lock to write it again."""
        found = await read(self.portal, look_up_session, self.portal, token)
        if found.needs_writing and found.token_hash not in self.writing:
            self.writing.add(found.token_hash)
            try:
                await run_in_threadpool(keep_up_session, self.portal, found)
            finally:
                self.writing.discard(found.token_hash)
        return found.identity

    def cookie(self, name: str, value: str, *, max_age: int | None = None) -> str:
        parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if self.https:
            parts.append("Secure")
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        return "; ".join(parts)
