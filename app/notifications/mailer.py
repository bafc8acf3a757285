"""Sending the outbox over SMTP, outside any request (``flask … notify send`` from cron).

What an e-mail says. E-mail leaves our system and is kept by mail servers we do not
run, so every notice is the same two sentences - Vietnamese, then English - and a link:
no reference, no category, no kind of event (a new case, a message and an overdue
deadline read alike), nothing from the report. The link names the case by its random
id, which means nothing without logging in.

Failures. A failed send counts an attempt, keeps the error (its class and the server's
reply, with the address blanked out) and is retried by later runs with a growing delay,
up to :data:`app.notifications.outbox.MAX_ATTEMPTS`; admins see it on
/admin/notifications. Each failure is logged on ``liemchinh.notifications`` with the
notification and reviewer ids - never the address.

Two overlapping runs do not send twice: a run claims a row by moving its ``not_before``
past a lease in one conditional UPDATE and commits before it talks to the server. A
crash between the server's acceptance and our commit can still send a row twice, which
is better than never.

Commits. This module is the one exception to the commit rule of ``app/cases/__init__.py``
(domain functions flush, the caller commits once): it commits itself, row by row. A
sent e-mail cannot be taken back, so its record must be durable before the next row is
tried, and a claim must be visible to other runs before the slow SMTP exchange; one
commit at the end of a batch would resend every mail of the batch after a crash half-way.
It writes no blob files, so the unit of work (``app.cases.unit_of_work``) has nothing to
finalise here. ``tests/architecture/test_commit_rule.py`` allows this file by name.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Notification, Reviewer, Unit, utcnow
from app.models.notifications import NotificationKind
from app.notifications.outbox import MAX_ATTEMPTS, may_still_read, prune
from config.settings import SmtpSettings

log = logging.getLogger("liemchinh.notifications")

TIMEOUT_SECONDS = 10
LEASE = timedelta(minutes=10)
BATCH = 500
MAX_ERROR_CHARS = 500

SUBJECT = "Liêm Chính: có hoạt động mới / new activity"
BODY = """\
Có hoạt động mới trong hộp thư Liêm Chính.
Mở liên kết sau và đăng nhập để xem:

{link}

Thư này được gửi tự động và không chứa nội dung vụ việc. Xin đừng trả lời thư này.

----

New activity in your Liêm Chính inbox.
Open this link and log in to see it:

{link}

This message was sent automatically and carries no case content. Please do not reply.
"""

ACCESS_SUBJECT = "Liêm Chính: thay đổi quyền truy cập / access change"
ACCESS_BODY = """\
Một thay đổi quyền truy cập vào {units_vi} {state_vi}.
Nếu bạn không biết về thay đổi này, hãy báo ngay cho ban chỉ đạo.
Mở liên kết sau và đăng nhập để xem:

{link}

Thư này được gửi tự động và không chứa nội dung vụ việc. Xin đừng trả lời thư này.

----

An access change to {units_en} {state_en}.
If you do not know about it, tell the steering committee at once.
Open this link and log in to see it:

{link}

This message was sent automatically and carries no case content. Please do not reply.
"""
ACCESS_STATES = {
    "pending": (
        "đang chờ một quản trị viên thứ hai phê duyệt",
        "is waiting for a second administrator",
    ),
    "approved": ("đã được phê duyệt", "was approved"),
}

HEAD_SUBJECT = "Liêm Chính: đầu chuỗi nhật ký kiểm toán / audit log head"
HEAD_BODY = """\
Đầu chuỗi nhật ký kiểm toán hôm nay (số thứ tự, mã băm, thời điểm):

    {seq} {hash}
    {time}

Hãy giữ thư này. Người quản trị máy chủ kiểm tra nhật ký với lệnh
    flask --app wsgi:review_app audit verify --head "{seq} {hash}"
Nếu lệnh báo lỗi, nhật ký đã bị cắt bớt hoặc bị viết lại.

----

Today's head of the audit log (sequence number, hash, time):

    {seq} {hash}
    {time}

Keep this message. The server's operator checks the log with
    flask --app wsgi:review_app audit verify --head "{seq} {hash}"
If that fails, the log was cut short or rewritten.

{link}
"""


UNSEAL_SUBJECT = "Liêm Chính: yêu cầu mở niêm phong danh tính / identity unsealing request"
UNSEAL_BODY = """\
Một yêu cầu mở niêm phong danh tính người tố cáo đang chờ bạn quyết định, với tư cách
người giữ danh tính của đơn vị. Mở liên kết sau và đăng nhập để xem:

{link}

Thư này được gửi tự động và không chứa nội dung vụ việc. Xin đừng trả lời thư này.

----

A request to unseal a denouncer's identity is waiting for your decision, as the unit's
identity custodian. Open this link and log in to see it:

{link}

This message was sent automatically and carries no case content. Please do not reply.
"""


class _ConnectionFailed(Exception):
    """Connecting, STARTTLS or logging in failed: no row of this run can be sent."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    failed: int = 0
    dropped: int = 0  # no longer to be sent: reviewer gone, no address, may not read
    pruned: int = 0


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: 1, 2, 4 … minutes, at most
    2 hours, so eight attempts span about four hours of an outage."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 120))


def link_for(review_url: str, case_id: str | None) -> str:
    base = review_url.rstrip("/")
    return f"{base}/cases/{case_id}" if case_id else f"{base}/inbox"


def build_message(
    smtp: SmtpSettings,
    address: str,
    link: str,
    now: datetime,
    *,
    subject: str = SUBJECT,
    body: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = smtp.sender
    message["To"] = address
    message["Date"] = formatdate(now.timestamp(), usegmt=True)
    # The sender's domain rather than this machine's name (make_msgid's default).
    message["Message-ID"] = make_msgid(domain=smtp.sender.rsplit("@", 1)[-1])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.set_content(body if body is not None else BODY.format(link=link))
    return message


def _unit_names(session: Session, slugs: list[str]) -> tuple[str, str]:
    if not slugs:
        return "mọi đơn vị", "every unit"
    units = session.scalars(select(Unit).where(Unit.slug.in_(slugs)).order_by(Unit.id)).all()
    names_vi = ", ".join(u.name_vi for u in units) or ", ".join(slugs)
    names_en = ", ".join(u.name_en for u in units) or ", ".join(slugs)
    return f"đơn vị {names_vi}", f"unit {names_en}"


def compose(session: Session, row: Notification, review_url: str) -> tuple[str, str]:
    """Subject and body of ``row``'s e-mail. Only the fixed texts, unit names and the
    audit head: never anything from a case."""
    base = review_url.rstrip("/")
    if row.kind == NotificationKind.ACCESS_CHANGE.value:
        state, _, slugs = (row.detail or "").partition(":")
        units_vi, units_en = _unit_names(session, [s for s in slugs.split(",") if s])
        state_vi, state_en = ACCESS_STATES.get(state, ACCESS_STATES["pending"])
        return ACCESS_SUBJECT, ACCESS_BODY.format(
            units_vi=units_vi,
            units_en=units_en,
            state_vi=state_vi,
            state_en=state_en,
            link=f"{base}/inbox",
        )
    if row.kind == NotificationKind.AUDIT_HEAD.value:
        seq, hash_, time = [*(row.detail or "").split(" ", 2), "", "", ""][:3]
        return HEAD_SUBJECT, HEAD_BODY.format(
            seq=seq, hash=hash_, time=time, link=f"{base}/dashboard"
        )
    if row.kind == NotificationKind.UNSEAL_REQUEST.value:
        return UNSEAL_SUBJECT, UNSEAL_BODY.format(link=link_for(review_url, row.case_id))
    return SUBJECT, BODY.format(link=link_for(review_url, row.case_id))


def describe_error(exc: BaseException, address: str | None) -> str:
    """``Class: server reply`` with the address blanked, short enough to store."""
    if isinstance(exc, _ConnectionFailed):
        exc = exc.cause
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # Its text is a dict keyed by the address; keep only the replies.
        replies = "; ".join(
            f"{code} {reply.decode('utf-8', 'replace')}" for code, reply in exc.recipients.values()
        )
        text = f"{type(exc).__name__}: {replies}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        reply_text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        text = f"{type(exc).__name__}: {exc.smtp_code} {reply_text}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    if address:
        # Servers echo the address in replies ("<bob@…>: Recipient address rejected").
        text = _blank(text, address)
    return text.replace("\r", " ").replace("\n", " ")[:MAX_ERROR_CHARS]


def _blank(text: str, address: str) -> str:
    lowered, needle = text.lower(), address.lower()
    out, start = [], 0
    while (found := lowered.find(needle, start)) >= 0:
        out.append(text[start:found])
        out.append("<recipient>")
        start = found + len(needle)
    out.append(text[start:])
    return "".join(out)


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    try:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS)
    except (OSError, smtplib.SMTPException) as exc:
        raise _ConnectionFailed(exc) from exc
    try:
        client.ehlo()
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if smtp.username is not None and smtp.password is not None:
            client.login(smtp.username, smtp.password)
    except (OSError, smtplib.SMTPException) as exc:
        _close(client)
        raise _ConnectionFailed(exc) from exc
    return client


def _close(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def _claim(session: Session, row_id: int, now: datetime) -> bool:
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == row_id,
            Notification.sent_at.is_(None),
            Notification.not_before <= now,
        )
        .values(not_before=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _due_ids(session: Session, now: datetime) -> list[int]:
    return list(
        session.scalars(
            select(Notification.id)
            .where(
                Notification.sent_at.is_(None),
                Notification.attempts < MAX_ATTEMPTS,
                Notification.not_before <= now,
            )
            .order_by(Notification.id)
            .limit(BATCH)
        )
    )


def _address(session: Session, row: Notification) -> str | None:
    """The address to send ``row`` to, or None if it is no longer to be sent."""
    reviewer = session.get(Reviewer, row.reviewer_id)
    if reviewer is None or not reviewer.active or not reviewer.email:
        return None
    if row.case_id is not None and not may_still_read(session, reviewer.id, row.case_id):
        return None
    return reviewer.email


def _fail(
    session: Session, row: Notification, exc: BaseException, address: str, now: datetime
) -> None:
    row.attempts += 1
    row.last_attempt_at = now
    row.last_error = describe_error(exc, address)
    row.not_before = now + backoff(row.attempts)
    session.commit()
    log.error(
        "notification %s to reviewer %s failed (attempt %s of %s): %s",
        row.id,
        row.reviewer_id,
        row.attempts,
        MAX_ATTEMPTS,
        row.last_error,
    )


def send_pending(
    session: Session, smtp: SmtpSettings, review_url: str, now: datetime | None = None
) -> SendReport:
    """Send every due notification, one e-mail per row, over one SMTP connection.

    Commits after each row (a send cannot be rolled back, so its record must not be
    either). ``now`` is for tests; runs use the clock.
    """
    moment = now or utcnow()
    pruned = prune(session, moment)
    session.commit()
    sent = failed = dropped = 0
    client: smtplib.SMTP | None = None
    broken: _ConnectionFailed | None = None
    try:
        for row_id in _due_ids(session, moment):
            if not _claim(session, row_id, moment):
                continue  # another run has it
            row = session.get(Notification, row_id, populate_existing=True)
            if row is None:
                continue
            address = _address(session, row)
            if address is None:
                session.delete(row)
                session.commit()
                dropped += 1
                continue
            if broken is not None:
                # The server is unreachable: count the attempt without waiting for
                # another timeout per row.
                _fail(session, row, broken, address, moment)
                failed += 1
                continue
            try:
                if client is None:
                    client = _connect(smtp)
                subject, body = compose(session, row, review_url)
                message = build_message(smtp, address, "", moment, subject=subject, body=body)
                client.send_message(message)
            except _ConnectionFailed as exc:
                broken = exc
                _fail(session, row, exc, address, moment)
                failed += 1
                continue
            except (OSError, smtplib.SMTPException) as exc:
                if not isinstance(exc, smtplib.SMTPResponseException):
                    # Not a refusal of this one message (SMTPException is an OSError):
                    # the connection is gone or broken, and the next row reconnects.
                    _close(client)
                    client = None
                _fail(session, row, exc, address, moment)
                failed += 1
                continue
            row.attempts += 1
            row.last_attempt_at = moment
            row.sent_at = moment
            row.last_error = None
            session.commit()
            sent += 1
    finally:
        _close(client)
    report = SendReport(sent=sent, failed=failed, dropped=dropped, pruned=pruned)
    if sent or failed or dropped:
        log.info(
            "notifications: %s sent, %s failed, %s dropped", report.sent, report.failed, dropped
        )
    return report
