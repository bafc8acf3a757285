"""What came of cases, as rows inserted straight into the tables: referrals, outcome
figures with their disciplines, recovery ledger entries. For queries that only sum
them (statistics, the periodic report, the public page); the rules that write them in
the application (app.cases) are tested through their own functions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert

from app.database import Database
from app.models import CaseOutcome, OutcomeDiscipline, RecoveryEntry, Referral


def insert_referral(
    database: Database,
    case_id: str,
    dispatch_day: date,
    *,
    result: str | None = None,
    result_day: date | None = None,
    verification_due_day: date | None = None,
    **overrides: Any,
) -> int:
    """A referral to the police investigation agency; 20 days to verify unless said."""
    values: dict[str, Any] = {
        "case_id": case_id,
        "agency": "csdt-can-tho",
        "dispatch_number": "125/TTr-NV",
        "dispatch_day": dispatch_day,
        "verification_due_day": verification_due_day or dispatch_day + timedelta(days=20),
        "result": result,
        "result_day": result_day,
    }
    values.update(overrides)
    with database.session() as db:
        return int(
            db.execute(insert(Referral).values(**values).returning(Referral.id)).scalar_one()
        )


def insert_outcome(
    database: Database,
    case_id: str,
    concluded_day: date,
    *,
    found: int = 0,
    recommended: int = 0,
    sanctions: int = 0,
    disciplines: dict[str, int] | None = None,
) -> None:
    """A case's outcome figures (amounts in đồng) and people disciplined by form."""
    with database.session() as db:
        db.execute(
            insert(CaseOutcome),
            [
                {
                    "case_id": case_id,
                    "concluded_day": concluded_day,
                    "damage_found_vnd": found,
                    "recovery_recommended_vnd": recommended,
                    "administrative_sanctions": sanctions,
                }
            ],
        )
        for form, people in (disciplines or {}).items():
            db.execute(
                insert(OutcomeDiscipline),
                [{"case_id": case_id, "form": form, "people": people}],
            )


def insert_recovery(
    database: Database,
    case_id: str,
    entry_day: date,
    amount: int,
    *,
    corrects_id: int | None = None,
) -> int:
    """One ledger line (no note: the sums never read it)."""
    with database.session() as db:
        return int(
            db.execute(
                insert(RecoveryEntry)
                .values(
                    case_id=case_id,
                    entry_day=entry_day,
                    amount_vnd=amount,
                    corrects_id=corrects_id,
                )
                .returning(RecoveryEntry.id)
            ).scalar_one()
        )
