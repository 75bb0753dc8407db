"""The production files in deploy/ name commands and settings that exist (make deploy-check runs them)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from portail_adapters.settings import DEFAULTS
from portail_web.cli import build_parser

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICES = sorted((DEPLOY / "systemd").glob("*.service"))
SCRIPTS = {"portail-nightly": DEPLOY / "nightly.sh", "portail-backup": DEPLOY / "backup.sh"}


def exec_start(unit: Path) -> list[str]:
    line = next(line for line in unit.read_text().splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_every_unit_runs_a_command_that_exists(unit):
    program, *arguments = exec_start(unit)
    name = Path(program).name
    if name == "portail":
        build_parser().parse_args(arguments)  # exits (SystemExit) on an unknown command or option
    else:
        assert name in SCRIPTS, f"{unit.name}: {program} is neither portail nor a script of deploy/"
        subprocess.run(["bash", "-n", str(SCRIPTS[name])], check=True)
    assert "EnvironmentFile=/etc/portail/portail.env" in unit.read_text()


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_every_timed_job_has_its_timer(unit):
    if unit.name != "portail.service":
        assert unit.with_suffix(".timer").exists()


def test_the_environment_file_names_only_real_settings():
    keys = re.findall(r'^([A-Z_]+)="', (DEPLOY / "portail.env").read_text(), flags=re.MULTILINE)
    portal = {k.removeprefix("PORTAIL_") for k in keys if k.startswith("PORTAIL_")}
    for_scripts = {"EXCHANGE_DIR", "BACKUP_DIR"}  # read by deploy/nightly.sh and deploy/backup.sh
    assert portal - for_scripts <= set(DEFAULTS)
    assert {"DATABASE_URL", "FILES_URL", "MAIL_URL", "SECRET_KEY", "BASE_URL"} <= portal
