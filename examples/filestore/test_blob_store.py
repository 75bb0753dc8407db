"""The shipped FileStore contract, run on the tutorial's adapter (as an integrator runs it on theirs)."""

import io

import pytest
from blob_store import SqliteBlobStore

from portail_adapters.testing import FileStoreContract


class TestSqliteBlobStore(FileStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return SqliteBlobStore(tmp_path / "files.sqlite3", page_size=7)  # listings take several pages


def test_refuses_keys_the_portal_did_not_generate(tmp_path):
    store = SqliteBlobStore(tmp_path / "files.sqlite3")
    with pytest.raises(ValueError):
        store.put("../etc/passwd", io.BytesIO(b"x"), content_type="text/plain")
