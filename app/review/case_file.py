"""Export a case's paper file (hồ sơ) as PDF: decrypted, marked confidential on every
page, stamped with who exported it and when, and audited (app.cases.case_file)."""

from __future__ import annotations

from flask import abort, get_template_attribute, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app import clock
from app.cases import questionnaire as questionnaire_mod
from app.cases import unit_of_work
from app.cases.access import AccessDenied
from app.cases.case_file import CaseFile, Entry, record_case_file_export
from app.cases.case_file_pdf import CaseFileWords, render_case_file_pdf
from app.cases.reading import NoKeyError, ReviewerCase, open_case
from app.models import Case, Unit
from app.models.vocabulary import Side
from app.review import blueprint
from app.review.audit_display import audit_names
from app.review.audit_labels import action_labels
from app.review.auth import current_reviewer, login_required, readable_case_or_404
from app.review.case_file_sections import outcome_sections
from app.web.context import blob_store
from app.web.db import db_session
from app.web.downloads import attachment_response
from app.web.i18n import moment_filter, select_locale


def _label(macro: str, key: str | None) -> str:
    if not key:
        return "—"
    return str(get_template_attribute("labels.html", macro)(key)).strip()


def _words() -> CaseFileWords:
    return CaseFileWords(
        mark=_("CONFIDENTIAL — decrypted case file"),
        stamp=_("Exported by {user} on {when}"),
        page=_("Page {page} of {pages}"),
        summary=_("Summary"),
        report=_("Report"),
        attachments=_("Attachments"),
        thread=_("Messages with the reporter"),
        notes=_("Internal notes"),
        timeline=_("Timeline"),
        none=_("(none)"),
        referral=_("Referral to the investigation agency"),
        outcome=_("Outcome and recovery"),
        ledger=_("Recovery ledger"),
        recovered=_("Recovered so far"),
        links=_("Related cases"),
    )


def _content(opened: ReviewerCase, case: Case, exported_by: str) -> CaseFile:
    locale = select_locale()
    questionnaire = questionnaire_mod.load_questionnaire()
    holder = db_session().get(Unit, case.holding_unit_id)
    names = audit_names()
    labels = action_labels()
    sections = outcome_sections(db_session(), blob_store(), opened, case, clock.today(), locale)
    answers = []
    for qid, value in opened.report.answers.items() if opened.report else []:
        values = [value] if isinstance(value, str) else value
        shown = [
            questionnaire.option_label(qid, v, locale)
            if questionnaire.by_id.get(qid) and questionnaire.by_id[qid].options
            else v
            for v in values
        ]
        answers.append((questionnaire.label(qid, locale), ", ".join(shown)))
    return CaseFile(
        reference=case.reference,
        exported_by=exported_by,
        exported_at=clock.utcnow().astimezone(clock.zone()),
        summary=[
            (_("Status"), _label("status", case.status)),
            (_("Category"), _label("category", case.category)),
            (_("Sector"), _label("sector", case.sector)),
            (_("Held by"), holder.name(locale) if holder else "—"),
            (_("Received"), case.created_day.strftime("%d/%m/%Y")),
        ],
        answers=answers,
        attachments=[meta.name for _id, meta in opened.attachments],
        thread=[
            Entry(
                f"{_('Reporter') if m.side is Side.REPORTER else _('Inspectors')} · "
                + m.day.strftime("%d/%m/%Y")
                + (
                    f" · {sections.protection_flags[m.id]}"
                    if m.id in sections.protection_flags
                    else ""
                ),
                _("(this message cannot be read)") if m.unreadable else m.text,
            )
            for m in opened.thread
        ],
        notes=[Entry(f"{n.author} · {moment_filter(n.created_at)}", n.text) for n in opened.notes],
        timeline=[
            Entry(
                f"{e.at.strftime('%d/%m/%Y') if e.day_only else moment_filter(e.at)}"
                f" · {names.actor(e.actor)} · {labels.get(e.action, e.action)}",
                "",
            )
            for e in opened.timeline
        ],
        referral=sections.referral,
        outcome=sections.outcome,
        ledger=sections.ledger,
        recovered=sections.recovered,
        links=sections.links,
    )


@blueprint.post("/cases/<case_id>/case-file")
@login_required
def case_file(case_id: str) -> ResponseReturnValue:
    reviewer = current_reviewer()
    assert reviewer is not None  # login_required ran
    db = db_session()
    actor, case = readable_case_or_404(case_id)
    try:
        opened = open_case(db, blob_store(), actor, case.id)
    except NoKeyError:
        return render_template("review/case_no_key.html", case=case), 409
    except AccessDenied:
        abort(404)
    document, pages = render_case_file_pdf(_content(opened, case, reviewer.username), _words())
    # Audited before it leaves: the bytes are ready, nothing can fail to decrypt now.
    record_case_file_export(db, actor, case, pages)
    unit_of_work.commit(db)
    return attachment_response(iter([document]), f"{case.reference} - ho so.pdf")
