"""The portal's e-mails: a ``Mail`` (kind + values) rendered from ``templates/mail/``.

Each kind has one template, ``mail/<kind>.txt``, with a ``subject`` block and a ``body``
block (paragraphs separated by a blank line). It is rendered twice, as plain text and as
HTML, through the layouts ``mail/layout.txt`` and ``mail/layout.html`` that add the
utility's card: one wording per kind, translated by the UI's catalog, values formatted by
the pages' filters (``money``, ``day``, ``m3``, ``number``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, Template
from markupsafe import Markup

from portail_domain.model.legal import Mediator
from portail_domain.model.links import Link
from portail_domain.model.mail import Mail, OutgoingMail
from portail_domain.portal import UtilityCard
from portail_domain.ports import Links

from .i18n import DEFAULT_LANGUAGE, LANGUAGES
from .templating import ESCAPED, environment

TEXT_LAYOUT = "mail/layout.txt"
HTML_LAYOUT = "mail/layout.html"


def template_name(mail: Mail) -> str:
    return f"mail/{mail.kind.value}.txt"


def paragraphs(body: str) -> list[str]:
    """The paragraphs of a rendered body (blank-line separated); a single line break becomes ``<br>``."""
    found = [paragraph.strip("\n") for paragraph in body.split("\n\n")]
    return [paragraph.replace("\n", Markup("<br>\n")) for paragraph in found if paragraph.strip()]


@cache
def _environments(language: str) -> tuple[Environment, Environment]:
    """(plain text, HTML) environments for ``language``, built once per process on first use.

    The kinds' ``.txt`` templates are escaped in the HTML one only.
    """
    text, html = environment(language), environment(language, (*ESCAPED, "txt"))
    html.filters["paragraphs"] = paragraphs
    return text, html


def _subject(template: Template, context: dict[str, Any]) -> str:
    rendered = "".join(template.blocks["subject"](template.new_context(context)))
    return " ".join(rendered.split())  # a header value is one line


class TemplateMailComposer:
    """``MailComposer`` over the templates of ``templates/mail/``, signed with the utility's card and
    the consumer mediator's details (Code de la consommation L616-1: on every invoice mail, so on all)."""

    def __init__(self, utility: UtilityCard, links: Links, mediator: Mediator | None = None) -> None:
        self.utility = utility
        self.links = links
        self.mediator = mediator or Mediator()

    def compose(self, mail: Mail) -> OutgoingMail:
        language = mail.language if mail.language in LANGUAGES else DEFAULT_LANGUAGE
        text_env, html_env = _environments(language)
        urls = {name: self.links.url(value) for name, value in mail.params.items() if isinstance(value, Link)}
        common = {"utility": self.utility, "mediator": self.mediator, "language": language}
        text_context = {**mail.params, **urls, **common, "layout": TEXT_LAYOUT}
        template = text_env.get_template(template_name(mail))
        subject = _subject(template, text_context)
        text = template.render(text_context).rstrip("\n") + "\n"
        anchors = {name: Markup('<a href="{0}">{0}</a>').format(url) for name, url in urls.items()}
        html_context = {**mail.params, **anchors, **common, "layout": HTML_LAYOUT, "title": subject}
        html = html_env.get_template(template_name(mail)).render(html_context).rstrip("\n") + "\n"
        return OutgoingMail(to=mail.to, subject=subject, text=text, html=html)
