"""Documents the utility publishes (``/agent/documents``, ``portail documents add``): one file stored
once, a document row for every subscriber of the audience, and one e-mail to each paperless one.

The whole publication is one transaction of a fixed number of statements (``PublishingRepository``:
the standard folders the audience lacks, the rows, the e-mails, the audit entry), whatever the
audience's size; if it fails, the stored object is deleted again and nothing is left.
"""

from __future__ import annotations

import uuid
from typing import BinaryIO

from ..model.accounts import Language, StaffUser
from ..model.audit import AuditAction
from ..model.documents import DEFAULT_FOLDERS, AddedBy, Document, clean_filename, inspect_file, new_storage_key
from ..model.errors import NotFound
from ..model.links import Link
from ..model.mail import Mail, MailKind, MailValue, OutgoingMail
from ..model.publishing import (
    Audience,
    AudienceKind,
    AudienceSize,
    EmptyAudience,
    Publication,
    folder_name,
    publication_folder,
)
from ..portal import Portal
from .audit import record_audit
from .documents import discard_object, require_files

EVERYONE = uuid.UUID(int=0)


def audience_size(portal: Portal, audience: Audience) -> AudienceSize:
    """How many subscribers ``audience`` has today, and how many of them would get an e-mail (one query)."""
    with portal.uow(read_only=True) as uow:
        return uow.publishing.size(audience, portal.clock.today())


def _notices(portal: Portal, filename: str, folder: str) -> dict[str, OutgoingMail]:
    """The e-mail in each language, rendered once: it names no one, so every subscriber gets the same text."""
    params: dict[str, MailValue] = {"filename": filename, "folder": folder, "link": Link("documents")}
    return {language.value: portal.composer.compose(Mail(MailKind.DOCUMENT_PUBLISHED, "", language.value, params))
            for language in Language}


def publish_document(portal: Portal, staff: StaffUser | None, *, audience: Audience, folder: str, filename: str,
                     data: BinaryIO) -> Publication:
    """Publish the file ``data`` into the standard ``folder`` (name or kind) of every subscriber of ``audience``.

    The file passes the upload rules (``inspect_file``: PDF, JPEG or PNG by content, size limit) and
    is stored once; the subscribers who have no folders yet get the standard ones; each paperless
    subscriber with an e-mail on file gets one e-mail. ``staff`` (None from the command line) is
    written to the audit log. Raises, with nothing stored: ``UnknownFolder``, ``NotFound`` (a
    subscriber number nobody has), ``EmptyAudience``, an ``UploadRejected`` reason, ``StorageError``.
    """
    files = require_files(portal)
    kind = publication_folder(folder)
    inspected = inspect_file(data, max_size=portal.config.limits.upload_max_bytes)
    today, now = portal.clock.today(), portal.clock.now()
    _check_audience(audience_size(portal, audience), audience)
    template = Document(subscriber_id=EVERYONE, folder_id=EVERYONE,  # replaced in each row
                        filename=clean_filename(filename, inspected.content_type),
                        content_type=inspected.content_type, size=inspected.size, sha256=inspected.sha256,
                        storage_key="", added_by=AddedBy.UTILITY, added_at=now)
    template.storage_key = new_storage_key(template.id)
    # Stored before the transaction (never hold a database lock over the network), deleted if it fails.
    files.put(template.storage_key, data, content_type=inspected.content_type, size=inspected.size)
    try:
        with portal.uow() as uow:
            uow.publishing.add_default_folders(audience, today, DEFAULT_FOLDERS)
            linked = uow.publishing.link(audience, today, kind, template)
            _check_audience(AudienceSize(linked, 0), audience)  # emptied since it was counted
            mailed = uow.publishing.queue_notices(audience, today, _notices(portal, template.filename,
                                                                            folder_name(kind)), now)
            if staff is not None:
                record_audit(uow, portal, staff, AuditAction.DOCUMENT_PUBLISH,
                             subscriber=audience.value if audience.kind is AudienceKind.SUBSCRIBER else None,
                             target=str(audience), after={
                                 "folder": kind.value, "filename": template.filename, "sha256": template.sha256,
                                 "subscribers": linked, "mailed": mailed})
            uow.commit()
    except BaseException:
        discard_object(files, template.storage_key)
        raise
    return Publication(audience, kind, template.filename, template.content_type, template.size, template.sha256,
                       template.storage_key, linked, mailed)


def _check_audience(size: AudienceSize, audience: Audience) -> None:
    if size.subscribers == 0:
        if audience.kind is AudienceKind.SUBSCRIBER:
            raise NotFound(subscriber=audience.value)
        raise EmptyAudience(audience=str(audience))
