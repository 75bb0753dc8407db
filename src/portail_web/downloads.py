"""Sending a stored file to the browser: the one way documents, invoice PDFs, request attachments
and meter photos leave the portal."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from portail_adapters.files import content_disposition
from portail_domain.model.documents import Download


async def send_download(request: Request, fetch: Callable[[], Download], *, filename: str | None = None) -> Response:
    """Run ``fetch`` (a use case that checked who may read the file) and send its answer: a redirect
    to a short-lived store link, or the bytes as an attachment the browser never renders.

    ``NotFound`` and ``StorageError`` propagate to the app's error pages (404, 503).
    """
    found = await run_in_threadpool(fetch)
    if found.url is not None:  # a presigned link to the S3 object, issued after the ownership check
        return RedirectResponse(found.url, status_code=303)
    document = found.document
    headers = {
        "Content-Disposition": content_disposition(filename or document.filename),
        "Content-Length": str(document.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, no-store",
    }
    assert found.chunks is not None
    return StreamingResponse(found.chunks, media_type=document.content_type, headers=headers)
