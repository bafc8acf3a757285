"""An unsealing request tells the holding unit's identity custodians (issue 13 §2, the
brief's item 4): one e-mail each, not to the requester nor to ordinary members, with a
link to the case and nothing of the reason or the identity; none while e-mail is off."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.cases import unsealing
from app.cases.access import load_actor
from app.cases.identity import IdentityFields
from app.database import Database
from app.models import Case, Notification, Reviewer
from app.models.notifications import NotificationKind
from app.notifications.mailer import UNSEAL_SUBJECT, compose
from config import Settings
from tests.factories import ReviewerKeys, make_custodian, make_reviewer, submit_case

REASON = "LÝ-DO-MỞ-NIÊM-PHONG: đối chiếu lời khai của bà Võ Thị Ửng"
IDENTITY = IdentityFields(
    full_name="Võ Thị Ửng CANARY-danh-tính-4b1c",
    id_number="092187009999",
    address="Hẻm 51, đường 3 Tháng 2, Cần Thơ",
    contact="0939 000 111",
)


def _request(
    database: Database, case_id: str, who: ReviewerKeys, *, notify: bool
) -> list[Notification]:
    with database.session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        actor = load_actor(db, who.id, who.identity)
        unsealing.request_unseal(db, actor, case, REASON, today=case.created_day, notify=notify)
    with database.read_session() as db:
        rows = db.scalars(
            select(Notification).where(Notification.kind == NotificationKind.UNSEAL_REQUEST.value)
        ).all()
        db.expunge_all()
        return list(rows)


@pytest.mark.both_backends
def test_the_custodians_are_told_and_nobody_else(database: Database, settings: Settings) -> None:
    head = make_reviewer(database, "intake", username="truong-phong-dat")
    deputy = make_reviewer(database, "intake", username="pho-phong-uyen")
    member = make_reviewer(database, "intake", username="thanh-tra-vien-duc")
    outsider = make_reviewer(database, "inspection", username="thanh-tra-so-ung")
    make_custodian(database, head, "intake")
    make_custodian(database, deputy, "intake")
    make_custodian(database, outsider, "inspection")
    with database.session() as db:
        db.execute(update(Reviewer).values(email="canbo@thanhtra.cantho.gov.vn"))
    case_id = submit_case(database, settings, identity=IDENTITY).case_id

    # E-mail off: nothing queued (the positive control is the request below).
    assert _request(database, case_id, member, notify=False) == []

    # The deputy asks: the other custodian of the holding unit is told, not the deputy
    # (who may not approve their own request), not a member, not another unit's custodian.
    rows = _request(database, case_id, deputy, notify=True)
    assert [(r.reviewer_id, r.case_id) for r in rows] == [(head.id, case_id)]
    assert rows[0].sent_at is None

    with database.read_session() as db:
        subject, body = compose(db, rows[0], settings.review_url)
    assert subject == UNSEAL_SUBJECT
    assert f"/cases/{case_id}" in body
    for secret in (REASON, "LÝ-DO", IDENTITY.full_name, "CANARY", deputy.username):
        assert secret not in body and secret not in subject
