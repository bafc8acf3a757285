"""Inbox and case views of the review app: parse, call app.cases, commit once, render.

A case that the reviewer may not read is answered with 404, not 403, so that a
reviewer of another unit cannot even learn that a case id exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app import clock
from app.cases import actions, legal_process, outcomes, referrals, unit_of_work, workflow
from app.cases import questionnaire as questionnaire_mod
from app.cases.access import AccessDenied, Actor
from app.cases.acknowledgment import maybe_send_automatic_acknowledgment
from app.cases.deadlines import case_deadline
from app.cases.grants import fulfil_pending_grants, grantable_cases, grants_awaited_by
from app.cases.inbox import InboxFilters, inbox_page
from app.cases.legal_process import StatutoryError, statutory_state
from app.cases.messages import MessageError, mark_reporter_messages_read
from app.cases.notes import add_note
from app.cases.notices import NoticeError
from app.cases.outcomes import OutcomeError
from app.cases.reading import NoKeyError, open_attachment, open_case, record_download
from app.cases.referral_agencies import SHIPPED_AGENCIES, load_agencies
from app.cases.referrals import ReferralError
from app.installation import UnknownUnitError
from app.models import Case, Reviewer, Unit
from app.models.vocabulary import (
    CaseStatus,
    Category,
    DisciplineForm,
    Priority,
    ReferralResult,
    Resolution,
    Role,
    Sector,
)
from app.review import audit_labels, blueprint, statutory
from app.review import outcomes as outcome_forms
from app.review.approvals import access_notices
from app.review.auth import (
    current_actor,
    login_required,
    readable_case_or_404,
)
from app.review.identity import hand_over_seals
from app.storage import StorageError
from app.web.context import blob_store, settings
from app.web.db import db_session, get_database, writes_on_get
from app.web.downloads import attachment_response

CASE_READERS = (Role.REVIEWER.value, Role.ADMIN.value)


def _today() -> Any:
    return clock.today()


@blueprint.get("/inbox")
@login_required
def inbox() -> ResponseReturnValue:
    actor = current_actor()
    if not actor.reads_cases:
        return render_template("review/observer_home.html", access_notices=access_notices())
    fulfilled = 0
    if actor.identity is not None:
        with get_database().read_session() as db:
            readable = grantable_cases(db, actor.unit_ids)
        if readable:
            # Whoever opens the inbox with a key in their session opens the way for
            # colleagues waiting for access (new members, reset keys), 50 cases a time.
            with unit_of_work.transaction(get_database().sessionmaker) as db:
                fulfilled = len(
                    fulfil_pending_grants(
                        db, [actor.identity], actor_label=actor.label, case_ids=readable, limit=50
                    )
                )
    if actor.identity is not None:
        hand_over_seals(actor)  # sealed identities of cases routed away (app.review.identity)
    db = db_session()
    pending = grants_awaited_by(db, actor.reviewer_id)
    filters = InboxFilters.parse(request.args.to_dict())
    page = inbox_page(db, actor, filters, _today())
    return render_template(
        "review/inbox.html",
        page=page,
        filters=filters,
        statuses=list(CaseStatus),
        categories=list(Category),
        sectors=list(Sector),
        fulfilled=fulfilled,
        pending=pending,
        access_notices=access_notices(),
        query_without_page={k: v for k, v in request.args.items() if k != "page"},
    )


@blueprint.get("/cases/<case_id>")
@writes_on_get  # reading decrypts, and that is audited: one session reads and writes
@login_required
def case_view(case_id: str) -> ResponseReturnValue:
    actor, case = readable_case_or_404(case_id)
    db = db_session()
    try:
        opened = open_case(db, blob_store(), actor, case.id)
    except NoKeyError:
        return render_template("review/case_no_key.html", case=case), 409
    except AccessDenied:
        abort(404)
    sent = False
    if settings().auto_acknowledge and case.status == CaseStatus.NEW.value:
        # On StorageError it rolled back and kept nothing; the reviewer acknowledges by hand.
        with suppress(StorageError):
            sent = maybe_send_automatic_acknowledgment(db, blob_store(), actor, case, enabled=True)
    # Reading decrypts: audited, and the reporter's messages now count as read.
    workflow.record_view(db, actor, case)
    mark_reporter_messages_read(db, case.id)
    # Everything the page shows is read before the one commit: on SQLite this session
    # holds the write lock, and rendering after the commit would take it again.
    holder = db.get(Unit, case.holding_unit_id)
    assignee = db.get(Reviewer, case.assignee_id) if case.assignee_id else None
    routing = workflow.routing_options(db, case)
    members = workflow.case_members(db, case)
    notices = legal_process.case_notices(db, case.id)
    referral = referrals.referral_state(db, case, _today())
    past_referrals = referrals.referrals_of(db, case.id)
    outcome = outcomes.outcome_of(db, case.id)
    ledger = outcomes.load_ledger(db, blob_store(), case.id, opened.staff_identity)
    unit_of_work.commit(db)
    if sent:
        flash(_("The reporter was sent the automatic acknowledgment."), "success")
        return redirect(url_for("review.case_view", case_id=case.id), code=303)
    return render_template(
        "review/case.html",
        opened=opened,
        case=case,
        holder=holder,
        assignee=assignee,
        questionnaire=questionnaire_mod.load_questionnaire(),
        targets=routing.targets,
        routing=routing,
        members=members,
        priorities=list(Priority),
        resolutions=list(Resolution),
        actor=actor,
        deadline=case_deadline(case, _today()),
        statutory=statutory_state(case, _today()),
        notices=notices,
        complexity_criteria=legal_process.COMPLEXITY_CRITERIA,
        audit_labels=audit_labels.action_labels(),
        referral=referral,
        past_referrals=past_referrals,
        agencies=load_agencies(_agencies_file()),
        referral_results=[r for r in ReferralResult if r is not ReferralResult.RETURNED],
        discipline_forms=list(DisciplineForm),
        founded_resolutions=[r.value for r in outcomes.FOUNDED],
        outcome=outcome,
        ledger=ledger,
        recovered=ledger[-1].running_total if ledger else 0,
    )


def _agencies_file() -> Path:
    return settings().referral_agencies_file or SHIPPED_AGENCIES


@blueprint.get("/cases/<case_id>/attachments/<blob_id>")
@login_required
def case_attachment(case_id: str, blob_id: str) -> ResponseReturnValue:
    actor, case = readable_case_or_404(case_id)
    try:
        download = open_attachment(db_session(), blob_store(), actor, case.id, blob_id)
    except NoKeyError:
        return render_template("review/case_no_key.html", case=case), 409
    except AccessDenied:
        abort(404)

    def on_sent() -> None:
        # After the response was streamed, when the request's session is gone.
        with unit_of_work.transaction(get_database().sessionmaker) as db:
            record_download(db, actor, case.id)

    return attachment_response(download.chunks, download.meta.name, on_sent=on_sent)


def _refused(case: Case, message: str) -> ResponseReturnValue:
    unit_of_work.rollback(db_session())
    flash(message, "error")
    return redirect(url_for("review.case_view", case_id=case.id), code=303)


def _workflow_error(exc: workflow.WorkflowError | UnknownUnitError) -> str:
    texts = {
        "invalid_transition": _("This action is not possible in the case's current state."),
        "reason_required": _("Please give a reason for the routing."),
        "resolution_required": _("Choose how the case ends: there is no default resolution."),
        "excluded_unit": _("The reporter asked that this unit never read the case."),
        "unknown_unit": _("Choose an inspection or investigation unit."),
        "not_a_member": _("The case can only be assigned to a member who can read it."),
        "key_required": _("Your session holds no key. Please log in again."),
    }
    return str(texts.get(exc.code, _("The action was refused.")))


Form = Mapping[str, str]


@dataclass(frozen=True)
class CaseAction:
    """One button of the case page: the domain function it calls (with what it parsed
    from the form), the message shown once it is committed, and whether the reviewer
    goes back to the inbox (they may no longer read the case)."""

    run: Callable[[Session, Actor, Case, Form], object]
    done: LazyString
    to_inbox: bool = False
    # Cannot be undone by the reviewer (the case leaves them, or ends): the form carries a
    # "I understand" box, checked here too, so a stray click or a replayed form does nothing.
    irreversible: bool = False


def _assignee(form: Form) -> int | None:
    value = form.get("assignee", "")
    return int(value) if value.isdigit() else None


ACTIONS: dict[str, CaseAction] = {
    "acknowledge": CaseAction(
        lambda db, actor, case, form: actions.acknowledge(db, blob_store(), actor, case),
        _l("Case acknowledged."),
    ),
    "request-info": CaseAction(
        lambda db, actor, case, form: actions.ask_reporter(
            db, blob_store(), actor, case, form.get("message", "")
        ),
        _l("Question sent to the reporter."),
    ),
    "resume": CaseAction(
        lambda db, actor, case, form: workflow.resume_triage(db, actor, case),
        _l("Back in triage."),
    ),
    "priority": CaseAction(
        lambda db, actor, case, form: workflow.set_priority(
            db, actor, case, form.get("priority", "")
        ),
        _l("Priority set."),
    ),
    "assign": CaseAction(
        lambda db, actor, case, form: workflow.assign(db, actor, case, _assignee(form)),
        _l("Assignment saved."),
    ),
    "route": CaseAction(
        lambda db, actor, case, form: actions.route_with_reason(
            db,
            blob_store(),
            actor,
            case,
            form.get("unit", ""),
            form.get("reason", ""),
            outcome_forms.parse_referral(form),
            today=_today(),
            agencies_file=_agencies_file(),
        ),
        _l("Case routed. Only the receiving unit can read it now."),
        to_inbox=True,  # unless also in the receiving unit, the router lost the case
        irreversible=True,
    ),
    "recuse": CaseAction(
        lambda db, actor, case, form: workflow.recuse(db, actor, case),
        _l("You have recused yourself from this case."),
        to_inbox=True,
        irreversible=True,
    ),
    "close": CaseAction(
        lambda db, actor, case, form: actions.close_with_message(
            db,
            blob_store(),
            actor,
            case,
            form.get("resolution", ""),
            settings().retention_days,
            form.get("message", ""),
            outcome_forms.parse_figures(form),
            today=_today(),
        ),
        _l("Case closed."),
        irreversible=True,
    ),
    "reopen": CaseAction(
        lambda db, actor, case, form: workflow.reopen(db, actor, case),
        _l("Case reopened."),
    ),
    "reply": CaseAction(
        lambda db, actor, case, form: actions.reply_to_reporter(
            db, blob_store(), actor, case, form.get("message", "")
        ),
        _l("Reply sent. The reporter will see it when they follow up."),
    ),
    # The statutory process of a named denunciation (app/cases/legal_process.py).
    "accept": CaseAction(
        lambda db, actor, case, form: legal_process.accept(
            db,
            blob_store(),
            actor,
            case,
            on=statutory.parse_day(form.get("day", "")),
            decision_number=form.get("decision_number", ""),
            content=form.get("content", ""),
        ),
        _l("Denunciation accepted. The reporter was sent the acceptance notice."),
    ),
    "refuse": CaseAction(
        lambda db, actor, case, form: legal_process.refuse(
            db, blob_store(), actor, case, reason=form.get("reason", "")
        ),
        _l("Denunciation not accepted. The reporter was sent the notice with the reasons."),
    ),
    "transfer": CaseAction(
        lambda db, actor, case, form: legal_process.transfer(
            db,
            blob_store(),
            actor,
            case,
            authority=form.get("authority", ""),
            reason=form.get("reason", ""),
        ),
        _l("Denunciation transferred. The reporter was sent the transfer notice."),
    ),
    "extend": CaseAction(
        lambda db, actor, case, form: legal_process.extend(
            db,
            blob_store(),
            actor,
            case,
            reason=form.get("reason", ""),
            criteria=statutory.criteria(form),
        ),
        _l("Resolution period extended. The reporter was sent the extension decision."),
    ),
    "conclude": CaseAction(
        lambda db, actor, case, form: legal_process.conclude(
            db,
            blob_store(),
            actor,
            case,
            on=statutory.parse_day(form.get("day", "")),
            conclusion_number=form.get("conclusion_number", ""),
            outcome=form.get("outcome", ""),
        ),
        _l("Conclusion recorded. The reporter was sent the notice of the conclusion."),
    ),
    "note": CaseAction(
        lambda db, actor, case, form: add_note(db, blob_store(), actor, case, form.get("note", "")),
        _l("Note added."),
    ),
    # Referral to the investigation agency (app/cases/referrals.py): the holder records
    # what the agency and the procuracy did. Each is recorded once, hence the confirm box.
    "referral-procuracy": CaseAction(
        lambda db, actor, case, form: referrals.record_procuracy_notice(
            db, actor, case, outcome_forms.referral_day(form, "day"), _today()
        ),
        _l("The procuracy's notification was recorded."),
        irreversible=True,
    ),
    "referral-extend": CaseAction(
        lambda db, actor, case, form: referrals.extend(
            db, actor, case, outcome_forms.referral_day(form, "until")
        ),
        _l("The verification period's new last day was recorded."),
    ),
    "referral-result": CaseAction(
        lambda db, actor, case, form: referrals.record_result(
            db,
            actor,
            case,
            form.get("result", ""),
            outcome_forms.referral_day(form, "day"),
            _today(),
        ),
        _l("The investigation agency's result was recorded."),
        irreversible=True,
    ),
    "referral-return": CaseAction(
        lambda db, actor, case, form: actions.return_to_inspection(
            db,
            blob_store(),
            actor,
            case,
            form.get("unit", ""),
            form.get("reason", ""),
            outcome_forms.referral_day(form, "day"),
            _today(),
        ),
        _l("The case went back to the inspection. Only the receiving unit can read it now."),
        to_inbox=True,
        irreversible=True,
    ),
    # The recovery ledger (app/cases/outcomes.py): append-only, so confirmed.
    "recovery": CaseAction(
        lambda db, actor, case, form: outcomes.add_recovery_entry(
            db,
            blob_store(),
            actor,
            case,
            day=outcome_forms.entry_day(form, _today()),
            amount_vnd=outcome_forms.entry_amount(form),
            note=form.get("note", ""),
            today=_today(),
            corrects_id=outcome_forms.corrects(form),
        ),
        _l("Ledger entry added."),
        irreversible=True,
    ),
}


@blueprint.post("/cases/<case_id>/<action>")
@login_required
def case_action(case_id: str, action: str) -> ResponseReturnValue:
    actor, case = readable_case_or_404(case_id)
    chosen = ACTIONS.get(action)
    if chosen is None:
        abort(404)
    if chosen.irreversible and request.form.get("confirm") != "yes":
        return _refused(case, _("Tick the box to confirm: this step cannot be undone."))
    db = db_session()
    try:
        chosen.run(db, actor, case, request.form)
        unit_of_work.commit(db)
    except (workflow.WorkflowError, UnknownUnitError) as exc:
        return _refused(case, _workflow_error(exc))
    except MessageError:
        return _refused(case, _("Please write a message."))
    except StatutoryError as exc:
        return _refused(case, statutory.statutory_error(exc))
    except NoticeError as exc:
        return _refused(case, statutory.notice_error(exc))
    except ReferralError as exc:
        return _refused(case, outcome_forms.referral_error(exc))
    except OutcomeError as exc:
        return _refused(case, outcome_forms.outcome_error(exc))
    except AccessDenied:
        unit_of_work.rollback(db)
        abort(403)
    except StorageError:
        return _refused(case, _("The encrypted store is not available. Nothing was changed."))
    flash(str(chosen.done), "success")
    if chosen.to_inbox:
        return redirect(url_for("review.inbox"), code=303)
    return redirect(url_for("review.case_view", case_id=case.id), code=303)
