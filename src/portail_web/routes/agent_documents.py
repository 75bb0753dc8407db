"""Publier un document (/agent/documents): to one subscriber (``subscriber_number``) or to an audience
(``audience`` = ``all``, ``postal_code:NNNNN``, ``service:water``, ``service:sanitation``).

The page works in two steps without script: the recipients first (a GET form that counts them),
then the folder and the file (a POST that publishes and says for how many). A script may POST
every field at once. The form's radio buttons send ``audience=subscriber`` (then
``subscriber_number``) or ``audience=postal_code`` (then ``postal_code``): both mean the same as
the contract's values.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model import errors
from portail_domain.model.accounts import StaffUser
from portail_domain.model.documents import DEFAULT_FOLDERS, FileTooLarge, UploadRejected
from portail_domain.model.publishing import Audience, AudienceKind, AudienceSize, EmptyAudience, UnknownFolder
from portail_domain.portal import Portal
from portail_domain.services import publishing as service

from ..forms import check_csrf, field, is_upload
from ..messages import N_, message_for
from ..staff import staff_page
from ..templating import render
from ..urls import path_for
from .documents import FOLDER_NAMES

AUDIENCE_FIELDS = ("audience", "subscriber_number", "postal_code")
# The choices of the form, in its order (value of ``audience``, label).
CHOICES = (
    ("subscriber", N_("Un abonné")),
    (AudienceKind.ALL.value, N_("Tous les abonnés")),
    (AudienceKind.POSTAL_CODE.value, N_("Les abonnés d'un code postal")),
    ("service:water", N_("Les abonnés au service de l'eau")),
    ("service:sanitation", N_("Les abonnés au service de l'assainissement")),
)
NO_SUBSCRIBER = N_("Aucun abonné n'a ce numéro : vérifiez-le (recherche dans Abonnés).")
MAX_COUNT = 10_000_000  # ?publie=N beyond this is not a count the portal made


def _portal(request: Request) -> Portal:
    return request.app.state.portal


def _values(source: ImmutableMultiDict[str, Any]) -> dict[str, str]:
    """The form's text fields (from the query string or the posted form), bounded and trimmed."""
    form = {name: value.strip() if isinstance(value := source.get(name), str) else ""
            for name in (*AUDIENCE_FIELDS, "folder")}
    return {"audience": field(form, "audience", 40), "subscriber_number": field(form, "subscriber_number", 40),
            "postal_code": field(form, "postal_code", 20), "folder": field(form, "folder", 40)}


def audience_of(values: dict[str, str]) -> Audience:
    """The audience the fields name (``Audience.choose``: a number or an audience, not both)."""
    wanted = values["audience"]
    if wanted == "subscriber":
        wanted = ""
    elif wanted == AudienceKind.POSTAL_CODE.value:
        wanted = f"{AudienceKind.POSTAL_CODE.value}:{values['postal_code']}"
    return Audience.choose(values["subscriber_number"], wanted)


class NoFile(UploadRejected):
    """The form came without a file (a file input left empty)."""

    code = "publish_file_missing"


def _field_of(exc: errors.DomainError, values: dict[str, str]) -> str:
    if isinstance(exc, UnknownFolder):
        return "folder"
    if isinstance(exc, UploadRejected | errors.StorageError):
        return "file"
    if isinstance(exc, errors.NotFound):
        return "subscriber_number"
    name = getattr(exc, "field", "") or "audience"
    return "postal_code" if name == "audience" and values["audience"] == AudienceKind.POSTAL_CODE.value else name


def _status_of(exc: errors.DomainError) -> int:
    if isinstance(exc, NoFile):
        return 400
    if isinstance(exc, FileTooLarge):
        return 413
    if isinstance(exc, errors.StorageError):
        return 503
    if isinstance(exc, UploadRejected | EmptyAudience | errors.NotFound) and not isinstance(exc, UnknownFolder):
        return 422
    return 400


def _message_of(exc: errors.DomainError) -> str:
    if isinstance(exc, errors.NotFound) and not isinstance(exc, UnknownFolder):
        return NO_SUBSCRIBER
    return message_for(exc)


def _shown(values: dict[str, str]) -> dict[str, str]:
    """The fields as the form shows them: ``postal_code:NNNNN`` as its radio button and its code."""
    kind, _, code = values["audience"].partition(":")
    if kind == AudienceKind.POSTAL_CODE.value and code:
        return {**values, "audience": kind, "postal_code": code}
    return {**values, "audience": values["audience"] or "subscriber"}


def _count(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) <= MAX_COUNT else None


async def _page(request: Request, values: dict[str, str], *, size: AudienceSize | None = None,
                audience: Audience | None = None, errors_by_field: dict[str, str] | None = None,
                status_code: int = 200) -> Response:
    params = request.query_params
    published = _count(params.get("publie", "")) if not errors_by_field else None
    return render(request, "agent/documents.html", {
        "values": _shown(values), "choices": CHOICES, "folders": [(kind.value, FOLDER_NAMES[kind]) for kind, _ in
                                                          DEFAULT_FOLDERS],
        "size": size, "audience": audience, "errors": errors_by_field or {},
        "published": published, "mailed": _count(params.get("courriels", "")) or 0,
    }, status_code=status_code)


async def _refused(request: Request, values: dict[str, str], exc: errors.DomainError) -> Response:
    """The page again with the error next to its field; when the recipients were not the problem,
    with their count and the second step, so only the file or folder is to choose again."""
    name = _field_of(exc, values)
    audience, size = None, None
    if name not in AUDIENCE_FIELDS:
        try:
            audience = audience_of(values)
            size = await run_in_threadpool(service.audience_size, _portal(request), audience)
        except errors.DomainError:
            audience = None
    return await _page(request, values, size=size, audience=audience, errors_by_field={name: _message_of(exc)},
                       status_code=_status_of(exc))


@staff_page
async def documents_page(request: Request, staff: StaffUser) -> Response:
    """The form; with recipients in the query (the first step's button), their count and the second step."""
    values = _values(request.query_params)
    if not any(values[name] for name in AUDIENCE_FIELDS):
        return await _page(request, {**values, "folder": "letters"})
    values["folder"] = values["folder"] or "letters"
    try:
        audience = audience_of(values)
        size = await run_in_threadpool(service.audience_size, _portal(request), audience)
        if size.subscribers == 0 and audience.kind is AudienceKind.SUBSCRIBER:
            raise errors.NotFound(subscriber=audience.value)
    except errors.DomainError as exc:
        return await _refused(request, values, exc)
    return await _page(request, values, size=size, audience=audience)


@staff_page
async def publish(request: Request, staff: StaffUser) -> Response:
    portal = _portal(request)
    # Starlette spools the file to a temporary file past 1 MB: it is never held whole in memory.
    async with request.form(max_files=1, max_fields=10) as form:
        check_csrf(request, form)
        values = _values(form)
        sent = form.get("file")
        try:
            audience = audience_of(values)
            if not is_upload(sent):
                raise NoFile()
            if sent.size is not None and sent.size > portal.config.limits.upload_max_bytes:
                raise FileTooLarge()
            done = await run_in_threadpool(lambda: service.publish_document(
                portal, staff, audience=audience, folder=values["folder"], filename=sent.filename or "",
                data=sent.file))
        except errors.DomainError as exc:
            return await _refused(request, values, exc)
    return RedirectResponse(path_for(request, "staff_documents", query={
        "publie": done.subscribers, "courriels": done.mailed}), status_code=303)


routes = [
    Route("/agent/documents", documents_page, name="staff_documents"),
    Route("/agent/documents", publish, methods=["POST"], name="staff_documents_publish"),
]
