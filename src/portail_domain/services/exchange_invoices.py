"""Importing invoices: an upsert by invoice number; each PDF passes the portal's one file check
and lands in the subscriber's "Factures" folder; a new invoice is announced by e-mail."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from ..model.billing import Invoice
from ..model.contracts import Contract
from ..model.documents import AddedBy, FolderKind, InspectedFile, UploadRejected, inspect_file
from ..model.exchange import ImportRow, InvoiceRow
from ..model.links import Link
from ..model.mail import Mail, MailKind
from ..model.values import Money
from .documents import ensure_default_folders, orphaned_keys, store_document
from .exchange_importer import Importer, changed
from .mail import queue_mails

ANNOUNCE_CHUNK = 1000  # subscribers told together: one lookup and one batched outbox write


class _Announcement:
    """The new invoices of one subscriber in this file: they get one e-mail, whatever the count."""

    __slots__ = ("count", "cents", "due_on", "number")

    def __init__(self, invoice: Invoice) -> None:
        self.count, self.cents, self.due_on, self.number = 1, invoice.amount.cents, invoice.due_on, invoice.number

    def add(self, invoice: Invoice) -> None:
        self.count += 1
        self.cents += invoice.amount.cents
        self.due_on = min(self.due_on, invoice.due_on)


class InvoicesImport(Importer):
    kind = "invoices"
    key_column = "invoice_number"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.pdfs: dict[int, InspectedFile] = {}  # line -> the checked PDF, for the chunk being applied
        self.stored: list[str] = []  # objects written during this import: removed if it fails
        self.replaced: list[str] = []  # objects of replaced PDFs: removed once it is committed
        # New invoices by subscriber (bounded by the utility's subscribers, not by the file's rows)
        self.announce: dict[uuid.UUID, _Announcement] = {}

    def add(self, rows: Sequence[ImportRow]) -> None:
        self.pdfs = {}
        super().add(rows)

    def check(self, row: InvoiceRow) -> bool:
        if row.pdf is not None and not self._check_pdf(row):
            return False
        before = self.problems.count
        if row.due_on < row.issued_on:
            self.problems.add(row.line, "due_on", "before the issue date")
        if row.amount.cents < 0:
            self.problems.add(row.line, "amount", "negative (credit notes are not imported)")
        elif row.amount_paid.cents < 0:
            self.problems.add(row.line, "amount_paid", "negative")
        elif row.amount_paid > row.amount:
            self.problems.add(row.line, "amount_paid", f"more than the amount ({row.amount})")
        return self.problems.count == before

    def _check_pdf(self, row: InvoiceRow) -> bool:
        """The invoice's PDF, checked now like every file that enters the portal: a PDF by its content."""
        assert row.pdf is not None
        if self.portal.files is None:
            self.problems.add(row.line, "pdf_file", "no file store is configured for documents")
            return False
        try:
            with row.pdf.open() as data:
                inspected = inspect_file(data, max_size=self.limits.max_pdf_size)
        except OSError as exc:
            self.problems.add(row.line, "pdf_file", f"cannot read {row.pdf.reference!r} ({exc.strerror})")
            return False
        except UploadRejected:
            inspected = None
        if inspected is None or inspected.content_type != "application/pdf":
            self.problems.add(row.line, "pdf_file", f"{row.pdf.reference!r} is not a PDF file")
            return False
        self.pdfs[row.line] = inspected
        return True

    def apply(self, rows: list[InvoiceRow]) -> None:
        contracts = self.exchange.contracts_by_number({r.contract_number for r in rows})
        existing = self.exchange.invoices_by_number([r.number for r in rows])
        hashes = self.exchange.document_hashes(
            {i.pdf_document_id for i in existing.values() if i.pdf_document_id is not None})
        new: list[Invoice] = []
        updated: list[Invoice] = []
        folders: dict[uuid.UUID, uuid.UUID] = {}
        for row in rows:
            invoice = existing.get(row.number)
            contract = self._contract(row, contracts, invoice)
            if contract is None:
                continue
            values = self._values(row, invoice)
            pdf = self._new_pdf(row, invoice, hashes)
            if invoice is None:
                invoice = Invoice(number=row.number, contract_id=contract.id, **values)
                new.append(invoice)
                self._announce(contract.subscriber_id, invoice)
                created: bool | None = True
            else:
                created = False if changed(invoice, values) or pdf is not None else None
                if created is False:
                    updated.append(invoice)
            if pdf is not None and not self.problems:
                self._store(invoice, contract, row, pdf, folders)
            self.count(created)
        self.exchange.save_invoices(new, updated)

    def _announce(self, subscriber_id: uuid.UUID, invoice: Invoice) -> None:
        found = self.announce.get(subscriber_id)
        if found is None:
            self.announce[subscriber_id] = _Announcement(invoice)
        else:
            found.add(invoice)

    def finish(self) -> None:
        """"Votre facture est disponible": one e-mail per subscriber with an e-mail on file who got
        a new invoice in this file (an update of a known invoice tells nobody), queued in the
        import's transaction, ``ANNOUNCE_CHUNK`` subscribers at a time."""
        ids = list(self.announce)
        for start in range(0, len(ids), ANNOUNCE_CHUNK):
            subscribers = self.exchange.subscribers_by_id(ids[start:start + ANNOUNCE_CHUNK])
            mails = [invoice_mail(s.email.address, s.language.value, s.name, self.announce[s.id])
                     for s in subscribers.values() if s.email is not None]
            queue_mails(self.uow, self.portal, mails)
            self.mails += len(mails)

    def _contract(self, row: InvoiceRow, contracts: dict[str, Contract], invoice: Invoice | None) -> Contract | None:
        """The row's contract; None (reported) when unknown, or not the one the invoice is recorded for."""
        contract = contracts.get(row.contract_number)
        if contract is None:
            self.problems.add(row.line, "contract_number",
                              f"unknown contract {row.contract_number!r} (import contracts first)")
            return None
        if invoice is not None and invoice.contract_id != contract.id:
            self.problems.add(row.line, "contract_number",
                              f"invoice {row.number} is already recorded for another contract")
            return None
        return contract

    def _values(self, row: InvoiceRow, invoice: Invoice | None) -> dict[str, Any]:
        """The fields the row sets (only its file's columns)."""
        values = self.given({"issued_on": row.issued_on, "due_on": row.due_on, "amount": row.amount,
                             "amount_paid": row.amount_paid})
        if invoice is not None and "amount_paid" in values:
            # A payment confirmed on the portal is never forgotten by a file written before it.
            values["amount_paid"] = max(values["amount_paid"], invoice.amount_paid)
        return values

    def _new_pdf(self, row: InvoiceRow, invoice: Invoice | None, hashes: dict[uuid.UUID, str]) -> InspectedFile | None:
        """The row's checked PDF to store; None when it has none, or the invoice already has this very file."""
        pdf = self.pdfs.get(row.line)
        if pdf is None or invoice is None or invoice.pdf_document_id is None:
            return pdf
        return None if hashes.get(invoice.pdf_document_id) == pdf.sha256 else pdf

    def _store(self, invoice: Invoice, contract: Contract, row: InvoiceRow, pdf: InspectedFile,
               folders: dict[uuid.UUID, uuid.UUID]) -> None:
        """Put the PDF in the subscriber's "Factures" folder; the invoice points at it."""
        assert self.portal.files is not None and row.pdf is not None
        folder_id = folders.get(contract.subscriber_id)
        if folder_id is None:
            all_folders = ensure_default_folders(self.uow, contract.subscriber_id)
            folder_id = next(f.id for f in all_folders if f.kind == FolderKind.INVOICES and f.parent_id is None)
            folders[contract.subscriber_id] = folder_id
        with row.pdf.open() as data:
            document = store_document(self.uow, self.portal.files, self.portal.clock,
                                      subscriber_id=contract.subscriber_id, folder_id=folder_id,
                                      filename=f"facture-{invoice.number}.pdf", content_type=pdf.content_type,
                                      data=data, size=pdf.size, sha256=pdf.sha256, added_by=AddedBy.UTILITY)
        self.stored.append(document.storage_key)
        if invoice.pdf_document_id is not None:
            old = self.uow.documents.get(invoice.pdf_document_id)
            if old is not None:
                self.uow.documents.remove(old.id)
                self.replaced += orphaned_keys(self.uow, [old.storage_key])
        invoice.pdf_document_id = document.id
        invoice.pdf_file = row.pdf.filename

    def discard(self) -> None:
        self._delete(self.stored)

    def committed(self) -> None:
        self._delete(self.replaced)

    def _delete(self, keys: list[str]) -> None:
        files = self.portal.files
        if files is not None:  # without a file store no PDF was stored nor replaced
            for key in keys:
                files.delete(key)


def invoice_mail(to: str, language: str, name: str, new: _Announcement) -> Mail:
    """The INVOICE_AVAILABLE mail: one invoice (its number, amount, due date, link), or several
    (their count, total, first due date, and the invoice list)."""
    link = Link("invoice", {"number": new.number}) if new.count == 1 else Link("invoices")
    return Mail(MailKind.INVOICE_AVAILABLE, to, language, {
        "name": name, "count": new.count, "number": new.number, "amount": Money(new.cents), "due_on": new.due_on,
        "link": link})
