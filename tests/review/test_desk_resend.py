"""The reception desk's form is single-use: a double click, "back" and "send again" or a
reload of the slip stores the citizen's report once (app/cases/desk_tokens.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app import clock
from app.database import Database
from app.models import Blob, Case, SpentPowChallenge
from config import Settings
from tests.factories import desk_form, receipt_from
from tests.review.conftest import StaffFactory

DESK = "/desk/report"
SUMMARY = "Cán bộ phường Cái Khế nhận tiền khi duyệt hồ sơ đất"
LETTER = b"%PDF-1.4\n" + "Đơn tố cáo của ông Đặng Văn Ước.\n".encode() * 40
ALREADY_EN = "This report was already stored; it was not stored again."
ALREADY_VI = "Phản ánh này đã được lưu; không lưu lần hai."


def counts(database: Database) -> tuple[int, int]:
    with database.read_session() as db:
        return (
            db.scalar(select(func.count()).select_from(Case)) or 0,
            db.scalar(select(func.count()).select_from(Blob)) or 0,
        )


def files(settings: Settings) -> int:
    return sum(1 for p in Path(settings.blob_path).rglob("*") if p.is_file())


def post(client: Any, hidden: dict[str, str], path: str = DESK, **form: Any) -> Any:
    data = {**hidden, **desk_form(letter=LETTER, **{"summary": SUMMARY, **form})}
    return client.post(path, data=data, content_type="multipart/form-data")


def test_a_re_sent_form_stores_one_case_and_shows_the_slip_once(
    staff: StaffFactory, database: Database, settings: Settings
) -> None:
    officer = staff("dang-thi-thu", "intake")
    hidden = officer.client.hidden_fields(DESK)
    assert hidden.get("form_nonce")
    first = post(officer.client, hidden)
    assert first.status_code == 200, first.get_data(as_text=True)[:2000]
    receipt = receipt_from(first)  # positive control: the slip carries the receipt
    assert counts(database) == (1, 2)
    stored = files(settings)
    for path in (DESK, DESK + "?lang=vi"):  # the double click; then "send again" in Vietnamese
        again = post(officer.client, hidden, path)
        page = again.get_data(as_text=True)
        assert again.status_code == 409, page
        assert (ALREADY_VI if path.endswith("vi") else ALREADY_EN) in page
        assert receipt not in page and receipt.replace(" ", "") not in page
        assert 'id="receipt-code"' not in page
        assert counts(database) == (1, 2) and files(settings) == stored
    # The spent token is kept as a hash and the citizen's day, not a time of day.
    with database.read_session() as db:
        days = list(db.scalars(select(SpentPowChallenge.day)))
    assert days == [clock.reporter_day()]
    # The next citizen's form, freshly shown, is accepted.
    assert post(officer.client, officer.client.hidden_fields(DESK)).status_code == 200
    assert counts(database) == (2, 4)


def test_another_officers_session_cannot_use_the_token(
    staff: StaffFactory, database: Database
) -> None:
    first = staff("ly-van-duc", "intake")
    second = staff("truong-thi-uy", "intake")
    token = first.client.hidden_fields(DESK)["form_nonce"]
    own = second.client.hidden_fields(DESK)
    response = post(second.client, {**own, "form_nonce": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "belongs to another session" in page and 'id="receipt-code"' not in page
    assert token not in page  # the form shown again carries a token of this session
    assert counts(database) == (0, 0)
    # Positive control: the second officer's own token is accepted, once.
    assert post(second.client, own).status_code == 200
    assert counts(database) == (1, 2)
    # The first officer's token, unspent, still works in the first officer's session.
    assert (
        post(first.client, first.client.hidden_fields(DESK) | {"form_nonce": token}).status_code
        == 200
    )
    assert counts(database) == (2, 4)


def test_a_refused_form_keeps_its_token_for_the_corrected_resend(
    staff: StaffFactory, database: Database
) -> None:
    officer = staff("ho-thi-huong", "intake")
    hidden = officer.client.hidden_fields(DESK)
    refused = post(officer.client, hidden, summary="")
    assert refused.status_code == 400
    assert f'name="form_nonce" value="{hidden["form_nonce"]}"' in refused.get_data(as_text=True)
    assert counts(database) == (0, 0)
    corrected = post(officer.client, hidden)
    assert corrected.status_code == 200, corrected.get_data(as_text=True)[:2000]
    assert counts(database) == (1, 2)
    assert post(officer.client, hidden).status_code == 409
    assert counts(database) == (1, 2)


def test_a_form_without_a_token_stores_nothing(staff: StaffFactory, database: Database) -> None:
    officer = staff("phan-van-luc", "intake")
    hidden = officer.client.hidden_fields(DESK)
    response = post(officer.client, {"csrf_token": hidden["csrf_token"]})
    assert response.status_code == 400
    assert 'name="form_nonce" value="' in response.get_data(as_text=True)
    assert counts(database) == (0, 0)
