"""The composition root: Settings -> a wired Portal. The only place that picks adapters."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from portail_domain.model.limits import MIB, Limits
from portail_domain.model.reminders import ReminderPolicy
from portail_domain.portal import Portal, PortalConfig, UtilityCard
from portail_domain.ports import Links, MailComposer, PasswordHasher

from .files import LocalFileStore
from .mail import mailer_from_url
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
        ),
        secret_key=settings.secret_key,
        limits=Limits(
            upload_max_bytes=settings.upload_max_mb * MIB,
            upload_quota_bytes=settings.upload_quota_mb * MIB,
            link_validity=timedelta(minutes=settings.link_validity_minutes),
            session_idle=timedelta(minutes=settings.session_idle_minutes),
            session_absolute=timedelta(hours=settings.session_max_hours),
        ),
        reminders=ReminderPolicy(days_before=settings.reminder_days_before, days_after=settings.reminder_days_after),
    )


def build_files(settings: Settings):  # noqa: ANN201 - a FileStore
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


def build_payments(settings: Settings, engine: Engine, clock: SystemClock):  # noqa: ANN201 - a PaymentGateway
    """``simulator`` (pages inside the app, operations in the database) or ``payfip``."""
    if settings.payment == "payfip":
        return PayfipGateway(settings.payfip_url, settings.payfip_numcli, settings.payfip_mode, clock)
    return SimulatorGateway(engine, clock, settings.base_url)


def build_mailer(settings: Settings):  # noqa: ANN201 - a Mailer
    """From ``PORTAIL_MAIL_URL``; the sender is the utility's e-mail unless the URL says ``?from=``."""
    return mailer_from_url(settings.mail_url, sender=settings.utility_email, sender_name=settings.utility_name)


def bootstrap(
    settings: Settings,
    *,
    composer: MailComposer,
    links: Links,
    engine: Engine | None = None,
    passwords: PasswordHasher | None = None,
    run_migrations: bool = False,
) -> Portal:
    """Wire a portal from settings. Any adapter can be handed in instead (tests, embedders).

    The mail ``composer`` and the ``links`` belong to the front end (its templates, its routes):
    the client hands them in (``portail_web.wiring``; ``memory.PlainComposer`` without one).
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
    )
