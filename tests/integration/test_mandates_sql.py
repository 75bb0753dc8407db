"""Direct-debit mandates on SQLite and PostgreSQL: the repository contract, one active mandate per
contract under the database's own rule, the flow and the export to the billing system."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest

from portail_adapters.exchange_csv import export_csv
from portail_adapters.memory import MemoryDatabase
from portail_domain.model.accounts import Subscriber
from portail_domain.model.contracts import Contract, Service
from portail_domain.model.mandates import BankAccount, Mandate, MandateMode, MandateStatus
from portail_domain.services.mandates import revoke_mandate
from tests.integration.test_exchange import portail
from tests.support import IBAN_FR, add_contract, add_subscriber, sign_mandate_for, start_mandate_for

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
KEY = b"k" * 32


def _world(uow):
    marie = Subscriber(number="100001", name="Marie Dupont")
    uow.subscribers.add(marie)
    contracts = [Contract(f"C{i}", marie.id, Service.BOTH, "1 rue X", "M1", date(2020, 1, 1)) for i in (1, 2)]
    for contract in contracts:
        uow.contracts.add(contract)
    return marie, contracts


def _mandate(marie, contract, rum, when=NOW):
    return Mandate.start(rum=rum, subscriber_id=marie.id, contract_id=contract.id, mode=MandateMode.ECHEANCE,
                         holder="Marie Dupont", account=BankAccount(IBAN_FR, "AGRIFRPPXXX"), now=when, code="123456",
                         secret_key=KEY)


def test_mandate_repository_contract(uow_factory):
    with uow_factory() as uow:
        marie, (c1, c2) = _world(uow)
        pending = _mandate(marie, c1, "PORTAIL-C1-A")
        uow.mandates.add(pending)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.mandates.by_rum("PORTAIL-C1-A")
        assert loaded.status is MandateStatus.PENDING and loaded.challenge == pending.challenge
        assert loaded.account == BankAccount(IBAN_FR, "AGRIFRPPXXX") and loaded.evidence is None
        assert uow.mandates.for_contracts([c1.id]) == [] and uow.mandates.active_for_contracts([c1.id]) == {}
        mandate = uow.mandates.lock(loaded.id)
        mandate.sign("123456", secret_key=KEY, now=NOW + timedelta(minutes=2), client_address="2001:db8::1",
                     user_agent="Firefox")
        uow.mandates.update(mandate)
        uow.commit()
    with uow_factory() as uow:
        signed = uow.mandates.by_rum("PORTAIL-C1-A")
        assert signed.status is MandateStatus.ACTIVE and signed.challenge is None
        assert signed.evidence == mandate.evidence and signed.signed_at == NOW + timedelta(minutes=2)
        assert [m.rum for m in uow.mandates.for_contracts([c1.id, c2.id])] == ["PORTAIL-C1-A"]
        assert set(uow.mandates.active_for_contracts([c1.id, c2.id])) == {c1.id}
        later = _mandate(marie, c2, "PORTAIL-C2-B", NOW + timedelta(hours=1))
        uow.mandates.add(later)
        assert [m.rum for m in uow.mandates.for_subscriber(marie.id)] == ["PORTAIL-C2-B", "PORTAIL-C1-A"]
        uow.mandates.remove(later.id)
        assert uow.mandates.by_rum("PORTAIL-C2-B") is None
        lines = list(uow.mandates.lines(None))
        assert [(x.rum, x.contract_number, x.iban, x.status) for x in lines] == [
            ("PORTAIL-C1-A", "C1", IBAN_FR, "active")]
        assert list(uow.mandates.lines(NOW + timedelta(minutes=3))) == []


def test_a_second_active_mandate_of_a_contract_is_refused_by_the_storage(uow_factory):
    with uow_factory() as uow:
        marie, (c1, _c2) = _world(uow)
        first, second = _mandate(marie, c1, "PORTAIL-C1-A"), _mandate(marie, c1, "PORTAIL-C1-B")
        for mandate in (first, second):
            mandate.sign("123456", secret_key=KEY, now=NOW, client_address="", user_agent="")
        uow.mandates.add(first)
        uow.commit()
    with uow_factory() as uow, pytest.raises(Exception):  # noqa: B017 - IntegrityError or DuplicateKey
        uow.mandates.add(second)
    with uow_factory() as uow:
        uow.mandates.add(_mandate(marie, c1, "PORTAIL-C1-C"))  # pending ones are not counted
        uow.commit()
    if isinstance(uow_factory, MemoryDatabase):
        return
    with uow_factory() as uow, pytest.raises(Exception):  # noqa: B017 - a RUM is unique
        uow.mandates.add(_mandate(marie, c1, "PORTAIL-C1-A"))


def test_flow_and_export_columns(sql_portal, clock):
    marie = add_subscriber(sql_portal)
    add_contract(sql_portal, marie, "C1", periods=1)
    add_contract(sql_portal, marie, "C2", periods=1)
    first = sign_mandate_for(sql_portal, marie, "C1")
    clock.advance(days=1)
    second = sign_mandate_for(sql_portal, marie, "C2", mode="mensuel", holder="Marie et Jean Dupont")
    start_mandate_for(sql_portal, marie, "C1")  # pending: never exported
    clock.advance(days=5)
    revoke_mandate(sql_portal, marie.id, first.rum)

    def export(since=None):
        out = io.StringIO()
        export_csv(sql_portal, "mandates", out, since=since)
        return out.getvalue().splitlines()

    assert export() == [
        "rum;contract_number;holder;iban;bic;mode;signed_at;revoked_at;status",
        f"{first.rum};C1;Marie Dupont;{IBAN_FR};AGRIFRPPXXX;echeance;2026-03-10T09:30:00+00:00;"
        f"2026-03-16T09:30:00+00:00;revoked",
        f"{second.rum};C2;Marie et Jean Dupont;{IBAN_FR};AGRIFRPPXXX;mensuel;2026-03-11T09:30:00+00:00;;active",
    ]
    assert export(datetime(2026, 3, 11, tzinfo=UTC)) == export()  # the revocation brings the first one back
    assert export(datetime(2026, 3, 12, tzinfo=UTC)) == export()[:2]
    assert export(datetime(2026, 3, 17, tzinfo=UTC)) == export()[:1]
    with sql_portal.uow() as uow:
        document = uow.documents.get(second.document_id)
    assert b"".join(sql_portal.files.open(document.storage_key)).startswith(b"%PDF-")


def test_the_command_exports_mandates(tmp_path):
    url = f"sqlite:///{tmp_path / 'portail.db'}"
    assert portail("migrate", cwd=tmp_path, url=url).returncode == 0
    result = portail("export", "mandates", "--since", "2026-01-01", cwd=tmp_path, url=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["rum;contract_number;holder;iban;bic;mode;signed_at;revoked_at;status"]
    assert "mandates: 0 rows exported" in result.stderr
