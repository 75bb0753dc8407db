"""A worker killed mid-upload leaves a temp file; the housekeeping round removes it."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from portail_adapters.files import LocalFileStore
from portail_web.mail_relay import purge_now

# Writes one chunk of an upload into the store, then hangs: the parent kills it with SIGKILL.
_HANGING_UPLOAD = """
import sys, time
from portail_adapters.files import LocalFileStore

class Hanging:
    sent = False
    def read(self, size=-1):
        if not self.sent:
            self.sent = True
            return b"%PDF-1.7 " + b"x" * 65536
        time.sleep(600)
        return b""

LocalFileStore(sys.argv[1]).put("documents/ab/abcdef", Hanging(), content_type="application/pdf")
"""


def test_a_killed_upload_leaves_a_temp_file_that_housekeeping_removes(tmp_path, memory_portal, clock):
    root = tmp_path / "files"
    child = subprocess.Popen([sys.executable, "-c", _HANGING_UPLOAD, str(root)])
    try:
        deadline = time.monotonic() + 20
        while not list(root.rglob(".upload-*")) or list(root.rglob(".upload-*"))[0].stat().st_size < 65536:
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    [leftover] = list(root.rglob(".upload-*"))
    store = LocalFileStore(root)
    store.put("documents/cd/cdef01", io.BytesIO(b"%PDF-1.7 kept"), content_type="application/pdf")
    memory_portal.files = store
    purge_now(memory_portal)
    assert leftover.exists()  # it might be a write under way in another worker
    an_hour_ago = time.time() - 3601
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    assert purge_now(memory_portal) == 1
    assert not leftover.exists() and store.exists("documents/cd/cdef01")
    assert sorted(p.name for p in Path(root).rglob("*") if p.is_file()) == ["cdef01"]
