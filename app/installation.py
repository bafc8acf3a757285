"""The installation: its units and its offline recovery key.

Used by ``flask init`` and ``flask units``; kept out of the CLI module so the rules
(slug format, the default units, one active recovery key) are the same wherever a unit
is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.models import Case, RecoveryKey, Unit
from app.models.vocabulary import UnitKind
from crypto import Recipient

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


class InstallationError(ValueError):
    """A unit or key request that the installation refuses."""


class InvalidSlugError(InstallationError):
    pass


class UnitExistsError(InstallationError):
    pass


class InvalidRecipientError(InstallationError):
    pass


@dataclass(frozen=True)
class UnitSpec:
    slug: str
    kind: UnitKind
    name_vi: str
    name_en: str


DEFAULT_UNITS = (
    UnitSpec("intake", UnitKind.INTAKE, "Tổ tiếp nhận", "Intake team"),
    UnitSpec("inspection", UnitKind.INSPECTION, "Thanh tra thành phố", "City Inspectorate"),
    UnitSpec("investigation", UnitKind.INVESTIGATION, "Cơ quan điều tra", "Investigation agency"),
    UnitSpec("oversight", UnitKind.OVERSIGHT, "Ban Chỉ đạo", "Steering Committee"),
)


def add_unit(session: Session, spec: UnitSpec, *, actor: str) -> Unit:
    if not SLUG_PATTERN.match(spec.slug):
        raise InvalidSlugError(
            f"unit slug {spec.slug!r} must be 2-40 lowercase letters, digits or dashes, "
            "starting with a letter"
        )
    if not spec.name_vi.strip() or not spec.name_en.strip():
        raise InstallationError("a unit needs a Vietnamese and an English name")
    if session.scalar(select(Unit.id).where(Unit.slug == spec.slug)) is not None:
        raise UnitExistsError(f"a unit with slug {spec.slug!r} already exists")
    unit = Unit(
        slug=spec.slug,
        kind=spec.kind.value,
        name_vi=spec.name_vi.strip(),
        name_en=spec.name_en.strip(),
        active=True,
    )
    session.add(unit)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="unit.created",
        details={"unit": unit.slug, "kind": unit.kind},
    )
    return unit


def ensure_default_units(session: Session, *, actor: str) -> list[Unit]:
    """Create whichever default unit is missing; returns the ones created."""
    existing = set(session.scalars(select(Unit.slug)).all())
    return [
        add_unit(session, spec, actor=actor) for spec in DEFAULT_UNITS if spec.slug not in existing
    ]


def list_units(session: Session, *, active_only: bool = False) -> list[Unit]:
    query = select(Unit).order_by(Unit.id)
    if active_only:
        query = query.where(Unit.active.is_(True))
    return list(session.scalars(query).all())


def recovery_recipient_text(session: Session) -> str | None:
    """The active recovery key's recipient line, as stored; None before ``init``. (To wrap
    keys to it: :func:`app.cases.keys.active_recovery_recipient`.)"""
    return session.scalar(
        select(RecoveryKey.recipient)
        .where(RecoveryKey.active.is_(True))
        .order_by(RecoveryKey.id.desc())
        .limit(1)
    )


def set_recovery_recipient(session: Session, recipient_text: str, *, actor: str) -> RecoveryKey:
    """Make ``recipient_text`` (``age1…``) the active recovery key; older ones are retired."""
    try:
        recipient = Recipient.parse(recipient_text.strip())
    except ValueError as exc:
        raise InvalidRecipientError(f"not an age X25519 recipient: {exc}") from None
    text = str(recipient)
    existing = session.scalar(select(RecoveryKey).where(RecoveryKey.recipient == text))
    if existing is not None and existing.active:
        return existing
    session.execute(update(RecoveryKey).values(active=False))
    if existing is None:
        existing = RecoveryKey(recipient=text, active=True)
        session.add(existing)
    else:
        existing.active = True
    session.flush()
    audit.record(session, actor=actor, action="recovery_key.set", details={"recipient": text})
    return existing


class UnknownUnitError(InstallationError):
    """No active unit by that slug, or not one of the kinds asked for. The one such
    error of the whole app: installation, accounts and case routing all raise it."""

    code = "unknown_unit"


class UnitInUseError(InstallationError):
    pass


def update_unit(
    session: Session, slug: str, *, name_vi: str, name_en: str, kind: UnitKind, actor: str
) -> Unit:
    """Rename a unit, or change its kind while it holds no case.

    A unit's kind decides what routing to it means (inspection or investigation) and
    whether it is the intake: changing it under cases already routed there would make
    their status lie, so it is refused then.
    """
    unit = session.scalar(select(Unit).where(Unit.slug == slug))
    if unit is None:
        raise UnknownUnitError(f"no unit with slug {slug!r}")
    if not name_vi.strip() or not name_en.strip():
        raise InstallationError("a unit needs a Vietnamese and an English name")
    if kind.value != unit.kind:
        if session.scalar(select(Case.id).where(Case.holding_unit_id == unit.id).limit(1)):
            raise UnitInUseError("the unit holds cases: its kind cannot change")
        if unit.kind == UnitKind.INTAKE.value:
            others = session.scalar(
                select(Unit.id).where(
                    Unit.kind == UnitKind.INTAKE.value, Unit.id != unit.id, Unit.active.is_(True)
                )
            )
            if others is None:
                raise UnitInUseError("the installation needs an intake unit")
    before = {"name_vi": unit.name_vi, "name_en": unit.name_en, "kind": unit.kind}
    unit.name_vi, unit.name_en, unit.kind = name_vi.strip(), name_en.strip(), kind.value
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="unit.updated",
        details={"unit": unit.slug, "kind_before": before["kind"], "kind": unit.kind},
    )
    return unit
