"""File stores: local disk (the embedded default) and S3 (arrives with the Documents issue)."""

from .local import LocalFileStore, check_key

__all__ = ["LocalFileStore", "check_key"]
