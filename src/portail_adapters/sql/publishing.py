"""A publication to an audience over SQL: ``INSERT … SELECT`` statements that write the rows of every
subscriber at once, with ids made by the database (``gen_random_uuid()`` on PostgreSQL, random
version-4 UUIDs from ``randomblob`` on SQLite), so 100,000 subscribers cost a few statements, not
100,000 round trips."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Integer, String, Uuid, and_, case, exists, func, insert, literal, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from portail_domain.model.documents import Document, FolderKind
from portail_domain.model.mail import OutgoingMail
from portail_domain.model.publishing import Audience, AudienceKind, AudienceSize

from . import tables as t
from .types import UTCDateTime


class new_uuid(FunctionElement[Any]):  # noqa: N801 - an SQL function, named as SQL names them
    """A random UUID made by the database, one per row of an ``INSERT … SELECT``."""

    type = Uuid()
    inherit_cache = True


@compiles(new_uuid, "postgresql")
def _new_uuid_postgresql(element: new_uuid, compiler: Any, **kw: Any) -> str:
    return "gen_random_uuid()"


@compiles(new_uuid, "sqlite")
def _new_uuid_sqlite(element: new_uuid, compiler: Any, **kw: Any) -> str:
    # 32 hex digits, as SQLAlchemy stores a Uuid on SQLite; version 4, variant 10xx (RFC 4122).
    return ("lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || substr(hex(randomblob(2)), 2) || "
            "substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || hex(randomblob(6)))")


def audience_filter(audience: Audience, today: date) -> ColumnElement[bool]:
    """The condition on ``subscribers`` of ``Audience.includes`` (the same rule, as SQL)."""
    s, c = t.subscribers.c, t.contracts.c
    if audience.kind is AudienceKind.ALL:
        return true()
    if audience.kind is AudienceKind.SUBSCRIBER:
        return s.number == audience.value
    if audience.kind is AudienceKind.POSTAL_CODE:
        return s.postal_code == audience.value
    active = and_(c.start_on <= today, or_(c.end_on.is_(None), c.end_on >= today))
    return exists().where(c.subscriber_id == s.id, c.service.in_([v.value for v in audience.services]), active)


def _root_folder(kind: FolderKind) -> ColumnElement[Any]:
    """The subscriber's (first) root folder of ``kind``: one index lookup per subscriber."""
    f = t.document_folders.c
    return (select(f.id).where(f.subscriber_id == t.subscribers.c.id, f.kind == kind.value, f.parent_id.is_(None))
            .order_by(f.position, f.id).limit(1).scalar_subquery())


class SqlPublishing:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _inserted(self, statement: Insert) -> int:
        """Run an ``INSERT … SELECT``; how many rows it added (a count the driver keeps only when asked)."""
        return int(self.connection.execute(statement.execution_options(preserve_rowcount=True)).rowcount)

    def size(self, audience: Audience, today: date) -> AudienceSize:
        s = t.subscribers.c
        mailed = func.coalesce(func.sum(case((_mailed(s), 1), else_=0)), 0)
        query = select(func.count(), mailed).select_from(t.subscribers).where(audience_filter(audience, today))
        subscribers, paperless = self.connection.execute(query).one()
        return AudienceSize(int(subscribers), int(paperless))

    def add_default_folders(self, audience: Audience, today: date, folders: Sequence[tuple[FolderKind, str]]) -> int:
        s, f = t.subscribers.c, t.document_folders.c
        created = 0
        for position, (kind, name) in enumerate(folders):
            has_it = exists().where(f.subscriber_id == s.id, f.kind == kind.value, f.parent_id.is_(None))
            rows = select(new_uuid(), s.id, literal(name, String), literal(kind.value, String),
                          literal(position, Integer)).where(audience_filter(audience, today), ~has_it)
            statement = insert(t.document_folders).from_select(["id", "subscriber_id", "name", "kind", "position"],
                                                                rows)
            created += self._inserted(statement)
        return created

    def link(self, audience: Audience, today: date, folder: FolderKind, document: Document) -> int:
        s = t.subscribers.c
        folder_id = _root_folder(folder)
        rows = select(
            new_uuid(), s.id, folder_id, literal(document.filename, String), literal(document.content_type, String),
            literal(document.size, Integer), literal(document.sha256, String), literal(document.storage_key, String),
            literal(document.added_by.value, String), literal(document.added_at, UTCDateTime()),
        ).where(audience_filter(audience, today), folder_id.is_not(None))
        columns = ["id", "subscriber_id", "folder_id", "filename", "content_type", "size", "sha256", "storage_key",
                   "added_by", "added_at"]
        return self._inserted(insert(t.documents).from_select(columns, rows))

    def queue_notices(self, audience: Audience, today: date, mails: Mapping[str, OutgoingMail],
                      now: datetime) -> int:
        s = t.subscribers.c
        queued = 0
        at = literal(now, UTCDateTime())
        for language, mail in mails.items():
            rows = select(new_uuid(), s.email, literal(mail.subject, String), literal(mail.text, String),
                          literal(mail.html, String), at, literal(0, Integer), at).where(
                audience_filter(audience, today), _mailed(s), s.language == language)
            columns = ["id", "recipient", "subject", "text_body", "html_body", "created_at", "attempts",
                       "next_attempt_at"]
            queued += self._inserted(insert(t.outbox).from_select(columns, rows))
        return queued


def _mailed(s: Any) -> ColumnElement[bool]:
    """Who gets the e-mail: paperless (facture électronique), with an e-mail on file."""
    return and_(s.paperless.is_(True), s.email.is_not(None), s.email != "")
