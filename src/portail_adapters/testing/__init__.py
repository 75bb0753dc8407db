"""Port contract tests, shipped for integrators who write their own adapters.

Subclass a contract in your own test suite, give it a fixture that builds your adapter, and
pytest runs the same checks the portal runs on its own adapters::

    from portail_adapters.testing import FileStoreContract

    class TestMyStore(FileStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(tmp_path)

Importing this package needs pytest (it is a test helper, not part of the running portal).
"""

from .filestore import FileStoreContract

__all__ = ["FileStoreContract"]
