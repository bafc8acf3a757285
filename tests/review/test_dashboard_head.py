"""The oversight dashboard shows the audit chain's head, for observers to write down."""

from __future__ import annotations

from typing import Any

import pytest

from app import audit
from app.database import Database
from tests.review.conftest import StaffFactory


@pytest.mark.parametrize(
    ("lang", "heading", "explains"),
    [
        ("en", "Head of the audit log", "audit verify --head"),
        ("vi", "Đầu chuỗi nhật ký kiểm toán", "audit verify --head"),
    ],
)
def test_the_dashboard_shows_the_head_to_write_down(
    staff: StaffFactory, database: Database, cli: Any, lang: str, heading: str, explains: str
) -> None:
    observer = staff("ban-chi-dao", "oversight", role="observer")
    with database.read_session() as db:
        head = audit.head(db)
    html = observer.client.get(f"/dashboard?lang={lang}").get_data(as_text=True)
    assert heading in html and explains in html
    assert f'<dd id="audit-head-seq">{head.seq}</dd>' in html
    assert f'<code id="audit-head-hash" class="one-time">{head.hash}</code>' in html
    assert head.created_at is not None and head.created_at.strftime("%d/%m/%Y") in html
    # What the page shows is what the operator's command checks.
    result = cli.invoke(args=["audit", "verify", "--head", f"{head.seq} {head.hash}"])
    assert result.exit_code == 0, result.output
