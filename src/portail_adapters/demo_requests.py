"""The demo's requests (Mes demandes) for subscriber 100001: one answered by the utility's staff,
a leak relief request with the plumber's certificate attached, and one just filed."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

from portail_domain.model.accounts import Subscriber
from portail_domain.model.documents import AddedBy, FolderKind
from portail_domain.model.requests import (
    Author,
    Request,
    RequestCategory,
    RequestMessage,
    RequestStatus,
    next_reference,
)
from portail_domain.portal import Portal
from portail_domain.ports import UnitOfWork
from portail_domain.services.documents import default_folder, store_document

from .demo_documents import text_pdf

STAFF_NAME = "Service clientèle"


def add_demo_requests(uow: UnitOfWork, portal: Portal, subscriber: Subscriber) -> None:
    now = portal.clock.now()
    leak_contract = uow.contracts.by_number(f"C{subscriber.number}-1")  # the demo's contract with a leak

    def request(days_ago: float, category: RequestCategory, subject: str, status: RequestStatus,
                contract_id=None) -> Request:  # noqa: ANN001
        created = now - timedelta(days=days_ago)
        reference = next_reference(uow.requests.last_reference(f"D-{created.year}-"), created.year)
        filed = Request(reference, subscriber.id, category, subject, created, status=status,
                        contract_id=contract_id, updated_at=created)
        uow.requests.add(filed)
        return filed

    def message(filed: Request, days_ago: float, author: Author, body: str, attachment_id=None) -> None:  # noqa: ANN001
        created = now - timedelta(days=days_ago)
        name = subscriber.name if author is Author.SUBSCRIBER else STAFF_NAME
        uow.requests.add_message(RequestMessage(filed.id, author, name, body, created, attachment_id=attachment_id))
        filed.updated_at = created
        uow.requests.update(filed)

    meter = request(40, RequestCategory.METER, "Compteur difficile d'accès", RequestStatus.ANSWERED)
    message(meter, 40, Author.SUBSCRIBER, "Bonjour,\nle regard du compteur est sous une dalle lourde : "
            "l'agent releveur peut-il me prévenir avant de passer ?\nMerci.")
    message(meter, 38, Author.STAFF, "Bonjour,\nc'est noté : le releveur vous appellera la veille de son passage. "
            "Vous pouvez aussi transmettre votre index depuis Mes contrats.\nCordialement.")

    if leak_contract is not None:
        leak = request(6, RequestCategory.LEAK_RELIEF, f"Écrêtement — contrat {leak_contract.number}",
                       RequestStatus.IN_PROGRESS, leak_contract.id)
        attachment_id = None
        if portal.files is not None:
            body = text_pdf(["Plomberie Dupuis, 12 rue du Moulin, 34230 Paulhan", "",
                             "Attestation de réparation de fuite", "",
                             f"Client : {subscriber.name}, {subscriber.address}", "",
                             "Fuite sur la canalisation enterrée après compteur, réparée le "
                             f"{(now - timedelta(days=8)).date():%d/%m/%Y}."])
            document = store_document(
                uow, portal.files, portal.clock, subscriber_id=subscriber.id,
                folder_id=default_folder(uow, subscriber.id, FolderKind.UPLOADS).id,
                filename="Attestation réparation fuite.pdf", content_type="application/pdf",
                data=io.BytesIO(body), size=len(body), sha256=hashlib.sha256(body).hexdigest(),
                added_by=AddedBy.SUBSCRIBER)
            attachment_id = document.id
        message(leak, 6, Author.SUBSCRIBER, "Bonjour,\nune fuite après compteur a été réparée par mon plombier. "
                "Je demande l'écrêtement de ma facture ; l'attestation est jointe.", attachment_id)

    pressure = request(1, RequestCategory.INSTALLATION, "Pression d'eau faible le matin", RequestStatus.NEW)
    message(pressure, 1, Author.SUBSCRIBER, "Bonjour,\ndepuis une semaine la pression est très faible entre 7 h "
            "et 8 h. Est-ce un problème sur le réseau ?")
