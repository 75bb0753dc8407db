"""Mes factures through the web app, on fakes: lists, tab, detail, PDF, paying, callbacks."""

import io
import re

import pytest

from portail_domain.model.billing import PaymentStatus
from portail_domain.model.documents import AddedBy
from portail_domain.services.documents import ensure_default_folders, store_document
from tests.support import add_invoice, add_subscriber

PASSWORD = "une-phrase-de-passe-solide"
NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.fixture
def marie(web, memory_portal):
    subscriber = add_subscriber(memory_portal, password=PASSWORD)
    add_invoice(memory_portal, subscriber, "F2025-0001", amount=9900, paid=9900, issued="2025-08-01", due="2025-09-01")
    add_invoice(memory_portal, subscriber, "F2026-0001", amount=12345, issued="2026-02-01", due="2026-03-01")
    add_invoice(memory_portal, subscriber, "F2026-0002", amount=123456, paid=3456, issued="2026-03-01",
                due="2026-04-01", contract_number="C-SECOND")
    web.login("marie@example.org", PASSWORD)
    return subscriber


def rows(page: str) -> list[str]:
    return re.findall(r'<a href="/factures/([^"/]+)">', page)


def test_all_invoices_newest_first_with_french_amounts(web, marie):
    page = web.get("/factures")
    assert page.status_code == 200
    assert rows(page.text) == ["F2026-0002", "F2026-0001", "F2025-0001"]
    text = page.text
    assert f"123,45{NBSP}€" in text and f"1{NNBSP}234,56{NBSP}€" in text and f"1{NNBSP}200,00{NBSP}€" in text
    assert "C-SECOND" in text and "C100001" in text
    assert "Réglée" in text and "Partiellement réglée" in text and "À payer" in text
    assert f"Total à payer : 1{NNBSP}323,45{NBSP}€" in text


def test_the_a_payer_tab_lists_only_what_is_due(web, marie):
    page = web.get("/factures?onglet=a-payer").text
    assert rows(page) == ["F2026-0002", "F2026-0001"]
    assert 'href="/factures?onglet=a-payer" aria-current="page"' in page
    assert f"1{NNBSP}323,45{NBSP}€" in page and "échéance dépassée depuis le 1 mars 2026" in page
    overdue = re.findall(r'<a href="/factures/([^"/]+)">(?:(?!</tr>).)*En retard', page, re.S)
    assert overdue == ["F2026-0001"]


def test_home_shows_the_total_due_what_is_overdue_and_a_pay_button(web, marie):
    page = web.get("/").text
    # today is 10 March 2026 (the test clock): the 1 March invoice is overdue
    assert re.search(rf'id="total-due">1{NNBSP}323,45{NBSP}€<', page)
    assert f"dont 123,45{NBSP}€ en retard (échéance dépassée depuis le 1 mars 2026)" in page
    # the button pays the invoice due first; the others are one link away
    form = re.search(r'<form method="post" action="/factures/([^"/]+)/payer">.*?<button[^>]*>([^<]+)</button>', page,
                     re.S)
    assert form.groups() == ("F2026-0001", f"Régler la facture F2026-0001 (123,45{NBSP}€)")
    assert "Voir les 2 factures à payer" in page
    assert web.submit("/", "/factures/F2026-0001/payer").status_code == 303


def test_invoice_detail(web, marie):
    page = web.get("/factures/F2026-0002").text
    assert "Facture F2026-0002" in page and f"1{NNBSP}200,00{NBSP}€" in page and "/factures/F2026-0002/payer" in page
    assert "/pdf" not in page  # no PDF stored
    paid = web.get("/factures/F2025-0001").text
    assert "/payer" not in paid


def test_another_subscribers_invoice_is_404_everywhere(web, marie, memory_portal):
    other = add_subscriber(memory_portal, "100002", email="paul@example.org")
    add_invoice(memory_portal, other, "F-PAUL")
    assert "F-PAUL" not in web.get("/factures").text
    assert web.get("/factures/F-PAUL").status_code == 404
    assert web.get("/factures/F-PAUL/pdf").status_code == 404
    response = web.submit("/factures/F2026-0001", "/factures/F-PAUL/payer")
    assert response.status_code == 404
    assert memory_portal.payments.orders == {}


def test_pdf_is_served_as_an_attachment_from_the_documents_store(web, marie, memory_portal):
    pdf = b"%PDF-1.4\n" + b"x" * 70000 + b"\n%%EOF\n"
    with memory_portal.uow() as uow:
        folder = next(f for f in ensure_default_folders(uow, marie.id) if f.kind == "invoices")
        document = store_document(uow, memory_portal.files, memory_portal.clock, subscriber_id=marie.id,
                                  folder_id=folder.id, filename="../../etc/passwd", content_type="application/pdf",
                                  data=io.BytesIO(pdf), size=len(pdf), sha256="0" * 64, added_by=AddedBy.UTILITY)
        invoice = uow.invoices.by_number("F2026-0001")
        invoice.pdf_document_id = document.id
        uow.invoices.update(invoice)
        uow.commit()
    assert "/factures/F2026-0001/pdf" in web.get("/factures/F2026-0001").text
    response = web.get("/factures/F2026-0001/pdf")
    assert response.status_code == 200 and response.content == pdf
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="facture-F2026-0001.pdf"'
    assert response.headers["content-security-policy"] == "sandbox"  # the same headers as any document
    assert response.headers["x-content-type-options"] == "nosniff"
    assert web.get("/factures/F2026-0002/pdf").status_code == 404


def test_pay_redirects_to_the_gateway_and_the_csp_lets_the_form_go_there(web, marie, memory_portal):
    page = web.get("/factures/F2026-0001")
    assert "https://gateway.invalid" in page.headers["content-security-policy"]
    response = web.submit("/factures/F2026-0001", "/factures/F2026-0001/payer")
    assert response.status_code == 303
    assert response.headers["location"].startswith("https://gateway.invalid/pay?op=")
    # A second click reuses the same operation.
    again = web.submit("/factures/F2026-0001", "/factures/F2026-0001/payer")
    assert again.headers["location"] == response.headers["location"]


def test_pay_without_csrf_token_is_refused(web, marie, memory_portal):
    response = web.post("/factures/F2026-0001/payer", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert memory_portal.payments.orders == {}


def test_paying_a_paid_invoice_is_refused_with_a_message(web, marie, memory_portal):
    response = web.submit("/factures/F2025-0001", "/factures/F2025-0001/payer")
    assert response.status_code == 400 and "Cette facture est déjà réglée." in response.text
    assert memory_portal.payments.orders == {}


def test_gateway_down_gives_a_clear_message_not_a_500(web, marie, memory_portal):
    memory_portal.payments.down = True
    response = web.submit("/factures/F2026-0001", "/factures/F2026-0001/payer")
    assert response.status_code == 400 and "Le service de paiement ne répond pas" in response.text


def test_notification_needs_no_token_and_only_the_gateways_word_pays(web, marie, memory_portal):
    location = web.submit("/factures/F2026-0001", "/factures/F2026-0001/payer").headers["location"]
    op = location.rsplit("op=", 1)[1]
    web.cookies.clear()  # a server-to-server call: no session, no CSRF token, no Origin
    assert web.post("/paiement/notification", data={"idOp": op}).status_code == 200
    web.login("marie@example.org", PASSWORD)
    assert "F2026-0001" in rows(web.get("/factures?onglet=a-payer").text)  # not confirmed: still due
    memory_portal.payments.decide(op, PaymentStatus.PAID)
    web.cookies.clear()
    for _ in range(3):  # a replayed notification changes nothing more
        assert web.post("/paiement/notification", data={"idOp": op}).status_code == 200
    web.login("marie@example.org", PASSWORD)
    assert rows(web.get("/factures?onglet=a-payer").text) == ["F2026-0002"]
    page = web.get(f"/paiement/retour?idop={op}").text
    assert "est accepté" in page and f"123,45{NBSP}€" in page


def test_notification_with_a_cross_site_origin_or_garbage_is_harmless(web, marie):
    headers = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert web.post("/paiement/notification", data={"idOp": "forged"}, headers=headers).status_code == 200
    assert web.post("/paiement/notification", data={}).status_code == 400
    assert web.post("/paiement/notification", content=b"idOp=" + b"x" * 10000,
                    headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 413
    assert rows(web.get("/factures?onglet=a-payer").text) == ["F2026-0002", "F2026-0001"]


def test_return_page_for_an_unknown_or_missing_operation_is_404(web, marie):
    assert web.get("/paiement/retour?idop=forged").status_code == 404
    assert web.get("/paiement/retour").status_code == 404


def test_pages_need_login(web):
    for path in ("/factures", "/factures/F1", "/factures/F1/pdf", "/paiement/retour?idop=x"):
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/connexion?next=")


def test_simulator_pages_do_not_exist_with_another_gateway(web, marie):
    assert web.get("/simulateur-paiement/anything").status_code == 404


def test_in_english_for_a_subscriber_who_chose_english(web, marie, memory_portal):
    from portail_domain.model.accounts import Language

    with memory_portal.uow() as uow:
        subscriber = uow.subscribers.get(marie.id)
        subscriber.language = Language.EN
        uow.subscribers.update(subscriber)
        uow.commit()
    page = web.get("/factures?onglet=a-payer").text
    assert '<html lang="en">' in page
    assert "Total to pay: €1,323.45" in page and "Left to pay" in page and "Partly paid" in page
    assert "Pay the invoice (€1,200.00)" in web.get("/factures/F2026-0002").text
    assert "Overdue" in page and "due since 1 Mar 2026" in page


def test_a_gateway_posting_the_browser_back_is_sent_to_the_get_page(web, marie, memory_portal):
    location = web.submit("/factures/F2026-0001", "/factures/F2026-0001/payer").headers["location"]
    op = location.rsplit("op=", 1)[1]
    memory_portal.payments.decide(op, PaymentStatus.PAID)
    headers = {"Origin": "https://www.payfip.gouv.fr", "Sec-Fetch-Site": "cross-site"}
    response = web.post("/paiement/retour", data={"idOp": op}, headers=headers, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/paiement/retour?idop={op}"
    assert "est accepté" in web.get(response.headers["location"]).text
    assert web.post("/paiement/retour", data={}, headers=headers).status_code == 404
