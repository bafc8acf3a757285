"""The statutory process on the case page (app/cases/legal_process.py): parsing the
forms, the messages of a refused action in the reviewer's language, and the office's
DOCX of a notice, rendered on demand from its encrypted fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.cases import legal_process, unit_of_work
from app.cases.legal_process import StatutoryError
from app.cases.notices import NoticeError, NoticeKind
from app.cases.reading import NoKeyError, case_identities
from app.models.vocabulary import KeyKind
from app.review import blueprint
from app.review.auth import login_required, readable_case_or_404
from app.web.context import blob_store
from app.web.dates import parse_form_day
from app.web.db import db_session, writes_on_get
from app.web.downloads import attachment_response
from app.web.i18n import select_locale

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def parse_day(value: str) -> date | None:
    """The decision day from the form (app.web.dates.parse_form_day); empty is None (the
    domain asks for it)."""
    try:
        return parse_form_day(value)
    except ValueError:
        raise StatutoryError("bad_day") from None


def criteria(form: Mapping[str, str]) -> list[str]:
    """The complexity criteria ticked (a checkbox list)."""
    if isinstance(form, MultiDict):
        return [str(value) for value in form.getlist("criteria")]
    value = form.get("criteria", "")
    return [value] if value else []


def statutory_error(exc: StatutoryError) -> str:
    texts = {
        "not_named": _(
            "Anonymous information is not a denunciation (Law on Denunciation art. 25): "
            "the statutory steps do not apply."
        ),
        "closed": _("The case is closed."),
        "already_decided": _(
            "The decision on this denunciation was already taken; it is taken once."
        ),
        "not_accepted": _("Only an accepted denunciation can be extended or concluded."),
        "already_concluded": _("The conclusion was already recorded."),
        "conclusion_number_required": _("Please give the number of the conclusion."),
        "outcome_required": _("Please write what the conclusion found."),
        "day_required": _("Please give the day of the decision."),
        "bad_day": _(
            "The day must be a date (dd/mm/yyyy) between the day of receipt (or of the "
            "acceptance, for a conclusion) and today."
        ),
        "decision_number_required": _("Please give the number of the acceptance decision."),
        "bad_decision_number": _(
            "The number of the acceptance decision is one line of at most 40 characters."
        ),
        "content_required": _("Please write the content accepted for resolution."),
        "reason_required": _("Please give the reason."),
        "authority_required": _("Please name the competent authority."),
        "criteria_required": _(
            "Tick the complexity criteria the case meets (Decree 31/2019 art. 3)."
        ),
        "extensions_exhausted": _("No further extension is allowed (Law on Denunciation art. 30)."),
        "second_needs_especially_complex": _(
            "A second extension is only for an especially complex case: tick two or more "
            "criteria (Law on Denunciation art. 30)."
        ),
    }
    return str(texts.get(exc.code, _("The action was refused.")))


def notice_error(exc: NoticeError) -> str:
    # The notice package words its own errors in both languages; they name the field,
    # never its value.
    return exc.message(select_locale())


@blueprint.get("/cases/<case_id>/notices/<int:notice_id>.docx")
@writes_on_get  # the download is audited
@login_required
def notice_docx(case_id: str, notice_id: int) -> ResponseReturnValue:
    db = db_session()
    actor, case = readable_case_or_404(case_id)
    try:
        staff = case_identities(db, actor, case)[KeyKind.STAFF]
    except NoKeyError:
        return render_template("review/case_no_key.html", case=case), 409
    try:
        row, document = legal_process.office_copy(db, blob_store(), case.id, notice_id, staff)
    except LookupError:
        abort(404)
    legal_process.record_office_copy_download(db, actor, case, row)
    unit_of_work.commit(db)
    name = legal_process.PDF_NAMES[NoticeKind(row.kind)].removesuffix(".pdf")
    return attachment_response(iter([document]), f"{name}.docx")
