"""Mes documents: the folder tree, one folder with its upload form, upload, download."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from portail_adapters.files import content_disposition
from portail_domain.model.documents import (
    MAX_FILE_SIZE,
    Document,
    DocumentFolder,
    FileTooLarge,
    FolderKind,
    UploadRejected,
)
from portail_domain.model.errors import StorageError
from portail_domain.services.documents import document_tree, folder_contents, open_document, upload_document

from ..auth import require_subscriber
from ..forms import check_csrf, is_upload
from ..messages import N_, message_for
from ..templating import render
from ..urls import path_for

# The body of one upload: the file (10 MB at most) plus the multipart framing and the CSRF field.
# Anything larger is answered 413 by Starlette before it is read.
UPLOAD_BODY_LIMIT = MAX_FILE_SIZE + 64 * 1024

# The standard folders' names, translated on screen (the stored name is the French one).
FOLDER_NAMES = {
    FolderKind.CONTRACTS: N_("Contrats"),
    FolderKind.INVOICES: N_("Factures"),
    FolderKind.LETTERS: N_("Courriers"),
    FolderKind.UPLOADS: N_("Mes envois"),
}


def standard_name(folder: DocumentFolder) -> str | None:
    """The translatable name of a standard folder; None for any other (shown as stored, escaped)."""
    return FOLDER_NAMES.get(folder.kind) if folder.parent_id is None else None


def _portal(request: Request):  # noqa: ANN202 - Portal
    return request.app.state.portal


async def tree(request: Request) -> Response:
    subscriber = require_subscriber(request)
    nodes = await run_in_threadpool(document_tree, _portal(request), subscriber.id)
    return render(request, "documents/tree.html", {"tree": nodes, "standard_name": standard_name})


async def _folder_page(request: Request, folder_id: uuid.UUID, *, error: str | None = None,
                       status_code: int = 200) -> Response:
    subscriber = require_subscriber(request)
    view = await run_in_threadpool(folder_contents, _portal(request), subscriber.id, folder_id)
    return render(request, "documents/folder.html", {
        "view": view,
        "standard_name": standard_name,
        "error": error,
        "sent": request.query_params.get("envoye") == "1" and error is None,
    }, status_code=status_code)


async def folder(request: Request) -> Response:
    return await _folder_page(request, request.path_params["folder_id"])


async def upload(request: Request) -> Response:
    """Upload into the chosen folder; a refused file re-renders the folder with the reason."""
    subscriber = require_subscriber(request)
    folder_id: uuid.UUID = request.path_params["folder_id"]
    error: str | None = None
    status_code = 400
    # Starlette spools the file to a temporary file past 1 MB: it is never held whole in memory.
    async with request.form(max_files=1, max_fields=5) as form:
        check_csrf(request, form)
        sent = form.get("file")
        if not is_upload(sent):
            error = N_("Choisissez le fichier à envoyer.")
        elif sent.size is not None and sent.size > MAX_FILE_SIZE:
            error, status_code = message_for(FileTooLarge()), 413
        else:
            try:
                await run_in_threadpool(upload_document, _portal(request), subscriber_id=subscriber.id,
                                        folder_id=folder_id, filename=sent.filename or "", data=sent.file)
            except UploadRejected as exc:
                error, status_code = message_for(exc), 413 if isinstance(exc, FileTooLarge) else 422
            except StorageError as exc:
                error, status_code = message_for(exc), 503
    if error is None:
        return RedirectResponse(path_for(request, "document_folder", folder_id=folder_id, query={"envoye": 1}),
                                status_code=303)
    return await _folder_page(request, folder_id, error=error, status_code=status_code)


async def download(request: Request) -> Response:
    """The document as an attachment: never rendered by the browser, streamed from the store."""
    subscriber = require_subscriber(request)
    try:
        found = await run_in_threadpool(open_document, _portal(request), subscriber.id,
                                        request.path_params["document_id"])
    except StorageError as exc:
        return render(request, "error.html", {"status": 503, "message": message_for(exc)}, status_code=503)
    if found.url is not None:  # a presigned link to the S3 object, issued after the ownership check
        return RedirectResponse(found.url, status_code=303)
    return stream_document(found.document, found.chunks)


def stream_document(document: Document, chunks: Iterator[bytes]) -> StreamingResponse:
    """A stored document's bytes as an attachment the browser never renders."""
    headers = {
        "Content-Disposition": content_disposition(document.filename),
        "Content-Length": str(document.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(chunks, media_type=document.content_type, headers=headers)


routes = [
    Route("/documents", tree, name="documents"),
    Route("/documents/dossiers/{folder_id:uuid}", folder, name="document_folder"),
    Route("/documents/dossiers/{folder_id:uuid}/envoyer", upload, methods=["POST"], name="document_upload",
          max_body_size=UPLOAD_BODY_LIMIT),
    Route("/documents/{document_id:uuid}", download, name="document_download"),
]
