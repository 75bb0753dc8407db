"""Mail: delivering the outbox, and the texts of the account e-mails."""

from __future__ import annotations

import html
import logging

from ..model import errors
from ..model.mail import LEASE, DeliveryReport, OutgoingMail, backoff
from ..portal import Portal, PortalConfig

log = logging.getLogger("portail.mail")


def deliver_outbox(portal: Portal, *, limit: int = 50) -> DeliveryReport:
    """Deliver the due entries (at most ``limit``); failures wait for their next attempt.

    Delivery is at least once: if the process dies between sending and marking, the lease
    runs out and the entry is sent again; it is never dropped.
    """
    uow, mailer, clock = portal.uow, portal.mailer, portal.clock
    if mailer is None:
        raise errors.NotConfigured(what="mailer")
    now = clock.now()
    with uow() as work:
        entries = work.outbox.claim(now, now + LEASE, limit)
        work.commit()
    sent = failed = 0
    for entry in entries:
        try:
            mailer.send(entry.mail)
        except Exception as exc:  # noqa: BLE001 - any failure: keep the entry, retry later
            failed += 1
            retry_at = clock.now() + backoff(entry.attempts)
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
            log.warning("mail_failed id=%s attempts=%d retry_at=%s error=%s", entry.id, entry.attempts,
                        retry_at.isoformat(), reason)
            with uow() as work:
                work.outbox.mark_failed(entry.id, retry_at, reason)
                work.commit()
            continue
        with uow() as work:
            work.outbox.mark_sent(entry.id, clock.now())
            work.commit()
        sent += 1
    return DeliveryReport(sent, failed)


def waiting_mail(portal: Portal) -> int:
    """How many e-mails wait in the outbox (not delivered yet)."""
    with portal.uow(read_only=True) as uow:
        return len(uow.outbox.pending())


_TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "link_subject": "Renouvellement de votre mot de passe — {utility}",
        "link_body": (
            "Bonjour,\n\n"
            "Une demande de renouvellement de mot de passe a été effectuée pour le compte {account} "
            "de l'application Portail. Cliquez sur ce lien pour commencer la procédure de renouvellement.\n\n"
            "{link}\n\n"
            "Ce lien ne sera valide que pendant 10 mn.\n\n"
            "Attention ! Si vous n'avez pas demandé de renouvellement de mot de passe, "
            "veuillez en informer votre administrateur ({contact})."
        ),
        "changed_subject": "Votre mot de passe a été modifié — {utility}",
        "changed_body": (
            "Bonjour,\n\n"
            "Le mot de passe du compte {account} de l'application Portail vient d'être modifié. "
            "Toutes les sessions ouvertes ont été fermées.\n\n"
            "Attention ! Si vous n'êtes pas à l'origine de ce changement, veuillez en informer "
            "votre administrateur ({contact})."
        ),
        "email_subject": "Confirmez votre nouvelle adresse e-mail — {utility}",
        "email_body": (
            "Bonjour,\n\n"
            "Une demande de changement de l'adresse e-mail de connexion a été effectuée pour le compte "
            "{account} de l'application Portail. Cliquez sur ce lien pour confirmer cette nouvelle adresse.\n\n"
            "{link}\n\n"
            "Ce lien ne sera valide que pendant 10 mn.\n\n"
            "Si vous n'avez pas fait cette demande, ignorez ce message."
        ),
        "notice_subject": "Changement de votre adresse e-mail de connexion — {utility}",
        "notice_body": (
            "Bonjour,\n\n"
            "Une demande de changement de l'adresse e-mail de connexion du compte {account} "
            "de l'application Portail vers l'adresse {new} a été effectuée.\n\n"
            "Attention ! Si vous n'êtes pas à l'origine de cette demande, changez votre mot de passe "
            "et informez-en votre administrateur ({contact})."
        ),
    },
    "en": {
        "link_subject": "Renewing your password — {utility}",
        "link_body": (
            "Hello,\n\n"
            "A password renewal was requested for the account {account} of the Portail application. "
            "Click on this link to start the renewal procedure.\n\n"
            "{link}\n\n"
            "This link is only valid for 10 minutes.\n\n"
            "Warning! If you did not request a password renewal, please tell your administrator ({contact})."
        ),
        "changed_subject": "Your password was changed — {utility}",
        "changed_body": (
            "Hello,\n\n"
            "The password of the account {account} of the Portail application has just been changed. "
            "Every open session was closed.\n\n"
            "Warning! If you did not make this change, please tell your administrator ({contact})."
        ),
        "email_subject": "Confirm your new e-mail address — {utility}",
        "email_body": (
            "Hello,\n\n"
            "A change of the login e-mail address was requested for the account {account} of the Portail "
            "application. Click on this link to confirm this new address.\n\n"
            "{link}\n\n"
            "This link is only valid for 10 minutes.\n\n"
            "If you did not make this request, ignore this message."
        ),
        "notice_subject": "Change of your login e-mail address — {utility}",
        "notice_body": (
            "Hello,\n\n"
            "A change of the login e-mail address of the account {account} of the Portail application "
            "to {new} was requested.\n\n"
            "Warning! If you did not make this request, change your password and tell your administrator "
            "({contact})."
        ),
    },
}


def _mail(kind: str, language: str, to: str, config: PortalConfig, *,
          table: dict[str, dict[str, str]] | None = None, **values: str) -> OutgoingMail:
    """The mail ``kind`` of ``table`` (default: the accounts texts) in ``language`` (French otherwise)."""
    table = table or _TEXTS
    texts = table.get(language, table["fr"])
    values = {"utility": config.utility.name, "contact": config.utility.email, **values}
    subject = texts[f"{kind}_subject"].format(**values)
    text = texts[f"{kind}_body"].format(**values) + f"\n\n-- \n{config.utility.name}\n{config.utility.address}\n"
    escaped = {k: html.escape(v) for k, v in values.items()}
    if "link" in values:
        escaped["link"] = f'<a href="{html.escape(values["link"])}">{html.escape(values["link"])}</a>'
    paragraphs = texts[f"{kind}_body"].format(**escaped).split("\n\n")
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    footer = f"<p><small>{html.escape(config.utility.name)}<br>{html.escape(config.utility.address)}</small></p>"
    page = (f'<!doctype html>\n<html lang="{html.escape(language)}"><head><meta charset="utf-8">'
            f"<title>{html.escape(subject)}</title></head>\n<body>\n{body}{footer}\n</body></html>\n")
    return OutgoingMail(to=to, subject=subject, text=text, html=page)


def password_link_mail(config: PortalConfig, *, to: str, account: str, link: str, language: str) -> OutgoingMail:
    return _mail("link", language, to, config, account=account, link=link)


def password_changed_mail(config: PortalConfig, *, to: str, account: str, language: str) -> OutgoingMail:
    return _mail("changed", language, to, config, account=account)


def email_change_mail(config: PortalConfig, *, to: str, account: str, link: str, language: str) -> OutgoingMail:
    return _mail("email", language, to, config, account=account, link=link)


def email_change_notice(config: PortalConfig, *, to: str, account: str, new: str, language: str) -> OutgoingMail:
    return _mail("notice", language, to, config, account=account, new=new)


# The same layout for the mails of other areas (their own ``table`` of texts, e.g. requests).
compose = _mail
