"""The mails: every kind rendered from the web's templates, in both languages, with absolute links."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from starlette.routing import NoMatchFound

from portail_adapters.memory import PlainComposer, PlainLinks
from portail_domain.model.links import Link
from portail_domain.model.mail import Mail, MailKind
from portail_domain.model.values import Money
from portail_web.wiring import web_mail
from tests.support import BASE_URL, UTILITY

REQUEST_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")
TOKEN = "tok_EN-123"
SAMPLES = {
    MailKind.PASSWORD_LINK: {"account": "marie@example.org", "link": Link("password_new", query={"jeton": TOKEN}),
                             "validity_minutes": 10},
    MailKind.PASSWORD_CHANGED: {"account": "marie@example.org"},
    MailKind.EMAIL_CHANGE: {"account": "marie@example.org", "link": Link("email_confirm", query={"jeton": TOKEN}),
                            "validity_minutes": 10},
    MailKind.EMAIL_CHANGE_NOTICE: {"account": "marie@example.org", "new": "marie@example.net"},
    MailKind.OVERCONSUMPTION: {
        "name": "Marie Dupont", "number": "C1", "address": "1 rue X, 34230 Paulhan", "start": date(2025, 9, 29),
        "end": date(2025, 12, 29), "litres": 109_200, "lpd": Fraction(1200), "usual": Fraction(300),
        "link": Link("request_new", query={"categorie": "ecretement", "contrat": "C1"}),
        "contract_link": Link("contract", {"contract_number": "C1"}), "deadline": date(2026, 1, 29),
    },
    MailKind.PAYMENT_RECEIPT: {"name": "Marie Dupont", "number": "F9", "amount": Money(123456),
                               "paid_on": date(2026, 3, 10), "transaction": "AUTO42"},
    MailKind.REQUEST_RECEIVED: {"reference": "D-2026-000001", "subject": "Fuite <sous> l'évier",
                                "link": Link("request", {"request_id": REQUEST_ID})},
    MailKind.REQUEST_ANSWERED: {"reference": "D-2026-000001", "subject": "Fuite <sous> l'évier",
                                "link": Link("request", {"request_id": REQUEST_ID})},
    MailKind.ACCOUNT_CLOSED: {"name": "Marie Dupont", "number": "100001", "link": Link("password_request")},
    MailKind.ACCOUNT_UNUSED: {"name": "Marie Dupont", "number": "100001", "closes_on": date(2026, 4, 9),
                              "link": Link("login")},
    MailKind.REQUEST_FOLLOW_UP: {"reference": "D-2026-000001", "subject": "Fuite <sous> l'évier", "name": "Paul Agent",
                                 "link": Link("staff_request", {"request_id": "00000000-0000-4000-8000-000000000001"})},
    MailKind.RELIEF_DECISION: {"reference": "D-2026-000001", "number": "C1", "granted": 0, "capped": 54_600,
                               "billed": 109_200, "reason": "Fuite sur un équipement ménager",
                               "start": date(2025, 9, 29),
                               "end": date(2025, 12, 29), "link": Link("request", {"request_id": "0000"})},
    MailKind.STAFF_INVITATION: {"name": "Paul <Agent>", "inviter": "Alice Admin", "role": "agent",
                                "link": Link("password_new", query={"jeton": TOKEN}), "validity_hours": 24},
    MailKind.MANDATE_CODE: {"code": "042917", "rum": "PORTAIL-C1-0A1B2C3D4E", "contract": "C1",
                            "creditor": "Régie des Eaux", "validity_minutes": 10},
    MailKind.MANDATE_SIGNED: {"name": "Marie Dupont", "rum": "PORTAIL-C1-0A1B2C3D4E", "contract": "C1",
                              "mode": "echeance", "iban": "FR76 •••• •••• 3420", "creditor": "Régie des Eaux",
                              "signed_at": datetime(2026, 3, 10, 9, 30, tzinfo=UTC)},
    MailKind.MANDATE_REVOKED: {"name": "Marie Dupont", "rum": "PORTAIL-C1-0A1B2C3D4E", "contract": "C1",
                               "revoked_at": datetime(2026, 3, 10, 9, 30, tzinfo=UTC)},
    MailKind.READING_REJECTED: {"name": "Marie Dupont", "number": "C1", "read_on": date(2026, 3, 9),
                                "index": 428_400, "reason": "Index <illisible>",
                                "link": Link("contract", {"contract_number": "C1"})},
    MailKind.INVOICE_AVAILABLE: {"name": "Marie Dupont", "count": 1, "number": "F2026-0001", "amount": Money(12345),
                                 "due_on": date(2026, 3, 1), "link": Link("invoice", {"number": "F2026-0001"})},
    MailKind.DOCUMENT_PUBLISHED: {"filename": "Qualité <de> l'eau 2025.pdf", "folder": "Courriers",
                                  "link": Link("documents")},
    MailKind.PAYMENT_REMINDER: {"name": "Marie Dupont", "kind": "after", "number": "F2026-0001",
                                "amount": Money(12345), "due_on": date(2026, 3, 1),
                                "link": Link("invoice", {"number": "F2026-0001"})},
}
LINKED = {kind for kind, params in SAMPLES.items() if any(isinstance(v, Link) for v in params.values())}


def compose(kind: MailKind, language: str):
    composer, _links = web_mail(BASE_URL, UTILITY)
    return composer.compose(Mail(kind, "marie@example.org", language, SAMPLES[kind]))


def test_every_kind_has_a_sample():
    assert set(SAMPLES) == set(MailKind)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", list(MailKind))
def test_every_kind_renders_subject_text_and_html(kind, language):
    mail = compose(kind, language)
    assert mail.to == "marie@example.org"
    assert mail.subject and "\n" not in mail.subject and mail.subject == mail.subject.strip()
    assert f"-- \n{UTILITY.name}\n{UTILITY.address}\n{UTILITY.phone}\n\n" in mail.text
    # The consumer mediator closes every mail (Code de la consommation L616-1), in text and HTML.
    assert mail.text.endswith("Médiation de l'eau, BP 40463, 75366 Paris Cedex 08, https://www.mediation-eau.fr\n")
    assert "Médiation de l&#39;eau, BP 40463, 75366 Paris Cedex 08, https://www.mediation-eau.fr" in mail.html
    assert mail.html.startswith("<!doctype html>") and f'<html lang="{language}">' in mail.html
    assert mail.html.count("<p>") >= 3 and "{{" not in mail.text + mail.html and "%(" not in mail.text + mail.html
    if kind in LINKED:
        assert f"{BASE_URL}/" in mail.text and f'<a href="{BASE_URL}/' in mail.html
    if language == "en":
        french = compose(kind, "fr")
        assert mail.subject != french.subject and "Bonjour" not in mail.text and "Bonjour" not in mail.html


def test_links_are_absolute_from_the_base_url_and_never_a_host_header():
    composer, links = web_mail("https://portail.example.fr/eau/", UTILITY)
    assert links.url(Link("password_new", query={"jeton": TOKEN})) == (
        f"https://portail.example.fr/eau/mot-de-passe/nouveau?jeton={TOKEN}")
    assert links.url(Link("request", {"request_id": REQUEST_ID})) == (
        f"https://portail.example.fr/eau/demandes/{REQUEST_ID}")
    assert links.url(Link("contract", {"contract_number": "C 1/2"})) == "https://portail.example.fr/eau/contrats/C%201%2F2"
    assert links.url(Link("payment_notification")) == "https://portail.example.fr/eau/paiement/notification"
    mail = composer.compose(Mail(MailKind.PASSWORD_LINK, "m@example.org", "fr", SAMPLES[MailKind.PASSWORD_LINK]))
    assert f"https://portail.example.fr/eau/mot-de-passe/nouveau?jeton={TOKEN}\n" in mail.text


def test_a_link_to_a_route_that_does_not_exist_fails_loudly():
    composer, links = web_mail(BASE_URL, UTILITY)
    with pytest.raises(NoMatchFound):
        links.url(Link("no_such_route"))
    with pytest.raises(NoMatchFound):  # a path parameter the route does not have
        links.url(Link("contracts", {"contract_number": "C1"}))
    with pytest.raises(NoMatchFound):
        composer.compose(Mail(MailKind.REQUEST_ANSWERED, "m@example.org", "fr",
                              {**SAMPLES[MailKind.REQUEST_ANSWERED], "link": Link("demande")}))


def test_values_are_formatted_as_on_the_pages_and_escaped_in_html():
    receipt = compose(MailKind.PAYMENT_RECEIPT, "fr")
    assert "1\u202f234,56\u00a0€ pour la facture F9, le 10/03/2026." in receipt.text
    assert "€1,234.56 for invoice F9 on 2026-03-10." in compose(MailKind.PAYMENT_RECEIPT, "en").text
    alert = compose(MailKind.OVERCONSUMPTION, "fr")
    assert "Entre le 29 septembre 2025 et le 29 décembre 2025" in alert.text
    assert "Vous avez jusqu'au 29 janvier 2026" in alert.text  # the certificate's deadline (loi Warsmann)
    refused = compose(MailKind.RELIEF_DECISION, "fr")
    assert "est refusée, pour le motif suivant : Fuite sur un équipement ménager" in refused.text
    assert refused.text.count("Médiation de l'eau") == 2  # in the body, and as in every mail's footer
    assert "109,200 m³, soit 1\u202f200 litres par jour" in alert.text
    request = compose(MailKind.REQUEST_RECEIVED, "fr")
    assert "« Fuite <sous> l'évier »" in request.text
    assert "« Fuite &lt;sous&gt; l&#39;évier »" in request.html


def test_the_publication_mail_names_the_folder_in_the_language_and_no_one():
    french, english = compose(MailKind.DOCUMENT_PUBLISHED, "fr"), compose(MailKind.DOCUMENT_PUBLISHED, "en")
    assert "« Qualité <de> l'eau 2025.pdf » dans votre espace abonné, dossier « Courriers »." in french.text
    assert "“Qualité &lt;de&gt; l&#39;eau 2025.pdf”" in english.html and "“Letters” folder" in english.text
    assert french.text.startswith("Bonjour,\n") and "Marie" not in french.text + english.text


def test_an_unknown_language_falls_back_to_french():
    composer, _links = web_mail(BASE_URL, UTILITY)
    mail = composer.compose(Mail(MailKind.PASSWORD_CHANGED, "m@example.org", "de", SAMPLES[MailKind.PASSWORD_CHANGED]))
    assert mail.subject.startswith("Votre mot de passe a été modifié")


def test_the_plain_fakes_for_embedders():
    links = PlainLinks("https://portal.example/")
    assert links.url(Link("request", {"request_id": "r 1"}, {"a": "b c"})) == "https://portal.example/request/r%201?a=b+c"
    mail = PlainComposer(links).compose(Mail(MailKind.PASSWORD_LINK, "m@example.org", "en",
                                             SAMPLES[MailKind.PASSWORD_LINK]))
    assert mail.subject == "password_link (en)"
    assert f"link: https://portal.example/password_new?jeton={TOKEN}\n" in mail.text


def test_mandate_mails_say_the_code_its_lifetime_and_the_masked_iban():
    code = compose(MailKind.MANDATE_CODE, "fr")
    assert code.subject == "Votre code de signature du mandat de prélèvement : 042917"
    assert "\n042917\n" in code.text and "valable que 10 minutes" in code.text
    assert compose(MailKind.MANDATE_CODE, "en").subject == "Your direct debit mandate signing code: 042917"
    signed = compose(MailKind.MANDATE_SIGNED, "fr")
    assert "sur le compte FR76 •••• •••• 3420" in signed.text and "prélevée à sa date d'échéance" in signed.text
    assert "révoqué depuis le" in compose(MailKind.MANDATE_REVOKED, "fr").text


def test_a_sent_mail_is_recorded_once_the_database_is_back(memory_portal):
    """A database that restarts between sending and recording must not make the mail go out twice."""
    from portail_domain.services.mail import deliver_outbox, queue_mail

    with memory_portal.uow() as uow:
        queue_mail(uow, memory_portal, Mail(MailKind.PASSWORD_CHANGED, "marie@example.org", "fr",
                                            {"account": "marie@example.org"}))
        uow.commit()
    working, calls = memory_portal.uow, []

    def restarting(**kwargs):
        calls.append(1)
        if len(calls) == 2:  # the first try to record the sending
            raise ConnectionError("the database restarts")
        return working(**kwargs)

    memory_portal.uow = restarting
    assert deliver_outbox(memory_portal).sent == 1
    memory_portal.uow = working
    assert deliver_outbox(memory_portal).sent == 0 and len(memory_portal.mailer.sent) == 1
    with memory_portal.uow() as uow:
        assert uow.outbox.pending() == []
