"""Jinja2 set up once per language: autoescape, i18n, the formatting filters."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from . import formatting
from .i18n import LANGUAGES, translations

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the package: no stat() of every template file on every render
        # (5 % of a loaded server's samples under py-spy); a restart picks up new ones.
        auto_reload=False,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = partial(_call, formatting.money, language)
    env.filters["day"] = partial(_call, formatting.day, language)
    env.filters["moment"] = partial(_call, formatting.moment, language)
    env.filters["number"] = partial(_call, formatting.number, language)
    env.filters["m3"] = partial(_call, formatting.m3, language)
    env.filters["filesize"] = partial(_call, formatting.file_size, language)
    return env


def _call(fn: Any, language: str, value: Any, *args: Any) -> str:
    return fn(value, language, *args)


class Templates:
    """One Jinja2 environment per UI language."""

    def __init__(self) -> None:
        self.environments = {language: _environment(language) for language in LANGUAGES}

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        """Render ``name`` in the visitor's language with the common context."""
        visitor = getattr(request.state, "visitor", None)
        language = visitor.language if visitor else "fr"
        ctx: dict[str, Any] = {
            "request": request,
            "visitor": visitor,
            "language": language,
            "utility": request.app.state.portal.config.utility,
            "csrf_token": visitor.csrf_token if visitor else "",
        }
        ctx.update(context or {})
        html = self.environments[language].get_template(name).render(ctx)
        return HTMLResponse(html, status_code=status_code)


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render with the app's templates (the shortcut every endpoint uses)."""
    return request.app.state.templates.render(request, name, context, status_code)
