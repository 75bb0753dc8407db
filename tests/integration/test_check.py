"""``portail check`` and the one-line errors: every configured part answers, or one line says what to fix."""

from __future__ import annotations

import os
import sys

import pytest

from portail_adapters.bootstrap import create_engine
from portail_adapters.settings import SettingsError, load_settings
from portail_web.cli import main
from tests.fixtures_s3 import free_ports


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty working directory and no PORTAIL_* from outside; returns a setter."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("PORTAIL_")]:
        monkeypatch.delenv(name)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def run_check(capsys) -> tuple[int, dict[str, str], str]:
    """Exit code, {part: status} read from the lines (`ok    files: …`), everything printed."""
    code = main(["check"])
    out, err = capsys.readouterr()
    statuses = {}
    for line in out.splitlines():
        status, part = line.split(": ", 1)[0].split(None, 1)
        statuses[part] = status
    return code, statuses, out + err


def test_the_embedded_setup_passes_every_check(env, capsys):
    assert main(["migrate"]) == 0
    capsys.readouterr()
    code, lines, _ = run_check(capsys)
    assert code == 0
    assert lines == {"base URL": "ok", "database": "ok", "files": "ok", "mail": "ok", "payment": "ok"}


def test_a_database_behind_its_migrations_is_a_warning_not_a_failure(env, capsys):
    code, lines, _ = run_check(capsys)
    assert code == 0 and lines["database"] == "warn"


def test_unreachable_parts_fail_one_line_each(env, capsys):
    closed_s3, closed_smtp = free_ports(2)
    env(PORTAIL_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/portail",
        PORTAIL_FILES_URL=f"s3://bucket?endpoint=http://127.0.0.1:{closed_s3}", AWS_ACCESS_KEY_ID="k",
        AWS_SECRET_ACCESS_KEY="s", PORTAIL_MAIL_URL=f"smtp://user:hunter2@127.0.0.1:{closed_smtp}")
    code, lines, printed = run_check(capsys)
    assert code == 1
    assert lines == {"base URL": "ok", "database": "FAIL", "files": "FAIL", "mail": "FAIL", "payment": "ok"}
    assert "hunter2" not in printed
    assert printed.strip().splitlines()[-1] == "portail: database, files, mail: not working (see above)"


@pytest.mark.postgres
def test_real_servers_pass(env, capsys, smtp_server, postgres_server_url):
    env(PORTAIL_DATABASE_URL=postgres_server_url, PORTAIL_MAIL_URL=smtp_server.url)
    code, lines, _ = run_check(capsys)
    assert lines["database"] in ("ok", "warn")  # the session's database may be migrated already
    assert lines["mail"] == "ok" and code == 0
    assert smtp_server.messages == []  # the check sends nothing


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_s3_passes_and_leaves_nothing_behind(env, capsys, seaweedfs):
    bucket = seaweedfs.new_bucket()
    env(PORTAIL_FILES_URL=f"s3://{bucket}?endpoint={seaweedfs.endpoint}", AWS_ACCESS_KEY_ID=seaweedfs.access_key,
        AWS_SECRET_ACCESS_KEY=seaweedfs.secret_key)
    _, lines, _ = run_check(capsys)
    assert lines["files"] == "ok"
    assert seaweedfs.keys(bucket) == []


def test_a_missing_postgresql_driver_is_one_line_saying_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if `pip install portail-usager` without [postgres]
    settings = load_settings({"PORTAIL_DATABASE_URL": "postgresql+psycopg://portail@db/portail",
                              "PORTAIL_SECRET_KEY_FILE": str(tmp_path / "secret")})
    with pytest.raises(SettingsError) as caught:
        create_engine(settings)
    assert caught.value.problems == [
        'PORTAIL_DATABASE_URL: the database driver psycopg is not installed: pip install "portail-usager[postgres]"'
    ]


def test_the_command_line_says_it_in_one_line_too(env, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    env(PORTAIL_DATABASE_URL="postgresql+psycopg://portail@db/portail")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ['portail: PORTAIL_DATABASE_URL: the database driver psycopg is not installed: '
                   'pip install "portail-usager[postgres]"']
