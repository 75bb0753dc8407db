"""The composition root: Settings -> a wired Portal. The only place that picks adapters."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from portail_domain.model.legal import (
    Accessibility,
    AccessibilityStatus,
    Host,
    LegalInfo,
    Mediator,
    Publisher,
    Retention,
)
from portail_domain.model.limits import MIB, Limits
from portail_domain.model.mandates import SepaCreditor
from portail_domain.model.reminders import ReminderPolicy
from portail_domain.model.request_desk import DueRules
from portail_domain.model.requests import RequestCategory
from portail_domain.portal import Portal, PortalConfig, UtilityCard
from portail_domain.ports import FileStore, Links, MailComposer, PasswordHasher, PaymentGateway, Printer

from .banking import SchwiftyBankDirectory
from .files import LocalFileStore
from .mail import FileMailer, SmtpMailer, mailer_from_url
from .passwords import Argon2Hasher
from .payment import PayfipGateway, SimulatorGateway
from .settings import Settings, SettingsError
from .sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate
from .sql.database import CONCURRENCY, pending_migrations
from .system import SystemClock, SystemSecrets

log = logging.getLogger("portail")


POSTGRES_DRIVER = 'pip install "portail-usager[postgres]"'


def create_engine(settings: Settings) -> Engine:
    try:
        # The web app runs CONCURRENCY threads: one pooled connection each.
        return create_engine_from_url(settings.database_url, pool_size=CONCURRENCY)
    except ModuleNotFoundError as exc:  # the URL names a driver that is not installed
        fix = {"psycopg": POSTGRES_DRIVER,
               "psycopg2": f"write the URL as postgresql+psycopg://… and {POSTGRES_DRIVER}"}.get(exc.name or "")
        raise SettingsError([f"PORTAIL_DATABASE_URL: the database driver {exc.name} is not installed: "
                             f"{fix or f'pip install {exc.name}'}"]) from None
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise SettingsError([f"PORTAIL_DATABASE_URL: {exc}"]) from None


def check_database(engine: Engine) -> None:
    """Fail early with one line when the database does not answer."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise SettingsError([f"PORTAIL_DATABASE_URL: the database does not answer ({reason})"]) from None


def config_from(settings: Settings) -> PortalConfig:
    return PortalConfig(
        base_url=settings.base_url,
        utility=UtilityCard(
            name=settings.utility_name,
            address=settings.utility_address,
            email=settings.utility_email,
            phone=settings.utility_phone,
            hours=settings.utility_hours,
            presentation=settings.utility_presentation,
            emergency_phone=settings.utility_emergency_phone,
        ),
        secret_key=settings.secret_key,
        limits=Limits(
            upload_max_bytes=settings.upload_max_mb * MIB,
            upload_quota_bytes=settings.upload_quota_mb * MIB,
            link_validity=timedelta(minutes=settings.link_validity_minutes),
            session_idle=timedelta(minutes=settings.session_idle_minutes),
            session_absolute=timedelta(hours=settings.session_max_hours),
            staff_session_idle=timedelta(minutes=settings.staff_session_idle_minutes),
            staff_session_absolute=timedelta(hours=settings.staff_session_max_hours),
        ),
        reminders=ReminderPolicy(days_before=settings.reminder_days_before, days_after=settings.reminder_days_after),
        request_due=DueRules(settings.request_due_days, tuple(
            (RequestCategory(name), days) for name, days in settings.request_due_days_by_category)),
        legal=legal_from(settings),
        sepa_creditor=SepaCreditor(settings.sepa_creditor_name or settings.utility_name, settings.sepa_creditor_id),
    )


def legal_from(settings: Settings) -> LegalInfo:
    """The legal pages' facts; the publisher defaults to the utility's own card."""
    return LegalInfo(
        accessibility=Accessibility(AccessibilityStatus(settings.accessibility_status),
                                    settings.accessibility_audit_date,
                                    settings.accessibility_contact or settings.utility_email),
        mediator=Mediator(settings.mediator_name, settings.mediator_address, settings.mediator_url),
        publisher=Publisher(
            name=settings.publisher_name or settings.utility_name,
            address=settings.publisher_address or settings.utility_address,
            phone=settings.publisher_phone or settings.utility_phone,
            siret=settings.publisher_siret,
            director=settings.publisher_director,
            dpo_email=settings.publisher_dpo_email or settings.utility_email,
        ),
        host=Host(settings.host_name, settings.host_address, settings.host_phone),
        retention=Retention(
            invoices_years=settings.retention_invoices_years,
            requests_years=settings.retention_requests_years,
            security_days=settings.retention_security_days,
            unused_account_years=settings.retention_unused_account_years,
            warning_days=settings.retention_warning_days,
        ),
    )


def build_files(settings: Settings) -> FileStore:
    """``file://PATH`` (relative to the working directory) or ``s3://bucket?…``."""
    url = urlsplit(settings.files_url)
    if url.scheme == "file":
        return LocalFileStore((url.netloc + url.path) or ".")
    if url.scheme == "s3":
        from .files.s3 import S3FileStore  # boto3 is only imported when S3 is used

        try:
            return S3FileStore.from_url(settings.files_url)
        except ValueError as exc:
            raise SettingsError([f"PORTAIL_FILES_URL: {exc}"]) from None
    raise SettingsError([f"PORTAIL_FILES_URL: {url.scheme}:// storage is not available in this version"])


def build_payments(settings: Settings, engine: Engine | None, clock: SystemClock) -> PaymentGateway:
    """``simulator`` (pages inside the app, operations in the database) or ``payfip`` (no ``engine``)."""
    if settings.payment == "payfip":
        return PayfipGateway(settings.payfip_url, settings.payfip_numcli, settings.payfip_mode, clock)
    assert engine is not None, "the simulator keeps its operations in the database"
    return SimulatorGateway(engine, clock, settings.base_url)


def build_mailer(settings: Settings) -> FileMailer | SmtpMailer:
    """From ``PORTAIL_MAIL_URL``; the sender is the utility's e-mail unless the URL says ``?from=``."""
    return mailer_from_url(settings.mail_url, sender=settings.utility_email, sender_name=settings.utility_name)


def bootstrap(
    settings: Settings,
    *,
    composer: MailComposer,
    links: Links,
    printer: Printer | None = None,
    engine: Engine | None = None,
    passwords: PasswordHasher | None = None,
    run_migrations: bool = False,
) -> Portal:
    """Wire a portal from settings. Any adapter can be handed in instead (tests, embedders).

    The mail ``composer``, the ``links`` and the ``printer`` belong to the front end (its templates,
    its routes, its wording): the client hands them in (``portail_web.wiring``; ``memory.PlainComposer``
    and ``memory.PlainPrinter`` without one).
    """
    engine = engine or create_engine(settings)
    check_database(engine)
    if run_migrations:
        migrate(engine)
    elif pending_migrations(engine):
        log.warning("the database schema is not up to date: run `portail migrate`")
    clock = SystemClock()
    return Portal(
        uow=SqlUnitOfWorkFactory(engine),
        clock=clock,
        secrets=SystemSecrets(),
        passwords=passwords or Argon2Hasher(),
        config=config_from(settings),
        composer=composer,
        links=links,
        files=build_files(settings),
        payments=build_payments(settings, engine, clock),
        mailer=build_mailer(settings),
        banks=SchwiftyBankDirectory(),
        printer=printer,
    )
