"""Referrals, outcome figures and the recovery ledger on the case page
(app/cases/referrals.py, app/cases/outcomes.py): parsing the forms, the messages of a
refused action in the reviewer's language, and the ``vnd`` filter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import get_locale
from flask_babel import gettext as _

from app.cases.money import AmountError, format_vnd, parse_vnd
from app.cases.outcomes import OutcomeError, OutcomeFigures
from app.cases.referral_agencies import SHIPPED_AGENCIES
from app.cases.referral_agencies import agency_name as _agency_name
from app.cases.referrals import ReferralDetails, ReferralError
from app.models.vocabulary import DisciplineForm
from app.review import blueprint
from app.web.context import settings
from app.web.dates import format_day, parse_form_day
from app.web.i18n import DEFAULT_LANGUAGE

REFERRAL_FIELDS = ("agency", "dispatch_number", "dispatch_day", "procuracy_notified_day")


@blueprint.app_template_filter("vnd")
def vnd_filter(amount: int | None) -> str:
    """``{{ 1250000000|vnd }}``: "1.250.000.000 ₫" in Vietnamese, "1,250,000,000 ₫" in
    English (app.cases.money.format_vnd)."""
    if amount is None:
        return "—"
    return format_vnd(amount, str(get_locale() or DEFAULT_LANGUAGE))


@blueprint.app_template_global("agency_name")
def agency_name(code: str) -> str:
    """An agency's name in the page's language, from the configured list."""
    path = settings().referral_agencies_file or SHIPPED_AGENCIES
    return _agency_name(code, str(get_locale() or DEFAULT_LANGUAGE), path)


def _day(value: str, error: type[ReferralError] | type[OutcomeError]) -> date | None:
    """A day from the form (app.web.dates.parse_form_day); empty is None."""
    try:
        return parse_form_day(value)
    except ValueError:
        raise error("bad_day") from None


def referral_day(form: Mapping[str, str], name: str) -> date | None:
    return _day(form.get(name, ""), ReferralError)


def parse_referral(form: Mapping[str, str]) -> ReferralDetails | None:
    """The referral fields of the routing form, or None when none was filled (routing
    to an inspection unit; the domain asks for them when the target investigates)."""
    if not any(form.get(name, "").strip() for name in REFERRAL_FIELDS):
        return None
    return ReferralDetails(
        agency=form.get("agency", ""),
        dispatch_number=form.get("dispatch_number", ""),
        dispatch_day=referral_day(form, "dispatch_day"),
        procuracy_notified_day=referral_day(form, "procuracy_notified_day"),
    )


def _amount(form: Mapping[str, str], name: str, *, signed: bool = False) -> int:
    try:
        return parse_vnd(form.get(name, ""), signed=signed, allow_zero=not signed)
    except AmountError as exc:
        raise OutcomeError(f"amount_{exc.code}") from None


def _count(form: Mapping[str, str], name: str) -> int:
    text = form.get(name, "").strip()
    if not text:
        return 0
    if not text.isdigit() or not text.isascii():
        raise OutcomeError("bad_count")
    if len(text) > 6:
        raise OutcomeError("count_too_large")
    return int(text)


def parse_figures(form: Mapping[str, str]) -> OutcomeFigures:
    """The outcome figures of the closing form. Empty fields are zero."""
    return OutcomeFigures(
        concluded_day=_day(form.get("concluded_day", ""), OutcomeError),
        damage_found_vnd=_amount(form, "damage_found"),
        recovery_recommended_vnd=_amount(form, "recovery_recommended"),
        administrative_sanctions=_count(form, "administrative_sanctions"),
        disciplines={
            f.value: people for f in DisciplineForm if (people := _count(form, f"discipline_{f}"))
        },
    )


def entry_day(form: Mapping[str, str], today: date) -> date:
    """The ledger entry's day; empty means today."""
    return _day(form.get("entry_day", ""), OutcomeError) or today


def entry_amount(form: Mapping[str, str]) -> int:
    """A ledger amount: signed (a correction may be negative), never zero."""
    return _amount(form, "amount", signed=True)


def corrects(form: Mapping[str, str]) -> int | None:
    value = form.get("corrects", "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise OutcomeError("unknown_corrected_entry")
    return int(value)


def referral_error(exc: ReferralError) -> str:
    day = format_day(exc.day, str(get_locale() or DEFAULT_LANGUAGE)) if exc.day else ""
    texts = {
        "referral_required": _(
            "Routing to an investigation unit is a referral: choose the agency and give "
            "the dispatch number and day."
        ),
        "unknown_agency": _("Choose an investigation agency from the list."),
        "dispatch_number_required": _("Please give the dispatch number (số công văn)."),
        "dispatch_number_too_long": _("The dispatch number is at most 40 characters."),
        "day_required": _("Please give the day."),
        "bad_day": _("The day must be a date (dd/mm/yyyy)."),
        "day_in_future": _("The day cannot be later than today."),
        "day_before_dispatch": _("The day cannot be before the dispatch (%(day)s).", day=day),
        "no_referral": _("This case was never referred to an investigation agency."),
        "open_referral": _(
            "The investigation agency has not answered this referral yet: record its "
            "result (or the return to the inspection) first."
        ),
        "procuracy_already_recorded": _(
            "The procuracy's notification was already recorded (%(day)s).", day=day
        ),
        "result_recorded": _("The agency's result was already recorded; it is recorded once."),
        "result_required": _("Choose the agency's result."),
        "closed": _("The case is closed."),
        "extension_not_later": _(
            "An extension must end after the current last day (%(day)s).", day=day
        ),
        "extension_beyond_law": _(
            "The Criminal Procedure Code allows at most 2 months plus one extension of 2 "
            "months (art. 147): the latest last day is %(day)s.",
            day=day,
        ),
        "return_needs_inspection_unit": _("A returned case goes back to an inspection unit."),
    }
    return str(texts.get(exc.code, _("The action was refused.")))


def outcome_error(exc: OutcomeError) -> str:
    texts = {
        "conclusion_required": _("Choose the conclusion first: there is no default one."),
        "figures_need_founded_conclusion": _(
            "Outcome figures are recorded only for a founded or partly founded conclusion. "
            "Leave them empty (or zero) for this conclusion."
        ),
        "amount_negative": _("Amounts cannot be negative (only a correcting entry may be)."),
        "amount_decimal": _(
            "Amounts are whole đồng, without decimals: write 1.250.000.000 or 1250000000."
        ),
        "amount_not_a_number": _(
            "An amount is not a number: write it as 1.250.000.000 or 1250000000."
        ),
        "amount_too_large": _(
            "An amount is larger than any case can find (at most 10.000.000.000.000.000 ₫)."
        ),
        "amount_zero": _("A ledger entry needs an amount other than zero."),
        "bad_count": _("Numbers of people and of sanctions are whole numbers, 0 or more."),
        "count_too_large": _("A number of people or of sanctions is too large."),
        "unknown_discipline": _("Unknown disciplinary form."),
        "bad_day": _("The day must be a date (dd/mm/yyyy)."),
        "day_required": _("Please give the day."),
        "day_in_future": _("The day cannot be later than today."),
        "day_before_report": _("The day cannot be before the report was received."),
        "negative_needs_correction": _(
            "A negative amount is only allowed to correct an earlier entry: choose the "
            "entry it corrects."
        ),
        "correction_reason_required": _(
            "A correction needs its reason in the note (which entry is wrong, and why)."
        ),
        "unknown_corrected_entry": _("The corrected entry is not one of this case's entries."),
        "total_below_zero": _("The recovered total cannot go below zero."),
        "ledger_immutable": _(
            "Ledger entries are never changed or deleted; add a correcting entry instead."
        ),
    }
    return str(texts.get(exc.code, _("The action was refused.")))
