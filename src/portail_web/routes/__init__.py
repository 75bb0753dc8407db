"""Endpoints, one module per area of the portal; each exposes ``routes``."""
