"""A real ``portail serve`` on a free local port, for the benchmarks that go through HTTP."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(database_url: str, root: Path, *, workers: int = 1) -> Iterator[str]:
    """Serve the portal on ``database_url`` (already migrated and seeded); yields its base URL.
    ``BENCH_PORTAIL=/path/to/portail`` serves another build (e.g. main's, for a before/after)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PORTAIL_DATABASE_URL": database_url, "PORTAIL_FILES_URL": f"file://{root / 'files'}",
           "PORTAIL_MAIL_URL": f"file://{root / 'mail'}", "PORTAIL_BASE_URL": base,
           "PORTAIL_SECRET_KEY": "bench-" + "k" * 40, "PORTAIL_LOG_LEVEL": "WARNING"}
    portail = os.environ.get("BENCH_PORTAIL") or str(Path(sys.executable).parent / "portail")
    server = subprocess.Popen([portail, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit(f"the server stopped: {server.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
