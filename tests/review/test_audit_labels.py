"""The activity log reads as people talk: every action has a label in both languages,
actors are usernames, units are names, and reloads of a case collapse into one line."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select

from app import audit
from app.audit_actions import AUDIT_ACTIONS, UnknownAuditActionError
from app.database import Database
from app.models import AuditEvent
from app.review.audit_labels import action_labels
from tests.review.conftest import ReportFactory, StaffFactory

APP = Path(__file__).resolve().parents[2] / "app"
# Every string in app/ shaped like an action code of a known family: recorded directly,
# or chosen first (``action = "dashboard.exported" if exported else "dashboard.viewed"``).
FAMILIES = "|".join(sorted({code.split(".")[0] for code in AUDIT_ACTIONS}))
CODE = re.compile(rf"^(?:{FAMILIES})\.[a-z_]+$|^logout$")


def action_codes_in_source() -> set[str]:
    codes: set[str] = set()
    for path in APP.rglob("*.py"):
        if path.name == "audit_actions.py":
            continue  # the registry itself
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and CODE.match(text):
                codes.add(text)
    return codes


def test_every_action_written_in_the_code_is_registered() -> None:
    found = action_codes_in_source()
    assert {"case.routed", "login.failed", "dashboard.viewed", "case.closed"} <= found  # control
    assert found - AUDIT_ACTIONS == set()


@pytest.mark.parametrize("code", sorted(AUDIT_ACTIONS))
def test_every_action_has_a_label_in_both_languages(review_app: Flask, code: str) -> None:
    with review_app.test_request_context("/"):
        labels = action_labels()
        assert code in labels, f"{code} has no label in app/review/audit_labels.py"
        with force_locale("en"):
            english = str(labels[code])
        with force_locale("vi"):
            vietnamese = str(labels[code])
    assert english != code
    assert vietnamese != english, f"{code}: '{english}' has no Vietnamese translation"


def test_an_unregistered_action_is_refused_and_writes_nothing(database: Database) -> None:
    with database.session() as db:
        before = db.scalar(select(func.count()).select_from(AuditEvent))
        with pytest.raises(UnknownAuditActionError):
            audit.record(db, actor="cli", action="case.route")  # a typo of case.routed
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(AuditEvent)) == before
        audit.record(db, actor="cli", action="case.routed")  # positive control
    with database.session() as db:
        assert db.scalar(select(func.count()).select_from(AuditEvent)) == before + 1


def test_the_log_names_people_and_units_and_collapses_reloads(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    admin = staff("quan-tri", "intake", role="admin")
    reviewer = staff("nguyen-thi-u", "intake")
    sent = report()
    for _ in range(3):  # a reviewer reloading the case after each action
        assert reviewer.client.get(f"/cases/{sent.case_id}").status_code == 200
    routed = reviewer.client.submit(
        f"/cases/{sent.case_id}",
        {"unit": "inspection", "reason": "Thuộc thẩm quyền thanh tra", "confirm": "yes"},
        action=f"/cases/{sent.case_id}/route",
    )
    assert routed.status_code in (302, 303), routed.get_data(as_text=True)[:500]

    admin.client.get("/?lang=vi")
    page = admin.client.get("/admin/audit").get_data(as_text=True)
    assert "Nhật ký hoạt động" in page and "kiểm toán" not in page
    assert "nguyen-thi-u" in page
    assert f">reviewer:{reviewer.id}<" not in page  # the code only in a tooltip
    assert "Thanh tra thành phố" in page  # the unit routed to, by name
    assert "to_unit: inspection" not in page
    # Positive control: the log holds one view event per page load (the reloads, and
    # the route form's page), shown as one line.
    with database.session() as db:
        views = db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "case.viewed", AuditEvent.case_id == sent.case_id)
        )
    assert views == 4
    rows = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "(4 lần)" in rows and rows.count("Đã mở vụ việc (giải mã)") == 1
    assert "Đăng nhập" in page  # login.succeeded, labelled, not raw
    assert "login.succeeded" not in page.replace('value="login.succeeded"', "")
