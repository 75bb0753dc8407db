"""Pytest fixtures for a real S3 server (SeaweedFS), loaded from tests/conftest.py.

The Documents issue fills this module in.
"""
