"""Inbox and case views of the review app: parse, call app.cases, commit, render.

A case that the reviewer may not read is answered with 404, not 403, so that a
reviewer of another unit cannot even learn that a case id exists.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app import audit, clock
from app.cases import questionnaire as questionnaire_mod
from app.cases import workflow
from app.cases.access import AccessDenied, Actor, load_actor, readable_case
from app.cases.acknowledgment import maybe_send_automatic_acknowledgment
from app.cases.grants import fulfil_pending_grants, grantable_cases, grants_awaited_by
from app.cases.inbox import InboxFilters, case_deadline, inbox_page
from app.cases.messages import MessageError, add_message_from_server, mark_reporter_messages_read
from app.cases.notes import add_note
from app.cases.reading import NoKeyError, open_attachment, open_case
from app.models import Case, Reviewer, Unit
from app.models.vocabulary import CaseStatus, Category, Priority, Resolution, Role, Sector, Side
from app.review import audit_labels, blueprint
from app.review.approvals import access_notices
from app.review.auth import current_identity, current_reviewer, login_required
from app.review.identity import hand_over_seals
from app.storage import StorageError
from app.web.context import blob_store, settings
from app.web.db import db_session, get_database
from app.web.downloads import attachment_response

CASE_READERS = (Role.REVIEWER.value, Role.ADMIN.value)


def _actor() -> Actor:
    reviewer = current_reviewer()
    assert reviewer is not None  # login_required ran
    return load_actor(db_session(), reviewer.id, current_identity())


def _today() -> Any:
    return clock.today()


def _case_or_404(case_id: str) -> tuple[Actor, Case]:
    actor = _actor()
    try:
        return actor, readable_case(db_session(), actor, case_id)
    except AccessDenied:
        abort(404)


@blueprint.get("/inbox")
@login_required
def inbox() -> ResponseReturnValue:
    actor = _actor()
    if not actor.reads_cases:
        return render_template("review/observer_home.html", access_notices=access_notices())
    fulfilled = 0
    if actor.identity is not None:
        with get_database().read_session() as db:
            readable = grantable_cases(db, actor.unit_ids)
        if readable:
            # Whoever opens the inbox with a key in their session opens the way for
            # colleagues waiting for access (new members, reset keys), 50 cases a time.
            with get_database().session() as db:
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
@login_required
def case_view(case_id: str) -> ResponseReturnValue:
    actor, case = _case_or_404(case_id)
    try:
        opened = open_case(db_session(), blob_store(), actor, case.id)
    except NoKeyError:
        return render_template("review/case_no_key.html", case=case), 409
    except AccessDenied:
        abort(404)
    # Reading decrypts: audited, and the reporter's messages now count as read.
    with get_database().session() as db:
        workflow.record_view(db, actor, db.get(Case, case.id))  # type: ignore[arg-type]
        mark_reporter_messages_read(db, case.id)
    if settings().auto_acknowledge and case.status == CaseStatus.NEW.value:
        with get_database().sessionmaker() as db:  # the function commits itself
            fresh = db.get(Case, case.id)
            try:
                sent = fresh is not None and maybe_send_automatic_acknowledgment(
                    db, blob_store(), actor, fresh, enabled=True
                )
            except StorageError:
                sent = False  # nothing was kept; the reviewer can acknowledge by hand
        if sent:
            flash(_("The reporter was sent the automatic acknowledgment."), "success")
            return redirect(url_for("review.case_view", case_id=case.id), code=303)
    db = db_session()
    holder = db.get(Unit, case.holding_unit_id)
    assignee = db.get(Reviewer, case.assignee_id) if case.assignee_id else None
    return render_template(
        "review/case.html",
        opened=opened,
        case=case,
        holder=holder,
        assignee=assignee,
        questionnaire=questionnaire_mod.load_questionnaire(),
        targets=workflow.route_targets(db, case),
        members=workflow.case_members(db, case),
        priorities=list(Priority),
        resolutions=list(Resolution),
        actor=actor,
        deadline=case_deadline(case, _today()),
        audit_labels=audit_labels.action_labels(),
    )


@blueprint.get("/cases/<case_id>/attachments/<blob_id>")
@login_required
def case_attachment(case_id: str, blob_id: str) -> ResponseReturnValue:
    actor, case = _case_or_404(case_id)
    try:
        download = open_attachment(db_session(), blob_store(), actor, case.id, blob_id)
    except NoKeyError:
        return render_template("review/case_no_key.html", case=case), 409
    except AccessDenied:
        abort(404)

    def record_download() -> None:
        # Only for a download that is sent (see attachment_response): a file that
        # cannot be opened or decrypted leaves no "downloaded" event.
        with get_database().session() as db:
            audit.record(db, actor=actor.label, action="attachment.downloaded", case_id=case.id)

    return attachment_response(download.chunks, download.meta.name, on_sent=record_download)


def _done(case: Case, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("review.case_view", case_id=case.id), code=303)


def _refused(case: Case, message: str) -> ResponseReturnValue:
    db_session().rollback()
    flash(message, "error")
    return redirect(url_for("review.case_view", case_id=case.id), code=303)


def _workflow_error(exc: workflow.WorkflowError) -> str:
    texts = {
        "invalid_transition": _("This action is not possible in the case's current state."),
        "reason_required": _("Please give a reason for the routing."),
        "excluded_unit": _("The reporter asked that this unit never read the case."),
        "unknown_unit": _("Choose an inspection or investigation unit."),
        "not_a_member": _("The case can only be assigned to a member who can read it."),
        "key_required": _("Your session holds no key. Please log in again."),
    }
    return str(texts.get(exc.code, _("The action was refused.")))


def _reply_to_reporter(actor: Actor, case: Case, text: str) -> None:
    add_message_from_server(
        db_session(),
        blob_store(),
        case=case,
        side=Side.REVIEWER,
        author_id=actor.reviewer_id,
        text=text,
        attachments=[],
    )


@blueprint.post("/cases/<case_id>/<action>")
@login_required
def case_action(case_id: str, action: str) -> ResponseReturnValue:
    actor, case = _case_or_404(case_id)
    db = db_session()
    form = request.form
    try:
        if action == "acknowledge":
            workflow.acknowledge(db, actor, case)
            db.commit()
            return _done(case, _("Case acknowledged."))
        if action == "request-info":
            text = form.get("message", "")
            workflow.request_information(db, actor, case)
            db.flush()
            _reply_to_reporter(actor, case, text)  # commits with the status change
            return _done(case, _("Question sent to the reporter."))
        if action == "resume":
            workflow.resume_triage(db, actor, case)
            db.commit()
            return _done(case, _("Back in triage."))
        if action == "priority":
            workflow.set_priority(db, actor, case, form.get("priority", ""))
            db.commit()
            return _done(case, _("Priority set."))
        if action == "assign":
            value = form.get("assignee", "")
            workflow.assign(db, actor, case, int(value) if value.isdigit() else None)
            db.commit()
            return _done(case, _("Assignment saved."))
        if action == "route":
            reason = form.get("reason", "")
            workflow.route(db, actor, case, form.get("unit", ""), reason)
            db.flush()
            # The reasoning is internal: encrypted to the staff key, never to the reporter.
            add_note(db, blob_store(), actor, case, reason, kind="routing_reason")
            flash(_("Case routed. Only the receiving unit can read it now."), "success")
            # The router may no longer read the case (unless also in the receiving unit).
            return redirect(url_for("review.inbox"), code=303)
        if action == "recuse":
            workflow.recuse(db, actor, case)
            db.commit()
            flash(_("You have recused yourself from this case."), "success")
            return redirect(url_for("review.inbox"), code=303)
        if action == "close":
            workflow.close(db, actor, case, form.get("resolution", ""), settings().retention_days)
            text = form.get("message", "").strip()
            if text:
                db.flush()
                _reply_to_reporter(actor, case, text)
            else:
                db.commit()
            return _done(case, _("Case closed."))
        if action == "reopen":
            workflow.reopen(db, actor, case)
            db.commit()
            return _done(case, _("Case reopened."))
        if action == "reply":
            _reply_to_reporter(actor, case, form.get("message", ""))
            return _done(case, _("Reply sent. The reporter will see it when they follow up."))
        if action == "note":
            add_note(db, blob_store(), actor, case, form.get("note", ""))
            return _done(case, _("Note added."))
    except workflow.WorkflowError as exc:
        return _refused(case, _workflow_error(exc))
    except MessageError:
        return _refused(case, _("Please write a message."))
    except AccessDenied:
        db.rollback()
        abort(403)
    except StorageError:
        return _refused(case, _("The encrypted store is not available. Nothing was changed."))
    abort(404)
