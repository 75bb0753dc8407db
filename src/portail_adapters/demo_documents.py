"""The demo's documents: a letter in "Courriers" and the contract in "Contrats" for each subscriber.

The PDFs are generated here (one page of text, valid PDF 1.4) so the demo needs no file on disk.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from datetime import date

from portail_domain.model.accounts import Subscriber
from portail_domain.model.documents import AddedBy, DocumentFolder, FolderKind
from portail_domain.portal import Portal
from portail_domain.ports import UnitOfWork
from portail_domain.services.documents import store_document


def _pdf_text(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_pdf(lines: Sequence[str]) -> bytes:
    """A one-page A4 PDF showing ``lines`` in Helvetica (accents through WinAnsiEncoding)."""
    content = b"BT /F1 11 Tf 14 TL 60 780 Td " + b" ".join(b"(" + _pdf_text(line) + b") '" for line in lines) + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def add_demo_documents(uow: UnitOfWork, portal: Portal, subscriber: Subscriber, folders: Sequence[DocumentFolder],
                       contract_number: str, today: date) -> None:
    """A welcome letter and the contract, published by the utility through ``store_document``."""
    if portal.files is None:
        return
    by_kind = {f.kind: f for f in folders if f.parent_id is None}
    utility = portal.config.utility.name
    documents = [
        (FolderKind.LETTERS, f"Courrier {today:%Y-%m} - relève de compteur.pdf", [
            utility, "", subscriber.name, subscriber.address, f"{subscriber.postal_code} {subscriber.city}", "",
            f"Le {today:%d/%m/%Y}", f"Abonné n° {subscriber.number}", "",
            "Madame, Monsieur,", "",
            "Notre agent passera relever votre compteur dans les prochaines semaines.",
            "Vous pouvez aussi nous transmettre votre index depuis le portail usager.", "",
            "Nous vous prions d'agréer nos salutations distinguées.",
        ]),
        (FolderKind.CONTRACTS, f"Contrat {contract_number}.pdf", [
            utility, "", f"Contrat d'abonnement n° {contract_number}", "",
            f"Abonné : {subscriber.name} (n° {subscriber.number})",
            f"Adresse de desserte : {subscriber.address}, {subscriber.postal_code} {subscriber.city}", "",
            "Service : eau potable et assainissement collectif.",
            "Le règlement de service est disponible sur simple demande.",
        ]),
    ]
    for kind, filename, lines in documents:
        body = text_pdf(lines)
        store_document(uow, portal.files, portal.clock, subscriber_id=subscriber.id, folder_id=by_kind[kind].id,
                       filename=filename, content_type="application/pdf", data=io.BytesIO(body), size=len(body),
                       sha256=hashlib.sha256(body).hexdigest(), added_by=AddedBy.UTILITY)


def add_demo_invoice_pdfs(uow: UnitOfWork, portal: Portal, subscriber: Subscriber,
                          folders: Sequence[DocumentFolder]) -> None:
    """Each invoice's PDF in "Factures", linked to the invoice (as the billing import does)."""
    if portal.files is None:
        return
    invoices_folder = next(f for f in folders if f.kind is FolderKind.INVOICES and f.parent_id is None)
    contracts = {c.id: c for c in uow.contracts.for_subscriber(subscriber.id)}
    for invoice in uow.invoices.for_subscriber(subscriber.id):
        body = text_pdf([
            portal.config.utility.name, "", f"Facture n° {invoice.number}", "",
            f"Abonné : {subscriber.name} (n° {subscriber.number})",
            f"Contrat : {contracts[invoice.contract_id].number}",
            f"Date d'émission : {invoice.issued_on:%d/%m/%Y}",
            f"Date d'échéance : {invoice.due_on:%d/%m/%Y}", "",
            f"Montant TTC : {str(invoice.amount).replace('.', ',')} EUR",
            "Règlement en ligne sur le portail usager (Mes factures, Régler la facture).",
        ])
        document = store_document(
            uow, portal.files, portal.clock, subscriber_id=subscriber.id, folder_id=invoices_folder.id,
            filename=f"Facture {invoice.number}.pdf", content_type="application/pdf", data=io.BytesIO(body),
            size=len(body), sha256=hashlib.sha256(body).hexdigest(), added_by=AddedBy.UTILITY,
        )
        invoice.pdf_document_id = document.id
        uow.invoices.update(invoice)
