"""A real portal process (``portail demo`` then ``portail serve``) for the browser tests and the tour."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def running_portal(workdir: Path) -> Iterator[str]:
    """Load the demo into ``workdir`` and serve it on a free local port; yields the base URL."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")}
    env["PORTAIL_BASE_URL"] = base_url
    cli = [sys.executable, "-m", "portail_web.cli"]
    subprocess.run([*cli, "demo"], cwd=workdir, env=env, check=True, capture_output=True, timeout=120)
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], cwd=workdir, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base_url}/healthz", timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("the portal did not start") from None
            time.sleep(0.2)
    try:
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)
