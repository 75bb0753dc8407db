"""The one form parser: CSRF checked, sizes bounded, values as plain trimmed strings."""

from __future__ import annotations

import logging
from typing import TypeGuard

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from .security import csrf_valid, escape_for_log

security_log = logging.getLogger("portail.security")


class CsrfRefused(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=403, detail="csrf")


def check_csrf(request: Request, form: FormData) -> None:
    visitor = request.state.visitor
    submitted = form.get("csrf_token")
    if not isinstance(submitted, str) or not csrf_valid(visitor.secret_key, visitor.csrf_binding, submitted):
        security_log.warning(
            "csrf_refused path=%s client=%s",
            escape_for_log(request.url.path),
            escape_for_log(request.client.host if request.client else "-"),
        )
        raise CsrfRefused()


async def read_form(request: Request, *, max_fields: int = 30) -> dict[str, str]:
    """Parse a urlencoded or multipart form without files; check its CSRF token."""
    async with request.form(max_files=0, max_fields=max_fields) as form:
        check_csrf(request, form)
        return {k: v.strip() if isinstance(v, str) else "" for k, v in form.items()}


def field(form: dict[str, str], name: str, max_length: int = 1000) -> str:
    """A text field, at most ``max_length`` characters, without control characters."""
    value = form.get(name, "")[:max_length]
    return "".join(ch for ch in value if ch.isprintable() or ch in "\n\t")


def is_upload(value: object) -> TypeGuard[UploadFile]:
    """A file the form sent (a file input left empty sends one with no name)."""
    return isinstance(value, UploadFile) and bool(value.filename)
