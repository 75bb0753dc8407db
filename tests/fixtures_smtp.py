"""Pytest fixtures for a real SMTP server (aiosmtpd), loaded from tests/conftest.py.

The Accounts issue fills this module in.
"""
