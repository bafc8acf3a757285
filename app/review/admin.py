"""Admin pages for keys and the audit log: pending grants, the recovery key, audit browse."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import installation
from app.cases.grants import fulfil_pending_grants
from app.installation import (
    InstallationError,
    InvalidSlugError,
    UnitExistsError,
    UnitInUseError,
    UnitSpec,
    UnknownUnitError,
    recovery_recipient,
)
from app.models import AuditEvent, Case, PendingGrant, Reviewer
from app.models.vocabulary import Role, UnitKind
from app.review import blueprint
from app.review.audit_labels import action_labels
from app.review.auth import current_identity, current_reviewer, role_required
from app.web.db import db_session

AUDIT_PAGE = 100


@blueprint.get("/admin/keys")
@role_required(Role.ADMIN.value)
def admin_keys() -> ResponseReturnValue:
    db = db_session()
    rows = db.execute(
        select(PendingGrant, Case.reference, Reviewer.username)
        .join(Case, Case.id == PendingGrant.case_id)
        .join(Reviewer, Reviewer.id == PendingGrant.reviewer_id)
        .order_by(PendingGrant.created_at)
        .limit(500)
    ).all()
    return render_template(
        "review/admin_keys.html",
        grants=rows,
        total=db.scalar(select(func.count()).select_from(PendingGrant)),
        recovery=recovery_recipient(db),
    )


@blueprint.post("/admin/keys/fulfil")
@role_required(Role.ADMIN.value)
def admin_keys_fulfil() -> ResponseReturnValue:
    reviewer, identity = current_reviewer(), current_identity()
    assert reviewer is not None
    done = []
    if identity is not None:
        done = fulfil_pending_grants(
            db_session(), [identity], actor_label=f"reviewer:{reviewer.id}"
        )
        db_session().commit()
    flash(
        _(
            "%(count)s case(s) rewrapped with your key. The rest need a member of their unit "
            "or the offline recovery key.",
            count=len(done),
        ),
        "success",
    )
    return redirect(url_for("review.admin_keys"), code=303)


@blueprint.get("/admin/audit")
@role_required(Role.ADMIN.value)
def admin_audit() -> ResponseReturnValue:
    db = db_session()
    query = select(AuditEvent).order_by(AuditEvent.seq.desc())
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip()
    case_ref = request.args.get("case", "").strip()
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if case_ref:
        case_id = db.scalar(select(Case.id).where(Case.reference == case_ref))
        query = query.where(AuditEvent.case_id == (case_id or case_ref))
    try:
        before = int(request.args.get("before", "0"))
    except ValueError:
        before = 0
    if before > 0:
        query = query.where(AuditEvent.seq < before)
    events = db.scalars(query.limit(AUDIT_PAGE)).all()
    refs = dict(
        db.execute(
            select(Case.id, Case.reference).where(
                Case.id.in_({e.case_id for e in events if e.case_id})
            )
        ).all()
    )
    return render_template(
        "review/admin_audit.html",
        events=[(e, json.loads(e.details)) for e in events],
        refs=refs,
        labels=action_labels(),
        actions=sorted(db.scalars(select(AuditEvent.action).distinct()).all()),
        filters={"action": action, "actor": actor, "case": case_ref},
        next_before=events[-1].seq if len(events) == AUDIT_PAGE else None,
    )


def _unit_error(exc: ValueError) -> str:
    if not isinstance(exc, InstallationError):  # not one of the unit kinds
        return str(_("Choose a kind."))
    if isinstance(exc, UnitExistsError):
        return str(_("A unit with this short name already exists."))
    if isinstance(exc, InvalidSlugError):
        return str(
            _("Short name: 2-40 lowercase letters, digits or dashes, starting with a letter.")
        )
    if isinstance(exc, UnitInUseError):
        return str(
            _("The kind of a unit that holds cases (or of the only intake unit) cannot change.")
        )
    return str(_("A unit needs a Vietnamese and an English name."))


@blueprint.get("/admin/units")
@role_required(Role.ADMIN.value)
def admin_units() -> ResponseReturnValue:
    return render_template(
        "review/admin_units.html",
        units=installation.list_units(db_session()),
        kinds=list(UnitKind),
        recovery=recovery_recipient(db_session()),
    )


def _unit_change(change: Callable[[str], object], done: str) -> ResponseReturnValue:
    """Run a unit change as the logged-in admin; commit, or refuse and change nothing."""
    reviewer = current_reviewer()
    assert reviewer is not None
    try:
        change(f"reviewer:{reviewer.id}")
    except UnknownUnitError:
        db_session().rollback()
        abort(404)
    except ValueError as exc:  # InstallationError, or an unknown kind
        db_session().rollback()
        flash(_unit_error(exc), "error")
        return redirect(url_for("review.admin_units"), code=303)
    db_session().commit()
    flash(done, "success")
    return redirect(url_for("review.admin_units"), code=303)


@blueprint.post("/admin/units")
@role_required(Role.ADMIN.value)
def admin_units_add() -> ResponseReturnValue:
    form = request.form
    return _unit_change(
        lambda actor: installation.add_unit(
            db_session(),
            UnitSpec(
                form.get("slug", "").strip(),
                UnitKind(form.get("kind", "")),
                form.get("name_vi", ""),
                form.get("name_en", ""),
            ),
            actor=actor,
        ),
        str(_("Unit added.")),
    )


@blueprint.post("/admin/units/<slug>")
@role_required(Role.ADMIN.value)
def admin_units_update(slug: str) -> ResponseReturnValue:
    form = request.form
    return _unit_change(
        lambda actor: installation.update_unit(
            db_session(),
            slug,
            name_vi=form.get("name_vi", ""),
            name_en=form.get("name_en", ""),
            kind=UnitKind(form.get("kind", "")),
            actor=actor,
        ),
        str(_("Unit saved.")),
    )
