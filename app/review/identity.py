"""The sealed identity on the case page: its state, opening it, asking to unseal it,
a custodian's decision, resealing after routing. Views parse, call app.cases.identity,
commit, render. The identity itself is shown only on the page a POST returns (never a
URL that a browser history, a prefetch or a log could replay), and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app import clock
from app.cases import identity as sealed
from app.cases import resealing, unit_of_work, unsealing
from app.cases.access import AccessDenied, Actor
from app.cases.custodians import custodian_units, is_custodian
from app.cases.reading import NoKeyError, case_identities
from app.models import Case
from app.models.vocabulary import KeyKind, Track
from app.review import blueprint
from app.review.auth import (
    login_required,
    readable_case_or_404,
)
from app.storage import StorageError
from app.web.context import blob_store, settings
from app.web.db import db_session, get_database
from crypto import AgeError


@dataclass(frozen=True)
class IdentityPanel:
    """What the case page shows about a named case's identity."""

    named: bool
    can_open: bool
    custodian: bool
    stale: bool
    requests: list[unsealing.UnsealView]


def identity_panel(case: Case, actor: Actor) -> IdentityPanel | None:
    """None for an anonymous report (nothing to show)."""
    db = db_session()
    seal = sealed.sealed_identity(db, case.id)
    if case.track != Track.NAMED.value or seal is None:
        return None
    try:
        staff_key = case_identities(db, actor, case).get(KeyKind.STAFF)
    except NoKeyError:  # the reasons stay encrypted (they may quote the report)
        staff_key = None
    return IdentityPanel(
        named=True,
        can_open=sealed.can_open(db, case, actor),
        custodian=is_custodian(db, actor.reviewer_id, case.holding_unit_id),
        stale=resealing.is_stale(db, case, seal),
        requests=unsealing.unseal_requests(db, case, actor, staff_key),
    )


@blueprint.app_context_processor
def _identity_panel() -> dict[str, Any]:
    return {"identity_panel": identity_panel}


def _back(case: Case, message: str, category: str = "success") -> ResponseReturnValue:
    if category == "error":
        db_session().rollback()  # a refusal writes nothing
    flash(message, category)
    return redirect(url_for("review.case_view", case_id=case.id), code=303)


def _error_text(exc: sealed.IdentityError) -> str:
    texts = {
        "reason_required": _("Please give a reason (at most 500 characters)."),
        "already_requested": _("Your request is already waiting for a custodian."),
        "not_pending": _("This request was already decided."),
        "own_request": _("A custodian cannot approve their own request: another custodian must."),
        "not_custodian": _("Only an identity custodian of the holding unit can decide."),
        "seal_stale": _(
            "The seal was made for another unit's custodians: it must be resealed for this "
            "unit first (by a former custodian or the operator with the recovery key)."
        ),
        "not_sealed": _("This case has no sealed identity."),
    }
    return str(texts.get(exc.code, _("The action was refused.")))


def hand_over_seals(actor: Actor) -> int:
    """A custodian's inbox visit reseals the identities of their units' cases that were
    routed away, for the new units' custodians (the case page cannot: they no longer
    read those cases). Cheap when there is nothing to do."""
    assert actor.identity is not None
    with get_database().read_session() as db:
        units = custodian_units(db, actor.reviewer_id)
    if not units:
        return 0
    with get_database().session() as db:
        return resealing.reseal_moved_away(db, actor.identity, units, actor_label=actor.label)


@blueprint.post("/cases/<case_id>/identity/open")
@login_required
def identity_open(case_id: str) -> ResponseReturnValue:
    actor, case = readable_case_or_404(case_id)
    db = db_session()
    try:
        fields = sealed.open_identity(db, blob_store(), actor, case)
        unit_of_work.commit(db)  # the audit event of this opening
    except AccessDenied:
        return _back(case, _("The identity is sealed for you."), "error")
    except (StorageError, AgeError, sealed.IdentityError):
        return _back(case, _("The identity cannot be read right now."), "error")
    response = render_template("review/identity.html", case=case, fields=fields)
    return response, 200, {"Cache-Control": "no-store"}


@blueprint.post("/cases/<case_id>/identity/request")
@login_required
def identity_request(case_id: str) -> ResponseReturnValue:
    actor, case = readable_case_or_404(case_id)
    db = db_session()
    try:
        unsealing.request_unseal(
            db,
            actor,
            case,
            request.form.get("reason", ""),
            today=clock.today(),
            notify=settings().smtp is not None,
        )
        unit_of_work.commit(db)
    except sealed.IdentityError as exc:
        return _back(case, _error_text(exc), "error")
    return _back(case, _("Your request was sent to the unit's identity custodians."))


@blueprint.post("/cases/<case_id>/identity/requests/<int:request_id>/<decision>")
@login_required
def identity_decide(case_id: str, request_id: int, decision: str) -> ResponseReturnValue:
    actor, case = readable_case_or_404(case_id)
    if decision not in ("approve", "refuse"):
        abort(404)
    decide = unsealing.approve_unseal if decision == "approve" else unsealing.refuse_unseal
    db = db_session()
    try:
        decide(db, actor, case, request_id, today=clock.today())
        unit_of_work.commit(db)
    except sealed.IdentityError as exc:
        return _back(case, _error_text(exc), "error")
    except AccessDenied:
        return _back(case, _("The requester can no longer read this case."), "error")
    if decision == "approve":
        return _back(case, _("Approved: the identity is now unsealed for the requester."))
    return _back(case, _("Refused: the identity stays sealed."))


@blueprint.post("/cases/<case_id>/identity/reseal")
@login_required
def identity_reseal(case_id: str) -> ResponseReturnValue:
    actor, case = readable_case_or_404(case_id)
    if actor.identity is None:
        return _back(case, _("Your session holds no key. Please log in again."), "error")
    db = db_session()
    done = resealing.reseal(db, case, [actor.identity], actor_label=actor.label)
    unit_of_work.commit(db)
    if not done:
        return _back(case, _("The seal does not open with your key."), "error")
    return _back(case, _("The identity is now sealed for this unit's custodians."))
