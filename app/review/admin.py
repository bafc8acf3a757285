"""Admin pages for keys and the audit log: pending grants, the recovery key, audit browse."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import audit, installation
from app.actors import reviewer_actor
from app.cases import unit_of_work
from app.cases.grants import REVOCATION_REASONS, fulfil_pending_grants, pending_grant_rows
from app.cases.references import UnknownCaseError, find_case, references_of
from app.installation import (
    InstallationError,
    InvalidSlugError,
    UnitExistsError,
    UnitInUseError,
    UnitSpec,
    UnknownUnitError,
    recovery_recipient_text,
)
from app.models.vocabulary import Role, UnitKind
from app.review import blueprint
from app.review.audit_labels import action_labels
from app.review.auth import current_identity, current_reviewer, role_required
from app.web.db import db_session

AUDIT_PAGE = 100
# Why a case waits for a rewrap (app.cases.grants): someone to add, or to take out.
GRANT_REASONS = {
    "joined": _l("joined the unit: to be given the key"),
    "key_reset": _l("new key after a reset: to be given the key"),
    "role_changed": _l("role changed"),
    "left": _l("left the unit: key to be taken out"),
    "deactivated": _l("deactivated: key to be taken out"),
    "excluded": _l("joined a unit the reporter excluded: key to be taken out"),
}


@blueprint.get("/admin/keys")
@role_required(Role.ADMIN.value)
def admin_keys() -> ResponseReturnValue:
    db = db_session()
    rows, total = pending_grant_rows(db, limit=500)
    return render_template(
        "review/admin_keys.html",
        grants=rows,
        total=total,
        recovery=recovery_recipient_text(db),
        reasons=GRANT_REASONS,
        revocations=REVOCATION_REASONS,
    )


@blueprint.post("/admin/keys/fulfil")
@role_required(Role.ADMIN.value)
def admin_keys_fulfil() -> ResponseReturnValue:
    reviewer, identity = current_reviewer(), current_identity()
    assert reviewer is not None
    done = []
    if identity is not None:
        done = fulfil_pending_grants(
            db_session(), [identity], actor_label=reviewer_actor(reviewer.id)
        )
        unit_of_work.commit(db_session())
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
    filters = {name: request.args.get(name, "").strip() for name in ("action", "actor", "case")}
    case_id = filters["case"]
    # A reference or an id; an unknown one (or a purged case's id) is matched as typed.
    with contextlib.suppress(UnknownCaseError):
        case_id = find_case(db, case_id).id if case_id else case_id
    try:
        before = int(request.args.get("before", "0"))
    except ValueError:
        before = 0
    where = audit.AuditFilter(filters["action"], filters["actor"], case_id, before)
    events = audit.browse(db, where, limit=AUDIT_PAGE)
    return render_template(
        "review/admin_audit.html",
        events=events,
        details={e.seq: json.loads(e.details) for e in events},
        refs=references_of(db, {e.case_id for e in events if e.case_id}),
        labels=action_labels(),
        actions=audit.recorded_actions(db),
        filters=filters,
        next_before=events[-1].seq if len(events) == AUDIT_PAGE else None,
        held_days=audit.held_days(db),
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
        recovery=recovery_recipient_text(db_session()),
    )


def _unit_change(change: Callable[[str], object], done: str) -> ResponseReturnValue:
    """Run a unit change as the logged-in admin; commit, or refuse and change nothing."""
    reviewer = current_reviewer()
    assert reviewer is not None
    try:
        change(reviewer_actor(reviewer.id))
    except UnknownUnitError:
        unit_of_work.rollback(db_session())
        abort(404)
    except ValueError as exc:  # InstallationError, or an unknown kind
        unit_of_work.rollback(db_session())
        flash(_unit_error(exc), "error")
        return redirect(url_for("review.admin_units"), code=303)
    unit_of_work.commit(db_session())
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
