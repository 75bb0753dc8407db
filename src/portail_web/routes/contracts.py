"""Mes contrats: the contracts, one contract's readings and consumption (table, chart, CSV),
submitting a meter reading, and the over-consumption alert of the home page."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model import errors
from portail_domain.model.contracts import (
    ContractDetail,
    ImpliedConsumption,
    PhotoRejected,
    ReadingSource,
    ReadingStatus,
    Service,
    YearConsumption,
)
from portail_domain.model.documents import QuotaExceeded
from portail_domain.model.values import MeterIndex
from portail_domain.portal import Portal
from portail_domain.services import contracts as service

from ..auth import require_subscriber
from ..charts import consumption_chart
from ..forms import check_csrf, field, is_upload
from ..messages import N_, message_for
from ..reads import read
from ..templating import render
from ..urls import path_for

SERVICES = {
    Service.WATER: N_("Eau potable"),
    Service.SANITATION: N_("Assainissement"),
    Service.BOTH: N_("Eau potable et assainissement"),
}
# (label, badge style): estimated readings must stand out, they cause most bill disputes.
SOURCES = {
    ReadingSource.AGENT: (N_("Agent"), "ok"),
    ReadingSource.SUBSCRIBER: (N_("Abonné"), "info"),
    ReadingSource.ESTIMATED: (N_("Estimée"), "warn"),
    ReadingSource.REMOTE: (N_("Télérelève"), "ok"),
}
STATUSES = {
    ReadingStatus.VALIDATED: (N_("Validée"), "ok"),
    ReadingStatus.TO_REVIEW: (N_("À vérifier"), "warn"),
    ReadingStatus.REJECTED: (N_("Rejetée"), "err"),
}
BAD_DATE = N_("Saisissez la date de la relève au format AAAA-MM-JJ, par exemple 2026-03-10.")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Which form field each refusal is about (the message goes next to it).
FIELD_OF: tuple[tuple[type[Exception], str], ...] = (
    (errors.InvalidIndex, "index"),
    (errors.IndexGoesDown, "index"),
    (errors.IndexTooLarge, "index"),
    (PhotoRejected, "photo"),
    (QuotaExceeded, "photo"),
    (errors.ReadingRejected, "read_on"),
)


def _portal(request: Request) -> Portal:
    return request.app.state.portal


def leak_relief_path(request: Request, contract_number: str) -> str:
    """The écrêtement request form, with the category and this contract preselected."""
    return path_for(request, "request_new", query={"categorie": "ecretement", "contrat": contract_number})


# --- pages ---------------------------------------------------------------------------------


async def contract_list(request: Request) -> Response:
    subscriber = require_subscriber(request)
    portal = _portal(request)
    found = await read(portal, service.list_contracts, portal, subscriber.id)
    return render(request, "contracts/list.html", {
        "contracts": found, "today": portal.clock.today(), "services": SERVICES,
    })


def _detail(request: Request) -> ContractDetail:
    subscriber = require_subscriber(request)
    portal = _portal(request)
    number = request.path_params["contract_number"]
    return service.contract_detail(portal, subscriber.id, number)


def _year_rows(years: list[YearConsumption]) -> list[tuple[YearConsumption, Fraction | None]]:
    """Each year with its change in litres per day against the year before (in %)."""
    rows = []
    for k, year in enumerate(years):
        before = years[k - 1] if k and years[k - 1].year == year.year - 1 else None
        change = None
        if before is not None and before.litres_per_day:
            change = (year.litres_per_day / before.litres_per_day - 1) * 100
        rows.append((year, change))
    return rows


async def contract_page(request: Request) -> Response:
    detail = await read(_portal(request), _detail, request)
    implied = None  # the confirmation after a reading was sent (?releve=<its id>)
    try:
        implied = detail.implied(uuid.UUID(request.query_params.get("releve", "")))
    except ValueError:
        pass
    if implied is not None and implied.reading.source != ReadingSource.SUBSCRIBER:
        implied = None
    return render(request, "contracts/detail.html", {
        "detail": detail,
        "contract": detail.contract,
        "today": _portal(request).clock.today(),
        "chart": consumption_chart(detail.periods, detail.usual_litres_per_day, detail.overconsumption),
        "years": _year_rows(detail.years),
        "implied": implied,
        "services": SERVICES,
        "sources": SOURCES,
        "statuses": STATUSES,
        "leak_relief_path": leak_relief_path(request, detail.contract.number),
        "schedule": detail.schedule,
    })


def _m3(litres: int) -> str:
    return f"{Decimal(litres).scaleb(-3):.3f}"


def _per_day(value: Fraction) -> str:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def consumption_csv_text(detail: ContractDetail) -> str:
    """``debut;fin;jours;volume_m3;litres_par_jour``: ISO dates, ``.`` decimals, oldest first."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["debut", "fin", "jours", "volume_m3", "litres_par_jour"])
    for p in detail.periods:
        writer.writerow([p.start.isoformat(), p.end.isoformat(), p.days, _m3(p.litres), _per_day(p.litres_per_day)])
    return out.getvalue()


async def consumption_csv(request: Request) -> Response:
    detail = await run_in_threadpool(_detail, request)
    safe_name = re.sub(r"[^A-Za-z0-9_-]", "_", detail.contract.number)[:40]
    return Response(
        consumption_csv_text(detail).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="consommations-{safe_name}.csv"'},
    )


# --- submitting a reading ------------------------------------------------------------------


def _form_context(detail: ContractDetail, today: date, values: dict[str, str] | None = None,
                  errors_by_field: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "contract": detail.contract,
        "last": detail.last_reading,
        "under_review": detail.under_review,
        "today": today,
        "values": values or {"index": "", "read_on": today.isoformat()},
        "errors": errors_by_field or {},
    }


async def reading_form(request: Request) -> Response:
    """The form; ``?date=YYYY-MM-DD`` (the "correct" link of a reading under review) preselects that day."""
    detail = await run_in_threadpool(_detail, request)
    today = _portal(request).clock.today()
    day = parse_day(request.query_params.get("date", ""))
    values = {"index": "", "read_on": (day if day is not None and day <= today else today).isoformat()}
    return render(request, "contracts/reading.html", _form_context(detail, today, values))


def _submit(portal: Portal, subscriber_id: uuid.UUID, number: str, index_text: str, read_on: date,
            photo: bytes | None) -> ImpliedConsumption:
    return service.submit_reading(portal, subscriber_id=subscriber_id, contract_number=number, index_text=index_text,
                                  read_on=read_on, photo=photo)


def parse_day(text: str) -> date | None:
    """A form's ``YYYY-MM-DD`` date (what ``<input type=date>`` sends), or None."""
    if not _ISO_DAY.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


async def submit_reading(request: Request) -> Response:
    subscriber = require_subscriber(request)
    portal = _portal(request)
    number = request.path_params["contract_number"]
    async with request.form(max_files=1, max_fields=20) as form:
        check_csrf(request, form)
        text = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
        values = {"index": field(text, "index", 40), "read_on": field(text, "read_on", 20)}
        upload = form.get("photo")
        photo = await upload.read(portal.config.limits.upload_max_bytes + 1) if is_upload(upload) else None
    read_on = parse_day(values["read_on"])
    problems: dict[str, str] = {}
    status = 422
    if read_on is None:  # say what is wrong with the index too, not one error at a time
        try:
            MeterIndex.parse(values["index"])
        except errors.InvalidIndex as exc:
            problems["index"] = message_for(exc)
        problems["read_on"] = BAD_DATE
    else:
        try:
            implied = await run_in_threadpool(_submit, portal, subscriber.id, number, values["index"], read_on, photo)
        except errors.NotFound:
            raise
        except errors.DomainError as exc:
            problems[next((f for cls, f in FIELD_OF if isinstance(exc, cls)), "index")] = message_for(exc)
            status = 503 if isinstance(exc, errors.StorageError) else 422
    if problems:
        detail = await run_in_threadpool(_detail, request)
        context = _form_context(detail, portal.clock.today(), values, problems)
        return render(request, "contracts/reading.html", context, status_code=status)
    return RedirectResponse(path_for(request, "contract", contract_number=number, query={"releve": implied.reading.id}),
                            status_code=303)


# Contract numbers may hold a "/" (sent as %2F): hence the quoted converter (see urls.py), suffixed routes first.
routes = [
    Route("/contrats", contract_list, name="contracts"),
    Route("/contrats/{contract_number:quoted}/consommations.csv", consumption_csv, name="consumption_csv"),
    Route("/contrats/{contract_number:quoted}/releve", reading_form, methods=["GET"], name="reading_form"),
    Route("/contrats/{contract_number:quoted}/releve", submit_reading, methods=["POST"], name="submit_reading"),
    Route("/contrats/{contract_number:quoted}", contract_page, name="contract"),
]
