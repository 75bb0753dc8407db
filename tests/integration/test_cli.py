"""The ``portail`` command as a user runs it: a real process, real settings, real database."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from portail_adapters.demo import load_demo
from portail_adapters.passwords import Argon2Hasher
from portail_adapters.settings import load_settings
from portail_web.wiring import web_portal


def portail(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "portail_web.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_migrate_then_serve_answers_healthz(tmp_path):
    assert portail("migrate", cwd=tmp_path).returncode == 0
    assert (tmp_path / "var" / "portail.db").exists() and (tmp_path / "var" / "secret_key").exists()
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")}
    process = subprocess.Popen([sys.executable, "-m", "portail_web.cli", "serve", "--port", str(port)], cwd=tmp_path,
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    assert json.loads(response.read())["database"] is True
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PORTAIL_DATABASE_URL": "mysql://db/portail"}, "PORTAIL_DATABASE_URL: unknown scheme mysql://"),
        ({"PORTAIL_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/portail"},
         "PORTAIL_DATABASE_URL: the database does not answer"),
    ],
)
def test_a_bad_setting_stops_with_one_clear_line(tmp_path, env, expected):
    result = portail("migrate", cwd=tmp_path, env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"portail: {expected}"), result.stderr


def test_demo_is_believable_and_idempotent(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    portal = web_portal(settings, passwords=Argon2Hasher.fast_for_tests(), run_migrations=True)
    first = load_demo(portal)
    second = load_demo(portal)
    assert first.created and not second.created
    today = portal.clock.today()
    with portal.uow() as uow:
        subscribers = uow.subscribers.list()
        assert len(subscribers) == 20
        marie = uow.subscribers.by_number("100001")
        contracts = uow.contracts.for_subscriber(marie.id)
        assert len(contracts) == 2
        readings = uow.readings.for_contract(contracts[0].id)
        assert (today - readings[0].read_on).days >= 3 * 365 and len(readings) >= 12
        statuses = {i.status.value for s in subscribers for i in uow.invoices.for_subscriber(s.id)}
        assert {"paid", "to_pay"} <= statuses
        assert len(uow.folders.for_subscriber(marie.id)) == 4
        # Every invoice has its PDF in "Factures", readable from the file store.
        invoices = uow.invoices.for_subscriber(marie.id)
        pdfs = [uow.documents.get(i.pdf_document_id) for i in invoices]
        assert invoices and all(d is not None and d.filename.endswith(".pdf") for d in pdfs)
        assert b"".join(portal.files.open(pdfs[0].storage_key)).startswith(b"%PDF-")
        assert portal.passwords.verify(uow.accounts.for_subscriber(marie.id).password_hash, first.password)
        # One admin and one agent, enrolled with the secret printed, signing in with the password printed.
        for demo in second.staff:
            staff = uow.staff.by_email(demo.email)
            assert staff.role is demo.role and staff.totp_secret == demo.totp_secret
            assert portal.passwords.verify(uow.accounts.for_staff(staff.id).password_hash, demo.password)
        assert {d.role.value for d in second.staff} == {"admin", "agent"}


def test_demo_command_prints_how_to_log_in(tmp_path):
    result = portail("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "/connexion" in result.stdout and "marie.dupont@example.org" in result.stdout
    assert "admin@eau-demo.example" in result.stdout
    assert "TOTP secret: JBSWY3DPEHPK3PXPALICEADMINDEMO23" in result.stdout


def test_export_audit_is_a_csv_with_its_header(tmp_path):
    assert portail("migrate", cwd=tmp_path).returncode == 0
    result = portail("export", "audit", "--since", "2026-01-01", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "at;staff_email;action;subscriber_number;target;before;after\n"
    assert "audit: 0 rows exported" in result.stderr
    assert portail("export", "audit", "--since", "hier", cwd=tmp_path).returncode == 2


def serve_and_fail_a_login(tmp_path: Path, env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Serve, send a wrong login claiming another address in X-Forwarded-For; (server output, headers)."""
    import httpx2

    assert portail("migrate", cwd=tmp_path).returncode == 0
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")}
    environment.update(env, PORTAIL_LOG_LEVEL="INFO")
    process = subprocess.Popen([sys.executable, "-m", "portail_web.cli", "serve", "--port", str(port)], cwd=tmp_path,
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:  # a loaded machine
            deadline = time.monotonic() + 30
            while True:
                try:
                    page = client.get("/connexion")
                    break
                except httpx2.TransportError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.2)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            answer = client.post("/connexion", data={"email": "x@example.org", "password": "faux", "csrf_token": token},
                                 headers={"X-Forwarded-For": "203.0.113.77"})
            assert answer.status_code == 400
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    return output, dict(answer.headers)


def test_forwarded_addresses_are_believed_only_from_trusted_proxies(tmp_path):
    output, headers = serve_and_fail_a_login(tmp_path, {})
    assert "login_failed email=x@example.org client=127.0.0.1" in output and "203.0.113.77" not in output
    assert "server" not in headers
    output, _ = serve_and_fail_a_login(tmp_path, {"PORTAIL_TRUSTED_PROXIES": "127.0.0.1"})
    assert "login_failed email=x@example.org client=203.0.113.77" in output
