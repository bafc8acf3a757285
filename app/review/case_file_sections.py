"""What came of a case, in the case file's words (app.review.case_file): the referral,
the outcome figures, the recovery ledger, the related cases and the protection flags of
the thread. Loaded by the same domain functions as the case page (app.review.cases
case_view), so the paper file never says more, or other, than the screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import get_template_attribute
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.cases import outcomes, protection, referrals
from app.cases.case_file import Entry
from app.cases.money import format_vnd
from app.cases.reading import ReviewerCase
from app.models import Case
from app.review.outcomes import agency_name
from app.storage import BlobStore
from app.web.dates import format_day


def _label(macro: str, key: str | None) -> str:
    return str(get_template_attribute("labels.html", macro)(key)).strip()


@dataclass(frozen=True)
class OutcomeSections:
    referral: list[tuple[str, str]]
    outcome: list[tuple[str, str]]
    ledger: list[Entry]
    recovered: str
    links: list[str]
    protection_flags: dict[int, str]  # message id -> the flag its heading carries


def _referral(state: referrals.ReferralState | None, locale: str) -> list[tuple[str, str]]:
    if state is None:
        return []
    r = state.referral
    result = _label("referral_result", r.result)
    if r.result_day:
        result += f" ({format_day(r.result_day, locale)})"
    return [
        (_("Agency"), agency_name(r.agency)),
        (
            _("Dispatch"),
            _(
                "No. %(number)s of %(day)s",
                number=r.dispatch_number,
                day=format_day(r.dispatch_day, locale),
            ),
        ),
        (
            _("Procuracy notified"),
            format_day(r.procuracy_notified_day, locale)
            if r.procuracy_notified_day
            else _("not recorded yet"),
        ),
        (
            _("Verification due"),
            f"{format_day(state.due, locale)} — {_label('deadline', state.state.value)}",
        ),
        (_("Result"), result),
    ]


def _outcome(view: outcomes.OutcomeView | None, case: Case, locale: str) -> list[tuple[str, str]]:
    if view is None:
        return []
    o = view.outcome
    disciplined = "; ".join(
        f"{_label('discipline_form', form)}: {people}" for form, people in view.disciplines
    )
    concluded = format_day(o.concluded_day, locale)
    if case.resolution:
        concluded += f" — {_label('resolution', case.resolution)}"
    return [
        (_("Concluded on"), concluded),
        (_("Damage or misappropriation found"), format_vnd(o.damage_found_vnd, locale)),
        (_("Recovery recommended"), format_vnd(o.recovery_recommended_vnd, locale)),
        (_("Administrative sanction decisions"), str(o.administrative_sanctions)),
        (_("People disciplined"), disciplined or "0"),
    ]


def _ledger(lines: list[outcomes.LedgerLine], locale: str) -> list[Entry]:
    entries = []
    for line in lines:
        e = line.entry
        heading = (
            f"#{e.id} · {format_day(e.entry_day, locale)} · {format_vnd(e.amount_vnd, locale)}"
            f" · {line.recorded_by} · {_('Total so far')}: {format_vnd(line.running_total, locale)}"
        )
        text = line.note or ""
        if e.corrects_id:
            text = f"{_('corrects #%(id)s', id=e.corrects_id)} {text}".strip()
        entries.append(Entry(heading, text))
    return entries


def _flag(request: protection.CaseProtection, locale: str) -> str:
    if request.answered:
        when = _("answered on %(day)s", day=format_day(request.answered_day, locale))
    else:
        when = _("answer due by %(day)s", day=format_day(request.due_day, locale))
    return f"{_('Protection request / report of retaliation')} · {when}"


def outcome_sections(
    session: Session,
    store: BlobStore,
    opened: ReviewerCase,
    case: Case,
    today: date,
    locale: str,
) -> OutcomeSections:
    """Everything above, read in the caller's transaction (nothing is written)."""
    ledger = outcomes.load_ledger(session, store, case.id, opened.staff_identity)
    requests = protection.case_requests(session, case.id, today)
    flags = {p.message_id: _flag(p, locale) for p in requests}
    flags.update(
        {
            p.answer_message_id: _(
                "Answer to the protection request of %(day)s", day=format_day(p.filed_day, locale)
            )
            for p in requests
            if p.answer_message_id
        }
    )
    return OutcomeSections(
        referral=_referral(referrals.referral_state(session, case, today), locale),
        outcome=_outcome(outcomes.outcome_of(session, case.id), case, locale),
        ledger=_ledger(ledger, locale),
        recovered=format_vnd(ledger[-1].running_total if ledger else 0, locale),
        # opened.links is app.cases.links.links_of: both ends readable by the exporter.
        links=[
            f"{link.other_reference} · {_label('link_kind', link.kind.value)}"
            f" · {format_day(link.created_day, locale)}"
            for link in opened.links
        ],
        protection_flags=flags,
    )
