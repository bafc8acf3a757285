"""The whole way of a report, through both apps as their users see them:

submit at the intake → the intake reviewer reads it → routes it to inspection → the
inspection reviewer reads it, the intake reviewer no longer can → reply → the reporter
sees it with the receipt and answers → the reviewer sees the answer → close → the
reporter sees the closed status; then the audit log verifies, and fails once tampered.

And the two ways a case that nobody could read yet gets opened: the offline recovery
identity (``grants fulfil --identity``), and a keyed colleague opening the inbox.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from app.database import Database
from app.models import AuditEvent, Case, CaseKey, PendingGrant
from crypto import Identity
from tests.conftest import CsrfClient
from tests.factories import open_case
from tests.review.conftest import (
    ReportFactory,
    StaffFactory,
    assert_no_leak,
    audit_actions,
    held_actions,
)


def _page(response: Any, status: int = 200) -> str:
    html: str = response.get_data(as_text=True)
    assert response.status_code == status, html[:3000]
    return html


def _redirected_to(response: Any, path: str) -> None:
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith(path), response.headers["Location"]


def _case_status(database: Database, case_id: str) -> str:
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        return case.status


def _unread_cell(inbox_html: str, reference: str) -> str:
    """The "Unread" cell of the inbox row of ``reference``."""
    row = re.search(
        rf"<tr>\s*<td[^>]*>.*?<a [^>]*>{re.escape(reference)}</a>.*?</tr>", inbox_html, re.S
    )
    assert row, f"{reference} not in the inbox"
    cell = re.search(r'<td class="unread"[^>]*>(.*?)</td>', row.group(0), re.S)
    assert cell, "no unread cell"
    return cell.group(1).strip()


def test_full_path_from_intake_to_closure(
    staff: StaffFactory,
    report: ReportFactory,
    intake_client: CsrfClient,
    database: Database,
    cli: Any,
) -> None:
    hana = staff("hana.intake", "intake")
    tuan = staff("tuan.inspection", "inspection")
    intake_client.get("/?lang=en")

    # 1. The reporter submits at the intake (no JavaScript), and gets a receipt.
    sent = report()
    case_path = f"/cases/{sent.case_id}"

    # 2. The intake reviewer sees the case in the inbox and opens it: decrypted, audited.
    inbox = _page(hana.client.get("/inbox"))
    assert sent.reference in inbox and case_path in inbox
    assert "case.viewed" not in audit_actions(database, sent.case_id)
    page = _page(hana.client.get(case_path))
    assert sent.canary in page
    assert "Cán bộ phường đòi tiền để ký giấy phép xây dựng" in page  # the summary
    assert_no_leak(page)
    assert "case.viewed" in audit_actions(database, sent.case_id)

    # 3. Acknowledge, then route to inspection with a reason.
    _redirected_to(hana.post(f"{case_path}/acknowledge"), case_path)
    assert _case_status(database, sent.case_id) == "triage"
    reason = "ROUTING-REASON-đất đai thuộc thẩm quyền thanh tra"
    routed = hana.post(
        f"{case_path}/route", {"unit": "inspection", "reason": reason, "confirm": "yes"}
    )
    # The router lands on a page they can still read (not the case, now out of reach).
    assert routed.status_code == 303
    landing = hana.client.get(routed.headers["Location"])
    assert landing.status_code == 200, routed.headers["Location"]
    assert "Case routed" in landing.get_data(as_text=True)
    assert _case_status(database, sent.case_id) == "routed_inspection"
    assert "case.routed" in audit_actions(database, sent.case_id)
    assert "note.added" in audit_actions(database, sent.case_id)  # the reason, as a note

    # 4. The intake reviewer can no longer read it, nor list it: the keys agree.
    with database.read_session() as db:
        readers = "\n".join(
            db.scalars(select(CaseKey.recipients).where(CaseKey.case_id == sent.case_id))
        )
    assert tuan.account.public_key in readers and hana.account.public_key not in readers
    refused = hana.client.get(case_path)
    assert refused.status_code == 404
    assert_no_leak(refused.get_data(as_text=True), sent.canary, sent.reference, reason)
    inbox = _page(hana.client.get("/inbox"))
    assert sent.reference not in inbox and case_path not in inbox

    # 5. The inspection reviewer lists and reads it, with the routing reason as a note.
    inbox = _page(tuan.client.get("/inbox"))
    assert sent.reference in inbox
    page = _page(tuan.client.get(case_path))
    assert sent.canary in page
    notes = page.split("Internal notes", 1)[1].split("Actions", 1)[0]
    assert reason in notes

    # 6. Reply to the reporter.
    reply = "REPLY-Cảm ơn anh/chị. Xin cho biết thêm số hồ sơ."
    _redirected_to(tuan.post(f"{case_path}/reply", {"message": reply}), case_path)
    assert "message.to_reporter" in audit_actions(database, sent.case_id)

    # 7. The reporter, with the receipt, sees the reply; never the routing reason.
    _redirected_to(open_case(intake_client, sent.receipt), "/followup/case")
    mine = _page(intake_client.get("/followup/case"))
    assert reply in mine
    assert "ROUTING-REASON" not in mine and reason not in mine
    assert tuan.username not in mine and hana.username not in mine  # no names
    assert "Forwarded to the competent authority" in mine

    # 8. The reporter answers.
    answer = "ANSWER-Hồ sơ số 123/2026, nộp ngày 5/3."
    answered = intake_client.submit(
        "/followup/case",
        {"body": answer},
        action="/followup/message",
        content_type="multipart/form-data",
    )
    _redirected_to(answered, "/followup/case")
    # Held with its day until the day is over, not yet among the reviewers' events.
    assert "message.from_reporter" in held_actions(database, sent.case_id)
    assert "message.from_reporter" not in audit_actions(database, sent.case_id)

    # 9. The reviewer sees one unread message in the inbox, then the answer.
    inbox = _page(tuan.client.get("/inbox"))
    assert "1" in _unread_cell(inbox, sent.reference)
    page = _page(tuan.client.get(case_path))
    assert answer in page and reply in page
    inbox = _page(tuan.client.get("/inbox"))
    assert _unread_cell(inbox, sent.reference) == "0"  # reading marked it read

    # 10. Close with a resolution and a last message.
    closing = "CLOSING-Vụ việc đã được chuyển xử lý."
    closed = tuan.post(
        f"{case_path}/close", {"resolution": "substantiated", "message": closing, "confirm": "yes"}
    )
    _redirected_to(closed, case_path)
    with database.read_session() as db:
        case = db.get(Case, sent.case_id)
        assert case is not None
        assert (case.status, case.resolution) == ("closed", "substantiated")
        assert case.closed_at is not None and case.purge_after is not None
    page = _page(tuan.client.get(case_path))
    assert "Substantiated" in page or "substantiated" in page

    # 11. The reporter sees the closed status and the last message, still no reason.
    mine = _page(intake_client.get("/followup/case"))
    assert "status-closed" in mine
    assert "Closed. Thank you for your report." in mine
    assert closing in mine
    assert reason not in mine and "ROUTING-REASON" not in mine

    # The audit log holds actions, never content.
    with database.read_session() as db:
        details = " ".join(db.scalars(select(AuditEvent.details)).all())
    for secret in (sent.canary, reason, reply, answer, closing):
        assert secret not in details

    # 12. The audit log verifies; a tampered row names the broken event.
    ok = cli.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "audit log OK" in ok.output
    with database.read_session() as db:
        routed_event = db.scalars(
            select(AuditEvent).where(
                AuditEvent.case_id == sent.case_id, AuditEvent.action == "case.routed"
            )
        ).one()
        seq = routed_event.seq
    with database.session() as db:
        db.execute(
            text("UPDATE audit_events SET details = :d WHERE seq = :s"),
            {"d": '{"from_unit":"intake","to_unit":"investigation"}', "s": seq},
        )
    broken = cli.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1, broken.output
    assert f"event {seq}" in broken.output
    assert "BROKEN" in broken.output


def test_case_before_any_reviewer_opens_with_the_recovery_identity(
    staff: StaffFactory,
    report: ReportFactory,
    database: Database,
    recovery_identity: Identity,
    cli: Any,
    tmp_path: Path,
) -> None:
    sent = report()  # nobody in intake yet: wrapped to the recovery key and the reporter
    mai = staff("mai", "intake")
    with database.read_session() as db:
        pending = db.scalars(select(PendingGrant).where(PendingGrant.case_id == sent.case_id))
        assert [g.reviewer_id for g in pending] == [mai.id]

    # Listed, but not readable yet: a clear "waiting for access" page.
    assert sent.reference in _page(mai.client.get("/inbox"))
    waiting = mai.client.get(f"/cases/{sent.case_id}")
    html = _page(waiting, 409)
    assert "have not been wrapped to your key yet" in html
    assert_no_leak(html, sent.canary)
    assert "case.viewed" not in audit_actions(database, sent.case_id)
    # Opening her own inbox does not help: her key cannot open the wraps.
    _page(mai.client.get("/inbox"))
    assert mai.client.get(f"/cases/{sent.case_id}").status_code == 409

    identity_file = tmp_path / "recovery.txt"
    identity_file.write_text(f"# recovery key\n{recovery_identity}\n")
    result = cli.invoke(args=["grants", "fulfil", "--identity", str(identity_file)])
    assert result.exit_code == 0, result.output
    assert "rewrapped 1 case(s); 0 pending grant(s) left" in result.output
    assert str(recovery_identity) not in result.output

    page = _page(mai.client.get(f"/cases/{sent.case_id}"))
    assert sent.canary in page
    assert "grants.fulfilled" in audit_actions(database, sent.case_id)


def test_a_new_member_gets_access_when_a_keyed_colleague_opens_the_inbox(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    hana = staff("hana", "intake")
    sent = report()  # wrapped to hana
    minh = staff("minh", "intake")  # joins after: a pending grant
    with database.read_session() as db:
        assert db.scalars(select(PendingGrant.reviewer_id)).all() == [minh.id]

    waiting = minh.client.get(f"/cases/{sent.case_id}")
    assert_no_leak(_page(waiting, 409), sent.canary)
    assert "have not been wrapped to your key yet" in waiting.get_data(as_text=True)
    inbox = _page(minh.client.get("/inbox"))
    assert "waiting for a colleague to give you access" in inbox

    # Hana opens her inbox: her session key opens the wraps and rewraps them for Minh.
    inbox = _page(hana.client.get("/inbox"))
    assert "were opened to colleagues waiting for access" in inbox
    with database.read_session() as db:
        assert db.scalars(select(PendingGrant)).all() == []
    page = _page(minh.client.get(f"/cases/{sent.case_id}"))
    assert sent.canary in page
    assert audit_actions(database, sent.case_id).count("grants.fulfilled") == 1


def test_the_first_administrator_is_told_how_to_open_earlier_reports(
    staff: StaffFactory, report: ReportFactory
) -> None:
    sent = report()  # before anyone is in the intake unit: the recovery key only
    admin = staff("quan-tri", "intake", role="admin")
    member = staff("thanh-vien", "intake")
    hint = "grants fulfil --identity RECOVERY_KEY_FILE"
    assert hint in _page(admin.client.get(f"/cases/{sent.case_id}"), 409)
    assert hint not in _page(
        member.client.get(f"/cases/{sent.case_id}"), 409
    )  # staff only see who to ask
