"""The inbox: a page a reviewer can work from. Parse, call app.cases, commit once, render.

- Filters travel in the query string (they are columns in clear: status, category...).
  The search text does not: it is staff's free text about cases (a name, a place), so
  it is posted (with CSRF) and kept in the reviewer's session, whose payload is
  encrypted under a key that only their cookie holds (app.web.sessions). It never
  reaches a URL, and so no access log of a proxy in front of the review app.
- Summaries and search decrypt in this request only (app.cases.inbox_reading).
- Listing is recorded in the audit log once per login session (``inbox.listed``), and
  searching the reports once (``inbox.searched``): a record per page load or per filter
  change would bury what matters, and what a reviewer reads in full (a case page) is
  still recorded each time.
- Bulk acknowledge and assign: one POST, one unit of work, all or nothing
  (app.cases.bulk).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app import audit, clock
from app.cases import inbox_reading, protection, unit_of_work
from app.cases.access import AccessDenied, Actor
from app.cases.bulk import BULK_LIMIT, BulkAction, BulkError, BulkRefused, apply_bulk
from app.cases.grants import fulfil_pending_grants, grantable_cases, grants_awaited_by
from app.cases.inbox import InboxFilters, actor_units, assignable_colleagues
from app.cases.inbox_reading import clean_query, read_inbox
from app.cases.notices import NoticeError
from app.models.vocabulary import CaseStatus, Category, Sector, Track
from app.review import blueprint, statutory
from app.review.approvals import access_notices
from app.review.auth import current_actor, login_required
from app.review.cases import workflow_error_text
from app.review.identity import hand_over_seals
from app.storage import StorageError
from app.web.context import blob_store
from app.web.db import db_session, get_database
from app.web.i18n import select_locale

SESSION_QUERY = "inbox_query"
SESSION_LISTED = "inbox_listed"
SESSION_SEARCHED = "inbox_searched"


def _record_once(actor: Actor, flag: str, action: str) -> None:
    """Record ``action`` unless this login session already did (the flag lives in the
    session, which login clears)."""
    if session.get(flag):
        return
    with unit_of_work.transaction(get_database().sessionmaker) as db:
        audit.record(db, actor=actor.label, action=action)
    session[flag] = True


def _open_grants(actor: Actor) -> int:
    if actor.identity is None:
        return 0
    with get_database().read_session() as db:
        readable = grantable_cases(db, actor.unit_ids)
    if not readable:
        return 0
    # Whoever opens the inbox with a key in their session opens the way for colleagues
    # waiting for access (new members, reset keys), 50 cases a time.
    with unit_of_work.transaction(get_database().sessionmaker) as db:
        return len(
            fulfil_pending_grants(
                db, [actor.identity], actor_label=actor.label, case_ids=readable, limit=50
            )
        )


@blueprint.get("/inbox")
@login_required
def inbox() -> ResponseReturnValue:
    actor = current_actor()
    if not actor.reads_cases:
        return render_template(
            "review/observer_home.html",
            access_notices=access_notices(),
            protection_requests=protection.open_requests_for(db_session(), actor, clock.today()),
        )
    fulfilled = _open_grants(actor)
    if actor.identity is not None:
        hand_over_seals(actor)  # sealed identities of cases routed away (app.review.identity)
    query = str(session.get(SESSION_QUERY, ""))
    filters = InboxFilters.parse(request.args.to_dict())
    language = select_locale()
    db = db_session()
    view = read_inbox(
        db, blob_store(), actor, filters, clock.today(), query=query, language=language
    )
    pending = grants_awaited_by(db, actor.reviewer_id)
    units = actor_units(db, actor)
    colleagues = assignable_colleagues(db, actor)
    unit_names = {unit.id: unit.name(language) for unit in units}
    members = [(member.id, member.username) for member in colleagues]
    unit_of_work.rollback(db)  # end the read before the audit write (SQLite: one writer at a time)
    _record_once(actor, SESSION_LISTED, "inbox.listed")
    if view.search is not None and view.search.searched:
        _record_once(actor, SESSION_SEARCHED, "inbox.searched")
    return render_template(
        "review/inbox.html",
        protection_requests=protection.open_requests_for(db_session(), actor, clock.today()),
        view=view,
        page=view.page,
        filters=filters,
        query=query,
        statuses=list(CaseStatus),
        categories=list(Category),
        sectors=list(Sector),
        tracks=list(Track),
        units=unit_names,
        members=members,
        fulfilled=fulfilled,
        pending=pending,
        access_notices=access_notices(),
        summary_cap=inbox_reading.SUMMARY_CAP,
        search_cap=inbox_reading.SEARCH_CAP,
        bulk_limit=BULK_LIMIT,
        query_without_page=filters.query(),
    )


def _inbox_url(filters: InboxFilters) -> str:
    query: dict[str, Any] = dict(filters.query())
    return url_for("review.inbox", **query)


@blueprint.post("/inbox/search")
@login_required
def inbox_search() -> ResponseReturnValue:
    """Keep the search text in the session, and show the inbox with the filters."""
    filters = InboxFilters.parse(request.form.to_dict())
    query = clean_query(request.form.get("q", ""))
    if request.form.get("clear") == "1" or not query:
        session.pop(SESSION_QUERY, None)
    else:
        session[SESSION_QUERY] = query
    return redirect(_inbox_url(filters), code=303)


def _bulk_error(code: str) -> str:
    texts = {
        "none_selected": _("Select at least one case."),
        "too_many": _("Select at most %(limit)s cases at a time.", limit=BULK_LIMIT),
        "not_readable": _("A selected case is no longer in your inbox. Nothing was changed."),
        "unknown_action": _("Choose an action for the selected cases."),
    }
    return str(texts.get(code, _("The action was refused.")))


def _refusal(refused: BulkRefused) -> str:
    cause = refused.cause
    reason = (
        statutory.notice_error(cause)
        if isinstance(cause, NoticeError)
        else workflow_error_text(cause)
    )
    return str(
        _(
            "%(reference)s: %(reason)s Nothing was changed in any selected case.",
            reference=refused.reference,
            reason=reason,
        )
    )


@blueprint.post("/inbox/bulk")
@login_required
def inbox_bulk() -> ResponseReturnValue:
    actor = current_actor()
    back = redirect(_inbox_url(InboxFilters.parse(request.form.to_dict())), code=303)
    db = db_session()
    try:
        action = BulkAction(request.form.get("action", ""))
    except ValueError:
        flash(_bulk_error("unknown_action"), "error")
        return back
    assignee = request.form.get("assignee", "")
    if action is BulkAction.ASSIGN and not assignee.isdigit() and assignee != "none":
        flash(_("Choose who the selected cases are assigned to."), "error")
        return back
    try:
        done = apply_bulk(
            db,
            blob_store(),
            actor,
            action,
            request.form.getlist("case"),
            assignee_id=int(assignee) if assignee.isdigit() and len(assignee) < 10 else None,
        )
        unit_of_work.commit(db)
    except BulkError as exc:
        unit_of_work.rollback(db)
        flash(_bulk_error(exc.code), "error")
        return back
    except BulkRefused as refused:
        unit_of_work.rollback(db)
        flash(_refusal(refused), "error")
        return back
    except AccessDenied:
        unit_of_work.rollback(db)
        abort(403)
    except StorageError:
        unit_of_work.rollback(db)
        flash(_("The encrypted store is not available. Nothing was changed."), "error")
        return back
    if action is BulkAction.ACKNOWLEDGE:
        flash(_("%(count)s case(s) acknowledged.", count=len(done)), "success")
    else:
        flash(_("%(count)s case(s) assigned.", count=len(done)), "success")
    return back
