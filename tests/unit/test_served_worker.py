"""What a served worker sets up at start that the tests' apps do not."""

from __future__ import annotations

import gc

from portail_web.app import create_app
from tests.support import BASE_URL, WebClient


def test_a_served_worker_sets_its_startup_heap_aside_from_full_collections(memory_portal):
    gc.unfreeze()
    try:
        with WebClient(create_app(memory_portal), base_url=BASE_URL) as client:  # a test's app: untouched
            assert client.get("/connexion").status_code == 200
            assert gc.get_freeze_count() == 0
        with WebClient(create_app(memory_portal, freeze_heap=True), base_url=BASE_URL) as client:
            assert gc.get_freeze_count() > 10_000  # the libraries, templates, the app itself
            assert client.get("/connexion").status_code == 200
    finally:
        gc.unfreeze()  # the test process goes on collecting everything
