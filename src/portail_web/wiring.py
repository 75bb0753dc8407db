"""The web front end's portal: ``portail_adapters.bootstrap`` with the web's mail templates and links."""

from __future__ import annotations

from sqlalchemy import Engine

from portail_adapters.bootstrap import bootstrap, config_from
from portail_adapters.settings import Settings
from portail_domain.model.legal import Mediator
from portail_domain.portal import Portal, UtilityCard
from portail_domain.ports import PasswordHasher

from .app import all_routes
from .mail import TemplateMailComposer
from .printing import PdfPrinter
from .urls import RouteLinks


def web_mail(base_url: str, utility: UtilityCard,
             mediator: Mediator | None = None) -> tuple[TemplateMailComposer, RouteLinks]:
    """The mail composer and the links of this front end: its templates, its route table."""
    links = RouteLinks(base_url, all_routes())
    return TemplateMailComposer(utility, links, mediator), links


def web_portal(settings: Settings, *, engine: Engine | None = None, passwords: PasswordHasher | None = None,
               run_migrations: bool = False) -> Portal:
    """The portal of ``settings``, its mails, links and PDFs those of this front end (every web entry point's)."""
    config = config_from(settings)
    composer, links = web_mail(config.base_url, config.utility, config.legal.mediator)
    return bootstrap(settings, composer=composer, links=links, printer=PdfPrinter(), engine=engine,
                     passwords=passwords, run_migrations=run_migrations)
