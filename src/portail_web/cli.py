"""The ``portail`` command line: serve, migrate, demo (more commands arrive with their areas)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence

from portail_adapters.bootstrap import bootstrap, check_database, create_engine
from portail_adapters.settings import Settings, SettingsError, load_settings
from portail_adapters.sql import migrate
from portail_domain.exchange import EXPORT_KINDS, IMPORT_KINDS, ImportRejected, export_csv, import_csv, parse_since
from portail_domain.portal import Portal

Command = Callable[[argparse.Namespace, Settings], int]
COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    def register(fn: Command) -> Command:
        COMMANDS[name] = (fn, arguments, help_text)
        return fn

    return register


def portal_from(settings: Settings, *, run_migrations: bool = False) -> Portal:
    return bootstrap(settings, run_migrations=run_migrations)


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)


@command("serve", "migrate if needed, then serve the web app", _serve_args)
def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    engine = create_engine(settings)
    check_database(engine)
    migrate(engine)
    engine.dispose()
    if args.workers > 1:
        uvicorn.run("portail_web.asgi:app", host=args.host, port=args.port, workers=args.workers,
                    proxy_headers=True, log_level=settings.log_level.lower())
    else:
        from .asgi import build_app

        uvicorn.run(build_app(settings), host=args.host, port=args.port, proxy_headers=True,
                    log_level=settings.log_level.lower())
    return 0


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


@command("export", "write payments, subscribers' readings or requests as CSV to stdout", _export_args)
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
    rows = export_csv(portal, args.kind, sys.stdout, since=since)
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
