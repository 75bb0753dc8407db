"""The bundled web front end (Starlette + Jinja2) and the ``portail`` command line."""

from .app import create_app

__all__ = ["create_app"]
