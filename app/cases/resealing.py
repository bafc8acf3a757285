"""Routing moves custodianship: resealing a named case's identity key for the custodians
of the unit that holds the case now (docs/crypto.md, "Sealed identity").

Routing rewrites the case and staff wraps at once but not the seal, which the router
usually cannot open: the seal is *stale* until someone whose key opens it (a former
custodian - their inbox visit does it, :func:`reseal_moved_away` - or the operator with
the recovery identity, ``flask identity reseal``) rewrites it. The same covers a
custodian designated or removed since the case was sealed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.cases.grants import lock_case
from app.cases.identity import require_sealed, seal_recipients
from app.cases.keys import recipient_lines, try_unwrap, wrap_identity_to_recipients
from app.models import Case, SealedIdentity
from crypto import Identity

# --- routing: reseal for the holding unit's custodians -------------------------------------


def is_stale(session: Session, case: Case, seal: SealedIdentity) -> bool:
    """Whether the wrap is made for other people than the holding unit's custodians and
    the recovery key (routed, or a custodian designated or removed since)."""
    wanted = recipient_lines(seal_recipients(session, case.holding_unit_id))
    return seal.sealed_for_unit_id != case.holding_unit_id or seal.recipients != wanted


def stale_seals(session: Session, limit: int = 200) -> list[tuple[Case, SealedIdentity]]:
    rows = session.execute(
        select(Case, SealedIdentity)
        .join(SealedIdentity, SealedIdentity.case_id == Case.id)
        .order_by(Case.id)
    ).all()
    return [(c, s) for c, s in rows if is_stale(session, c, s)][:limit]


def reseal(
    session: Session, case: Case, identities: Sequence[Identity], *, actor_label: str
) -> bool:
    """Rewrite the wrap for the holding unit's custodians and the recovery key. Needs a
    key that opens the current wrap; returns False (nothing changed) without one."""
    case = lock_case(session, case)  # a routing that commits meanwhile changes the unit
    seal = require_sealed(session, case)
    key = try_unwrap(seal.wrap, identities)
    if key is None:
        return False
    recipients = seal_recipients(session, case.holding_unit_id)
    seal.wrap = wrap_identity_to_recipients(key, recipients)
    seal.recipients = recipient_lines(recipients)
    seal.sealed_for_unit_id = case.holding_unit_id
    session.flush()
    audit.record(
        session,
        actor=actor_label,
        action="identity.resealed",
        case_id=case.id,
        details={"custodians": len(recipients) - 1},
    )
    return True


def reseal_moved_away(
    session: Session, identity: Identity, custodian_of: Sequence[int], *, actor_label: str
) -> int:
    """Hand over the seals of cases routed away from the units ``identity``'s holder is a
    custodian of: they can no longer open those cases, but their key opens the seals,
    so their visit (the inbox) reseals them for the new units' custodians. One indexed
    query when there is nothing to do."""
    if not custodian_of:
        return 0
    rows = session.execute(
        select(Case, SealedIdentity)
        .join(SealedIdentity, SealedIdentity.case_id == Case.id)
        .where(
            SealedIdentity.sealed_for_unit_id.in_(custodian_of),
            SealedIdentity.sealed_for_unit_id != Case.holding_unit_id,
        )
        .order_by(Case.id)
        .limit(50)
    ).all()
    done = 0
    for case, seal in rows:
        if try_unwrap(seal.wrap, [identity]) is not None:
            done += reseal(session, case, [identity], actor_label=actor_label)
    return done


def reseal_stale(session: Session, identities: Sequence[Identity], *, actor_label: str) -> int:
    """Reseal every stale seal these identities open; others wait for someone who can."""
    done = 0
    for case, seal in stale_seals(session):
        if try_unwrap(seal.wrap, identities) is None:
            continue
        done += reseal(session, case, identities, actor_label=actor_label)
    return done
