"""The reception desk's one-time form tokens (app.cases.desk_tokens): bound to one
officer's session, expiring, spent with the case in one transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import clock
from app.cases import unit_of_work
from app.cases.access import load_actor
from app.cases.desk import DeskReport, PaperScan, enter_at_desk
from app.cases.desk_tokens import (
    LIFETIME_SECONDS,
    DeskReportAlreadyStoredError,
    DeskToken,
    DeskTokenError,
    DeskTokenKey,
    ensure_unspent,
    issue_token,
    verify_token,
)
from app.cases.submission import CaseChoices, ReceiptSettings
from app.database import Database
from app.models import Blob, Case, SpentPowChallenge
from app.models.vocabulary import IntakeChannel
from app.storage import BlobStore
from config import Settings, load_secrets
from tests.factories import ReviewerKeys, make_reviewer, report_answers

KEY = DeskTokenKey(secret=b"khoa-bi-mat-cua-ban-tiep-dan", binding=b"phien-cua-Le-Thi-Uy\x007")
NOW = 1_800_000_000.0
LETTER = PaperScan("đơn tố cáo.pdf", "application/pdf", b"%PDF-1.4 don to cao " * 30)


def test_a_token_is_accepted_only_in_its_session_and_before_it_expires() -> None:
    token = issue_token(KEY, now=NOW)
    assert isinstance(verify_token(KEY, token, now=NOW + LIFETIME_SECONDS - 1), DeskToken)
    other = DeskTokenKey(secret=KEY.secret, binding=b"phien-cua-Tran-Van-Duc\x008")
    with pytest.raises(DeskTokenError):
        verify_token(other, token, now=NOW)
    with pytest.raises(DeskTokenError):
        verify_token(KEY, token, now=NOW + LIFETIME_SECONDS)
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    for bad in (tampered, "", None, "không-phải-mã", token + "AAAA"):
        with pytest.raises(DeskTokenError):
            verify_token(KEY, bad, now=NOW)
    # The lifetime stays under the day the spent set keeps its rows for.
    assert LIFETIME_SECONDS < 24 * 3600


def _enter(database: Database, settings: Settings, who: ReviewerKeys, token: DeskToken) -> None:
    values = report_answers(summary="Cán bộ xã Mỹ Khánh đòi tiền khi cấp sổ đỏ")
    receipts = ReceiptSettings.from_config(
        load_secrets(settings.secrets_file).receipt_salt, settings.receipt_kdf
    )
    with unit_of_work.transaction(database.sessionmaker) as db:
        enter_at_desk(
            db,
            BlobStore(settings.blob_path),
            receipts,
            load_actor(db, who.id, who.identity),
            DeskReport(
                channel=IntakeChannel.PHONE,
                choices=CaseChoices(values["category"], values["sector"]),
                answers=values,
            ),
            [LETTER],
            deadlines=settings.deadlines,
            token=token,
        )


@pytest.mark.both_backends
def test_a_second_entry_with_the_same_token_stores_nothing(
    database: Database, settings: Settings
) -> None:
    """The race past the view's check: the second entry's spend is refused and its
    rollback removes its case and its files."""
    officer = make_reviewer(database, "intake", username="nguyen-van-uoc")
    token = verify_token(KEY, issue_token(KEY))
    _enter(database, settings, officer, token)

    def stored() -> tuple[int, int, int]:
        with database.read_session() as db:
            return (
                db.scalar(select(func.count()).select_from(Case)) or 0,
                db.scalar(select(func.count()).select_from(Blob)) or 0,
                sum(1 for p in Path(settings.blob_path).rglob("*") if p.is_file()),
            )

    first = stored()
    assert first[:2] == (1, 2)  # positive control: the first entry is stored
    with pytest.raises(DeskReportAlreadyStoredError):
        _enter(database, settings, officer, token)
    assert stored() == first
    with database.read_session() as db:
        with pytest.raises(DeskReportAlreadyStoredError):
            ensure_unspent(db, token)
        assert list(db.scalars(select(SpentPowChallenge.day))) == [clock.reporter_day()]
