"""File stores: local disk (the embedded default) and S3 (any S3-compatible server, through boto3)."""

from .local import LocalFileStore, check_key
from .naming import content_disposition

__all__ = ["LocalFileStore", "check_key", "content_disposition"]
