"""The ``portail`` command line: serve, check, migrate, demo, mail, reminders, staff, payments, retention, files,
documents, import, export."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence

from portail_adapters.bootstrap import check_database, create_engine
from portail_adapters.exchange_csv import EXPORT_KINDS, IMPORT_KINDS, export_csv, import_csv, parse_since
from portail_adapters.settings import Settings, SettingsError, load_settings
from portail_adapters.sql import migrate
from portail_domain.model.exchange import ImportRejected
from portail_domain.portal import Portal

from .wiring import web_portal

Command = Callable[[argparse.Namespace, Settings], int]
COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    def register(fn: Command) -> Command:
        COMMANDS[name] = (fn, arguments, help_text)
        return fn

    return register


def portal_from(settings: Settings, *, run_migrations: bool = False) -> Portal:
    return web_portal(settings, run_migrations=run_migrations)


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)


@command("serve", "migrate if needed, then serve the web app", _serve_args)
def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from portail_adapters.checks import probe_files, probe_mail

    engine = create_engine(settings)
    check_database(engine)
    migrate(engine)
    engine.dispose()
    for check in (probe_files(settings), probe_mail(settings)):  # serve anyway: mail waits in the outbox
        if not check.ok:
            print(f"portail: warning: {check.part}: {check.detail}", file=sys.stderr)
    # X-Forwarded-For / -Proto are believed only from PORTAIL_TRUSTED_PROXIES (none by default):
    # the client address keys the login throttle, so nobody else may choose it. No Server header.
    # The event loop: portail_web.serving.ServingLoop (asyncio's, one new connection per turn).
    served = {"host": args.host, "port": args.port, "log_level": settings.log_level.lower(), "server_header": False,
              "proxy_headers": bool(settings.trusted_proxies), "forwarded_allow_ips": settings.trusted_proxies or None,
              "loop": "portail_web.serving:ServingLoop",
              # uvicorn's access lines are INFO: below that level it would still build each one to drop it
              "access_log": logging.getLevelName(settings.log_level.upper()) <= logging.INFO}
    if args.workers > 1:
        uvicorn.run("portail_web.asgi:app", workers=args.workers, **served)
    else:
        from .asgi import build_app

        uvicorn.run(build_app(settings), **served)
    return 0


@command("check", "try every configured part (database, files, mail, payment) and print one line each")
def check_command(args: argparse.Namespace, settings: Settings) -> int:
    from portail_adapters.checks import check_all

    for noisy in ("botocore", "alembic"):  # one line per part, not the libraries' chatter
        logging.getLogger(noisy).setLevel(logging.WARNING)
    checks = check_all(settings)
    for check in checks:
        print(check.line())
    failed = [check.part for check in checks if not check.ok]
    if failed:
        print(f"portail: {', '.join(failed)}: not working (see above)", file=sys.stderr)
    return 1 if failed else 0


@command("migrate", "apply the database migrations")
def migrate_command(args: argparse.Namespace, settings: Settings) -> int:
    engine = create_engine(settings)
    check_database(engine)
    migrate(engine)
    print("database schema up to date")
    return 0


@command("demo", "load the demo utility (idempotent) and print how to try it")
def demo(args: argparse.Namespace, settings: Settings) -> int:
    from portail_adapters.demo import load_demo

    portal = portal_from(settings, run_migrations=True)
    summary = load_demo(portal)
    state = "loaded" if summary.created else "already loaded"
    print(f"demo utility {state}: {summary.subscribers} subscribers with contracts, 3 years of readings, invoices")
    print(f"try it at {settings.base_url}/connexion")
    print(f"  e-mail: {summary.email}")
    print(f"  password: {summary.password}")
    print(f"try the activation too: {settings.base_url}/mot-de-passe")
    print(f"  e-mail: {summary.activation_email}, code: {summary.activation_number} (the subscriber number)")
    print(f"  or, for subscriber {summary.claim_number} who has no e-mail on file: any e-mail, "
          f"code: {summary.claim_code}")
    print("  the e-mailed link is printed on the console of `portail serve` and saved under var/mail")
    print(f"the back office: sign in at {settings.base_url}/connexion, then give the code of the TOTP secret")
    print("  (add the secret to an authenticator app, or run "
          "python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\")")
    for staff in summary.staff:
        print(f"  {staff.role.value}: e-mail: {staff.email}, password: {staff.password}, "
              f"TOTP secret: {staff.totp_secret}")
    return 0


def _mail_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["send"], help="send: deliver the queued e-mails that are due")


@command("mail", "deliver queued e-mails (the web app also delivers in the background)", _mail_args)
def mail(args: argparse.Namespace, settings: Settings) -> int:
    from portail_domain.services.mail import waiting_mail

    from .mail_relay import deliver_now

    portal = portal_from(settings)
    # Rounds of at most 50 until nothing due is left (an import queues a mail per subscriber);
    # a round with a failure ends the run: if the server is down, each further mail would only wait
    # for its own timeout. What is left goes at the next run or with the web app's relay.
    sent = failed = 0
    while True:
        report = deliver_now(portal)
        sent, failed = sent + report.sent, failed + report.failed
        if report.failed or not report.sent:
            break
    waiting = waiting_mail(portal)
    print(f"{sent} sent, {failed} failed (retried later), {waiting} waiting in the outbox")
    return 1 if failed else 0


def _reminders_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["send"],
                   help="send: queue today's payment reminders (idempotent; run it daily)")


@command("reminders", "queue today's payment reminders: before and after an unpaid invoice's due date "
         "(each sent once; meant for a daily timer)", _reminders_args)
def reminders_command(args: argparse.Namespace, settings: Settings) -> int:
    from .mail_relay import remind_now

    summary = remind_now(portal_from(settings))
    print(f"reminders: {summary} (delivered by the mail relay, or `portail mail send`)")
    return 0


def _staff_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("subcommand", choices=["add"], help="add: create a staff user (or renew their link)")
    p.add_argument("email")
    p.add_argument("--role", choices=["agent", "admin"], required=True)
    p.add_argument("--name", default="")


@command("staff", "staff users: `staff add EMAIL --role agent|admin` prints a one-time link to set the password",
         _staff_args)
def staff(args: argparse.Namespace, settings: Settings) -> int:
    from portail_domain.model.accounts import StaffRole
    from portail_domain.model.errors import InvalidValue
    from portail_domain.services.activation import invite_staff

    portal = portal_from(settings)
    try:
        invitation = invite_staff(portal, args.email, StaffRole(args.role), args.name)
    except InvalidValue as exc:
        reason = "already a subscriber's login" if exc.code == "email_unavailable" else "not an e-mail address"
        print(f"portail: {args.email!r}: {reason}", file=sys.stderr)
        return 2
    state = "created" if invitation.created else "already exists, new link"
    hours = int(portal.config.limits.staff_invitation_validity.total_seconds() // 3600)
    print(f"staff user {invitation.staff.email} ({invitation.staff.role.value}) {state}")
    print(f"one-time link to set the password (valid {hours} h, then log in at {settings.base_url}/connexion):")
    print(portal.links.url(invitation.link))
    return 0


def _payments_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["reconcile"], help="reconcile: re-ask the gateway about pending payments")
    p.add_argument("--older-than", type=int, default=5, metavar="MINUTES",
                   help="only payments started at least this long ago (default 5)")


@command("payments", "payments reconcile: settle pending payments whose notification never came", _payments_args)
def payments_command(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from portail_domain.services.billing import reconcile_pending

    if args.older_than < 0:
        print("portail: --older-than: a number of minutes, 0 or more", file=sys.stderr)
        return 2
    summary = reconcile_pending(portal_from(settings), timedelta(minutes=args.older_than))
    print(f"payments reconciled: {summary.checked} checked, {summary.paid} paid, {summary.settled} refused, "
          f"abandoned or expired, {summary.still_pending} still pending, {summary.flagged} flagged, "
          f"{summary.unreachable} unreachable")
    return 1 if summary.unreachable else 0


def _retention_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["apply"], help="apply: delete or close what is past its retention period")
    p.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")


@command("retention", "apply the retention periods (PORTAIL_RETENTION_*): run daily; prints counts", _retention_args)
def retention_command(args: argparse.Namespace, settings: Settings) -> int:
    from portail_domain.services.privacy import apply_retention

    report = apply_retention(portal_from(settings), dry_run=args.dry_run)
    print(report.line())
    return 0


def _files_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["sweep"],
                   help="sweep: find the stored objects no row points to (an upload cut short); a dry run "
                        "unless --delete")
    p.add_argument("--delete", action="store_true", help="delete them (by default: count them, change nothing)")
    p.add_argument("--older-than", type=int, default=1, metavar="HOURS",
                   help="only objects written at least this long ago (default 1, the least: younger ones may "
                        "belong to an upload not committed yet)")


@command("files", "files sweep [--delete]: the stored objects no row points to, older than an hour (run daily, "
         "after the imports); prints counts", _files_args)
def files_command(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from portail_domain.model.errors import StorageError
    from portail_domain.services.files import sweep_files

    if args.older_than < 1:
        print("portail: --older-than: a number of hours, 1 or more", file=sys.stderr)
        return 2
    try:
        report = sweep_files(portal_from(settings), delete=args.delete, min_age=timedelta(hours=args.older_than))
    except (StorageError, OSError) as exc:
        print(f"portail: files sweep: {exc} (PORTAIL_FILES_URL)", file=sys.stderr)
        return 1
    print(report.line())
    return 0


CLI_REFUSALS = {
    "file_empty": "the file is empty",
    "file_type": "not a PDF, JPEG or PNG file (recognised by its content)",
    "file_too_large": "larger than 10 MB",
    "storage_error": "the file store does not answer (PORTAIL_FILES_URL)",
}


def _documents_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["add"], help="add: publish FILE into a subscriber's folder")
    p.add_argument("subscriber_number", metavar="SUBSCRIBER_NUMBER")
    p.add_argument("folder", metavar="FOLDER", help="the folder's name (Courriers) or kind (letters)")
    p.add_argument("file", metavar="FILE", help="a PDF, JPEG or PNG file, 10 MB at most")


@command("documents", "publish a document into a subscriber's folder (documents add NUMBER FOLDER FILE)",
         _documents_args)
def documents_command(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from portail_domain.model.errors import DomainError, NotFound
    from portail_domain.model.publishing import Audience
    from portail_domain.services.publishing import publish_document

    path = Path(args.file)
    try:
        handle = path.open("rb")
    except OSError as exc:
        print(f"portail: {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    portal = portal_from(settings)
    with handle:
        try:
            published = publish_document(portal, None, audience=Audience.subscriber(args.subscriber_number),
                                         folder=args.folder, filename=path.name, data=handle)
        except NotFound as exc:
            if "subscriber" in exc.params:
                print(f"portail: no subscriber {args.subscriber_number!r}", file=sys.stderr)
            else:
                print(f"portail: no folder {args.folder!r} (Contrats, Factures, Courriers, Mes envois; "
                      "or contracts, invoices, letters, uploads)", file=sys.stderr)
            return 1
        except DomainError as exc:
            print(f"portail: {args.file}: {CLI_REFUSALS.get(exc.code, exc.code)}", file=sys.stderr)
            return 1
    print(f"added {published.filename} ({published.size} bytes, sha256 {published.sha256[:12]}…) "
          f"for subscriber {args.subscriber_number}")
    return 0


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=IMPORT_KINDS, help="what the file holds")
    p.add_argument("file", help="CSV file (UTF-8, ; or , separated, a header row)")


@command("import", "import a CSV file from the billing system (all or nothing)", _import_args)
def import_command(args: argparse.Namespace, settings: Settings) -> int:
    portal = portal_from(settings, run_migrations=True)  # like serve and demo: a fresh database just works
    started = time.perf_counter()
    try:
        with _progress(f"{args.kind}: {args.file}") as progress:
            summary = import_csv(portal, args.kind, args.file, progress=progress)
    except ImportRejected as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        print(f"{args.file}: nothing imported", file=sys.stderr)
        return 1
    elapsed = max(time.perf_counter() - started, 1e-9)
    print(f"{args.kind}: {summary} ({summary.rows} rows in {elapsed:.1f} s, {summary.rows / elapsed:,.0f} rows/s)")
    return 0


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int, int], None] | None]:
    """A progress bar on a terminal; nothing when the output goes to a file or a pipe."""
    if not (sys.stderr.isatty() or sys.stdout.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None, rows=0)

        def update(done: int, total: int, rows: int) -> None:
            bar.update(task, completed=done, total=total or None, rows=rows)

        yield update


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=EXPORT_KINDS, help="what to export")
    p.add_argument("--since", metavar="DATE", help="only what was recorded since DATE (YYYY-MM-DD or DD/MM/YYYY)")
    p.add_argument("--raw", action="store_true",
                   help="cells exactly as stored, for a program (by default a cell a spreadsheet would run as a "
                        "formula starts with ')")


@command("export", "write payments, subscribers' readings, requests, the audit log, direct-debit mandates or relief "
         "decisions as CSV to stdout", _export_args)
def export_command(args: argparse.Namespace, settings: Settings) -> int:
    since = None
    if args.since:
        try:
            since = parse_since(args.since)
        except ValueError as exc:
            print(f"portail: --since: {exc}", file=sys.stderr)
            return 2
    portal = portal_from(settings)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    rows = export_csv(portal, args.kind, sys.stdout, since=since, raw=args.raw)
    sys.stdout.flush()
    print(f"{args.kind}: {rows} rows exported", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portail", description="Portail usager — eau et assainissement")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_fn, arguments, help_text) in COMMANDS.items():
        arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        return COMMANDS[args.command][0](args, settings)
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"portail: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
