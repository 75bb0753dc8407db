"""Direct debit on fakes: IBAN rules, the signing code (expiry, tries, replay), revocation, invoices."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schwifty import IBAN

from portail_adapters.banking import SchwiftyBankDirectory
from portail_adapters.settings import SettingsError, load_settings
from portail_domain.model import errors
from portail_domain.model.documents import FolderKind
from portail_domain.model.mandates import (
    BankAccount,
    BicRequired,
    IbanNotSepa,
    InvalidBic,
    InvalidIban,
    MandateMode,
    MandateNotActive,
    MandateStatus,
    NoPendingMandate,
    SigningCodeDead,
    WrongSigningCode,
    creditor_id_problem,
    new_rum,
)
from portail_domain.services.billing import invoice_detail, invoice_overview, start_payment
from portail_domain.services.mandates import (
    contracts_on_direct_debit,
    mandates_view,
    revoke_mandate,
    sign_mandate,
)
from tests.support import (
    IBAN_FR,
    add_contract,
    add_invoice,
    add_subscriber,
    last_signing_code,
    sign_mandate_for,
    start_mandate_for,
)

BANKS = SchwiftyBankDirectory()
SEPA_COUNTRIES = ["AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU",
                  "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI",
                  "SK", "SM"]
NON_SEPA = ["BR", "TR", "SA", "AE", "TN", "MR", "KW"]


def generated(countries: list[str]) -> st.SearchStrategy[IBAN]:
    """Valid IBANs of ``countries``, made by schwifty's own generator (registry banks and random ones)."""
    return st.builds(lambda country, seed, registry: IBAN.random(country_code=country, random=random.Random(seed),
                                                                 use_registry=registry),
                     st.sampled_from(countries), st.integers(0, 2**32), st.booleans())


# --- IBAN rules (the schwifty adapter) --------------------------------------------------------------


@given(generated(SEPA_COUNTRIES), st.sampled_from(["", "DEUTDEFF"]))
def test_every_valid_sepa_iban_is_accepted_however_it_is_typed(iban, bic):
    typed = " ".join(iban.formatted.lower().split(" "))  # lower case, grouped by four
    try:
        account = BANKS.account(typed, bic)
    except BicRequired:
        assert iban.bic is None and not bic  # only asked when the registry does not know the bank
        return
    assert account.iban == str(iban.compact)
    assert account.bic == (str(iban.bic.compact) if iban.bic is not None else bic)  # derived wins over typed
    assert account.masked == f"{account.iban[:4]} •••• •••• {account.iban[-4:]}"
    assert account.iban not in repr(account) and account.iban[4:-4] not in str(account)


@given(generated(SEPA_COUNTRIES), st.data())
def test_one_wrong_digit_or_two_swapped_digits_are_refused(iban, data):
    text = str(iban.compact)
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    i = data.draw(st.sampled_from(digits))
    if data.draw(st.booleans()):
        wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != text[i]]))
        mutated = text[:i] + wrong + text[i + 1:]
    else:
        pairs = [j for j in digits if j + 1 in digits and text[j] != text[j + 1]]
        if not pairs:
            return
        j = data.draw(st.sampled_from(pairs))
        mutated = text[:j] + text[j + 1] + text[j] + text[j + 2:]
    with pytest.raises(InvalidIban) as refused:  # ISO 7064 mod 97-10 catches both
        BANKS.account(mutated, "DEUTDEFF")
    assert mutated not in str(refused.value) and mutated not in repr(refused.value.params)


@given(generated(SEPA_COUNTRIES), st.integers(1, 3), st.booleans())
def test_a_shortened_or_lengthened_iban_is_refused(iban, count, longer):
    text = str(iban.compact)
    with pytest.raises(InvalidIban):
        BANKS.account(text + "0" * count if longer else text[:-count], "DEUTDEFF")


@given(generated(NON_SEPA))
def test_a_valid_iban_outside_sepa_is_refused(iban):
    with pytest.raises(IbanNotSepa):
        BANKS.account(str(iban.compact), "DEUTDEFF")


@pytest.mark.parametrize("typed", ["", "FR76", "x" * 200, "FR76 3000 6000 0000 0100 0123 42\x00", "ÉÉ"])
def test_garbage_is_an_invalid_iban(typed):
    with pytest.raises(InvalidIban):
        BANKS.account(typed)


def test_an_unknown_bank_asks_for_a_bic_and_checks_it():
    unknown = IBAN.generate("FR", bank_code="99999", account_code="00012345678")
    assert unknown.bic is None
    with pytest.raises(BicRequired):
        BANKS.account(str(unknown))
    with pytest.raises(InvalidBic):
        BANKS.account(str(unknown), "BANK")
    assert BANKS.account(str(unknown), "bnpa fr pp").bic == "BNPAFRPP"


def test_masked_iban():
    assert BankAccount(IBAN_FR, "AGRIFRPPXXX").masked == "FR76 •••• •••• 3420"


def test_rum_is_within_sepa_limits():
    for contract in ["C1", "C-100001-1", "very/long contract number é 1234567890", ""]:
        rum = new_rum(contract, "token")
        assert len(rum) <= 35 and rum.startswith("PORTAIL-") and all(c.isalnum() or c == "-" for c in rum)
    assert new_rum("C1", "a") != new_rum("C1", "b")


def test_creditor_identifier_check_digits_and_setting():
    assert creditor_id_problem("FR72ZZZ123456") is None
    assert creditor_id_problem("FR73ZZZ123456") == "its check digits are wrong"
    assert creditor_id_problem("FR72ZZZ12345") is not None and creditor_id_problem("72FRZZZ123456") is not None
    assert load_settings({"PORTAIL_SECRET_KEY": "s" * 32}, create_secret=False).sepa_creditor_id == "FR72ZZZ123456"
    with pytest.raises(SettingsError) as wrong:
        load_settings({"PORTAIL_SECRET_KEY": "s" * 32, "PORTAIL_SEPA_CREDITOR_ID": "FR00ZZZ123456"},
                      create_secret=False)
    assert wrong.value.problems == ["PORTAIL_SEPA_CREDITOR_ID: 'FR00ZZZ123456' is not a SEPA creditor identifier: "
                                    "its check digits are wrong"]


# --- the signing code ---------------------------------------------------------------------------------


@pytest.fixture
def marie(memory_portal):
    subscriber = add_subscriber(memory_portal)
    add_contract(memory_portal, subscriber, "C1", periods=1)
    return subscriber


def sign(portal, subscriber, code):
    return sign_mandate(portal, subscriber.id, code, client_address="203.0.113.7", user_agent="Firefox")


def test_start_mails_a_code_and_keeps_a_pending_mandate(memory_portal, marie):
    mandate = start_mandate_for(memory_portal, marie, "C1")
    assert mandate.status is MandateStatus.PENDING and mandate.rum.startswith("PORTAIL-C1-")
    with memory_portal.uow() as uow:
        mail = uow.outbox.pending()[-1].mail
    code = last_signing_code(memory_portal)
    assert mail.to == "marie@example.org" and code in mail.text and mandate.rum in mail.text
    assert "10 minutes" in mail.text and IBAN_FR not in mail.text
    assert mandates_view(memory_portal, marie.id).pending.rum == mandate.rum


def test_the_code_lives_ten_minutes(memory_portal, marie, clock):
    start_mandate_for(memory_portal, marie, "C1")
    code = last_signing_code(memory_portal)
    clock.advance(minutes=10, seconds=1)
    assert mandates_view(memory_portal, marie.id).pending is None  # the page no longer offers to sign
    with pytest.raises(SigningCodeDead):
        sign(memory_portal, marie, code)
    start_mandate_for(memory_portal, marie, "C1")
    code = last_signing_code(memory_portal)
    clock.advance(minutes=10)  # valid at 10:00 exactly
    mandate = sign(memory_portal, marie, code)
    assert mandate.status is MandateStatus.ACTIVE
    assert mandate.evidence.signed_at == clock.now() and mandate.evidence.client_address == "203.0.113.7"
    assert mandate.evidence.user_agent == "Firefox" and len(mandate.evidence.code_hash) == 64
    assert code not in mandate.evidence.code_hash


def test_five_tries_then_the_code_is_dead_even_the_right_one(memory_portal, marie):
    start_mandate_for(memory_portal, marie, "C1")
    code = last_signing_code(memory_portal)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongSigningCode) as refused:
            sign(memory_portal, marie, wrong)
        assert refused.value.tries_left == left  # each try is saved, not only counted in memory
    with pytest.raises(SigningCodeDead):
        sign(memory_portal, marie, wrong)
    with pytest.raises(SigningCodeDead):
        sign(memory_portal, marie, code)


def test_a_replayed_code_signs_nothing_twice(memory_portal, marie):
    mandate = sign_mandate_for(memory_portal, marie, "C1")
    code = last_signing_code(memory_portal)
    with pytest.raises(NoPendingMandate):
        sign(memory_portal, marie, code)
    with memory_portal.uow() as uow:
        assert [m.status for m in uow.mandates.for_subscriber(marie.id)] == [MandateStatus.ACTIVE]
        assert uow.mandates.by_rum(mandate.rum).evidence == mandate.evidence


def test_a_new_start_kills_the_earlier_code(memory_portal, marie):
    start_mandate_for(memory_portal, marie, "C1")
    first = last_signing_code(memory_portal)
    second_mandate = start_mandate_for(memory_portal, marie, "C1", mode="mensuel")
    second = last_signing_code(memory_portal)
    if first != second:
        with pytest.raises(WrongSigningCode):
            sign(memory_portal, marie, first)
    assert sign(memory_portal, marie, second).rum == second_mandate.rum


def test_someone_elses_contract_is_not_found_and_nothing_is_kept(memory_portal, marie):
    paul = add_subscriber(memory_portal, "100002", email="paul@example.org", name="Paul")
    add_contract(memory_portal, paul, "C2", periods=1)
    with pytest.raises(errors.NotFound):
        start_mandate_for(memory_portal, marie, "C2")
    with memory_portal.uow() as uow:
        assert not uow.mandates.for_subscriber(marie.id) and not uow.outbox.pending()


def test_bad_form_values_keep_nothing(memory_portal, marie):
    for kwargs in ({"mode": "weekly"}, {"holder": "  "}, {"holder": "x" * 71}, {"iban": "FR7630006000000001000123421"}):
        with pytest.raises(errors.InvalidValue):
            start_mandate_for(memory_portal, marie, "C1", **kwargs)
    with memory_portal.uow() as uow:
        assert not uow.mandates.for_subscriber(marie.id) and not uow.outbox.pending()


# --- signed: the PDF, the mail, replacement, revocation --------------------------------------------------


def test_signing_files_the_pdf_in_contrats_and_mails_a_masked_confirmation(memory_portal, marie):
    mandate = sign_mandate_for(memory_portal, marie, "C1")
    with memory_portal.uow() as uow:
        document = uow.documents.get(mandate.document_id)
        folder = uow.folders.get(document.folder_id)
        mails = [e.mail for e in uow.outbox.pending()]
    assert folder.kind is FolderKind.CONTRACTS and document.filename == f"mandat-prelevement-{mandate.rum}.pdf"
    pdf = b"".join(memory_portal.files.open(document.storage_key))
    assert pdf.startswith(b"%PDF-") and document.size == len(pdf)
    confirmation = mails[-1]
    assert "est signé" in confirmation.subject and "FR76 •••• •••• 3420" in confirmation.text
    assert IBAN_FR not in confirmation.text + confirmation.html


def test_a_new_mandate_replaces_the_active_one_of_its_contract(memory_portal, marie, clock):
    first = sign_mandate_for(memory_portal, marie, "C1")
    clock.advance(days=1)
    second = sign_mandate_for(memory_portal, marie, "C1", mode="mensuel")
    with memory_portal.uow() as uow:
        assert uow.mandates.by_rum(first.rum).status is MandateStatus.REVOKED
        assert uow.mandates.by_rum(first.rum).revoked_at == clock.now()
        assert uow.mandates.active_for_contracts([second.contract_id])[second.contract_id].rum == second.rum
        assert second.mode is MandateMode.MENSUEL


def test_revocation(memory_portal, marie, clock):
    mandate = sign_mandate_for(memory_portal, marie, "C1")
    with memory_portal.uow() as uow:
        assert contracts_on_direct_debit(uow, [mandate.contract_id]) == {mandate.contract_id}
    clock.advance(days=3)
    revoked = revoke_mandate(memory_portal, marie.id, mandate.rum)
    assert revoked.status is MandateStatus.REVOKED and revoked.revoked_at == clock.now()
    with memory_portal.uow() as uow:
        assert contracts_on_direct_debit(uow, [mandate.contract_id]) == set()
        assert "révoqué" in uow.outbox.pending()[-1].mail.subject
    with pytest.raises(MandateNotActive):
        revoke_mandate(memory_portal, marie.id, mandate.rum)


def test_someone_elses_rum_is_not_found(memory_portal, marie):
    mandate = sign_mandate_for(memory_portal, marie, "C1")
    paul = add_subscriber(memory_portal, "100002", email="paul@example.org", name="Paul")
    for rum in (mandate.rum, "PORTAIL-X-0", "\x00", "x" * 400):
        with pytest.raises(errors.NotFound):
            revoke_mandate(memory_portal, paul.id, rum)
    with memory_portal.uow() as uow:
        assert uow.mandates.by_rum(mandate.rum).status is MandateStatus.ACTIVE


# --- invoices a mandate pays --------------------------------------------------------------------------


def test_invoices_of_an_echeance_mandate_are_debited_not_paid_online(memory_portal, marie, clock):
    sign_mandate_for(memory_portal, marie, "C1")  # signed on 10 March 2026
    before = add_invoice(memory_portal, marie, "F-BEFORE", issued="2026-03-01", due="2026-04-01", contract_number="C1")
    after = add_invoice(memory_portal, marie, "F-AFTER", issued="2026-03-10", due="2026-04-10", contract_number="C1")
    lines = {line.invoice.number: line for line in invoice_overview(memory_portal, marie.id).lines}
    assert lines["F-BEFORE"].direct_debit is None and lines["F-BEFORE"].pay_online  # issued before the signature
    assert lines["F-AFTER"].direct_debit.on == date(2026, 4, 10) and not lines["F-AFTER"].direct_debit.debited
    assert not lines["F-AFTER"].pay_online
    with pytest.raises(errors.InvoiceOnDirectDebit):
        start_payment(memory_portal, marie.id, after.number)
    clock.advance(days=31)  # 10 April: the due date has come
    detail = invoice_detail(memory_portal, marie.id, after.number)
    assert detail.direct_debit.debited and not detail.pay_online
    assert before.number  # still paid online
    start_payment(memory_portal, marie.id, before.number)


def test_monthly_instalments_and_revoked_mandates_leave_invoices_to_pay_online(memory_portal, marie, clock):
    mandate = sign_mandate_for(memory_portal, marie, "C1", mode="mensuel")
    add_invoice(memory_portal, marie, "F-1", issued="2026-03-10", due="2026-04-10", contract_number="C1")
    assert invoice_overview(memory_portal, marie.id).lines[0].pay_online
    revoke_mandate(memory_portal, marie.id, mandate.rum)
    clock.advance(days=1)
    echeance = sign_mandate_for(memory_portal, marie, "C1")
    add_invoice(memory_portal, marie, "F-2", issued="2026-03-11", due="2026-04-11", contract_number="C1")
    clock.advance(days=2)
    revoke_mandate(memory_portal, marie.id, echeance.rum)  # revoked before F-2 falls due: the bank is not asked
    assert all(line.pay_online for line in invoice_overview(memory_portal, marie.id).lines)
    assert clock.today() - timedelta(days=3) == date(2026, 3, 10)
