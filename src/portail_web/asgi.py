"""ASGI entry point for multi-worker servers: ``uvicorn portail_web.asgi:app``.

``app`` is built lazily on first use so that importing this module has no side effect.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from portail_adapters.settings import Settings, load_settings

from .app import create_app
from .mail_relay import RELAY_EVERY
from .wiring import web_portal


def build_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    return create_app(web_portal(settings), deliver_mail_every=RELAY_EVERY, freeze_heap=True)


_app: Starlette | None = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _app
    if _app is None:
        _app = build_app()
    await _app(scope, receive, send)
