"""Mes documents: the folder tree, one folder with its upload form, upload, download."""

from __future__ import annotations

import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model.documents import (
    DocumentFolder,
    FileTooLarge,
    FolderKind,
    UploadRejected,
)
from portail_domain.model.errors import StorageError
from portail_domain.portal import Portal
from portail_domain.services.documents import document_tree, folder_contents, open_document, upload_document

from ..auth import require_subscriber
from ..downloads import send_download
from ..forms import check_csrf, is_upload
from ..messages import N_, message_for
from ..reads import read
from ..templating import render
from ..urls import path_for

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


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


async def tree(request: Request) -> Response:
    subscriber = require_subscriber(request)
    nodes = await read(_portal(request), document_tree, _portal(request), subscriber.id)
    return render(request, "documents/tree.html", {"tree": nodes, "standard_name": standard_name})


async def _folder_page(request: Request, folder_id: uuid.UUID, *, error: str | None = None,
                       status_code: int = 200) -> Response:
    subscriber = require_subscriber(request)
    view = await read(_portal(request), folder_contents, _portal(request), subscriber.id, folder_id)
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
        elif sent.size is not None and sent.size > _portal(request).config.limits.upload_max_bytes:
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
    document_id = request.path_params["document_id"]
    return await send_download(request, lambda: open_document(_portal(request), subscriber.id, document_id))


routes = [
    Route("/documents", tree, name="documents"),
    Route("/documents/dossiers/{folder_id:uuid}", folder, name="document_folder"),
    Route("/documents/dossiers/{folder_id:uuid}/envoyer", upload, methods=["POST"], name="document_upload"),
    Route("/documents/{document_id:uuid}", download, name="document_download"),
]
