"""Typed domain errors. The web layer maps each ``code`` to a translated message."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule violation. ``code`` is stable; ``params`` fill the message."""

    code = "domain_error"

    def __init__(self, message: str = "", **params: object) -> None:
        super().__init__(message or self.code)
        self.params = params


class NotFound(DomainError):
    """The object does not exist, or belongs to someone else (never tell which)."""

    code = "not_found"


class InvalidValue(DomainError):
    """A value failed its own rule (bad amount, bad index, bad e-mail)."""

    code = "invalid_value"

    def __init__(self, message: str = "", *, field: str = "", **params: object) -> None:
        super().__init__(message, **params)
        self.field = field


class InvalidFields(InvalidValue):
    """Several fields of one form fail their rules: every problem, in the form's order."""

    code = "invalid_fields"

    def __init__(self, problems: list[InvalidValue]) -> None:
        super().__init__(field=problems[0].field if problems else "")
        self.problems = problems


class InvalidEmail(InvalidValue):
    code = "invalid_email"


class InvalidAmount(InvalidValue):
    code = "invalid_amount"


class InvalidIndex(InvalidValue):
    code = "invalid_index"


class ReadingRejected(DomainError):
    """A meter reading breaks a rule of its contract (base class of the reasons)."""

    code = "reading_rejected"


class ReadingInFuture(ReadingRejected):
    code = "reading_in_future"


class ReadingBeforeContract(ReadingRejected):
    code = "reading_before_contract"


class ReadingBeforeLast(ReadingRejected):
    code = "reading_before_last"


class ReadingAfterContractEnd(ReadingRejected):
    code = "reading_after_contract_end"


class ReadingDuplicateDay(ReadingRejected):
    code = "reading_duplicate_day"


class IndexGoesDown(ReadingRejected):
    code = "index_goes_down"


class WrongMeter(ReadingRejected):
    code = "wrong_meter"


class IndexTooLarge(ReadingRejected):
    code = "index_too_large"


class InvoiceNotPayable(DomainError):
    """The invoice is paid or cancelled: nothing to pay."""

    code = "invoice_not_payable"


class InvoiceAlreadyPaid(InvoiceNotPayable):
    code = "invoice_already_paid"


class InvoiceCancelled(InvoiceNotPayable):
    code = "invoice_cancelled"


class InvoiceOnDirectDebit(InvoiceNotPayable):
    """A direct-debit mandate pays it on its due date: paying it online too would pay it twice."""

    code = "invoice_on_direct_debit"


class PaymentMismatch(DomainError):
    """The gateway's confirmed result does not match the stored payment."""

    code = "payment_mismatch"


class PaymentStateError(DomainError):
    """A transition the payment state machine does not allow."""

    code = "payment_state"


class GatewayError(DomainError):
    """The payment gateway could not be reached or answered a fault."""

    code = "gateway_error"


class StorageError(DomainError):
    """The file store could not be reached."""

    code = "storage_error"


class RequestClosed(DomainError):
    code = "request_closed"


class StatusGoesBack(DomainError):
    code = "status_goes_back"


class NotConfigured(DomainError):
    """The portal was built without the port this use case needs (``what``: mailer, file store, gateway)."""

    code = "not_configured"
