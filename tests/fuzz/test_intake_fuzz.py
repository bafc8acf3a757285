"""Fuzzing every intake input with hypothesis: never a 500, never partial state.

Inputs: the report form's fields (every question id, unknown and repeated fields, any
Unicode including control characters and NUL, huge values), ``excluded_units``,
attachment file names (path traversal, control characters, empty, very long, RTL
override), receipts typed into /followup, JSON sent to /api/v1/tickets, and the
multipart parts of /api/v1/reports (random bytes, truncated age files, age headers with
random stanzas, bad recipients and choices).

After every example: the number of cases equals the number of successful submissions
seen (200 with a receipt, or 201 from /api/v1/reports), every blob row has its file and
every file its row, and ``blobs/tmp`` is empty.

One installation per module (built here, not with the function-scoped fixtures of
tests/conftest.py), SQLite, cheap Argon2, a high rate limit and small size limits so that
"too large" is reached quickly. Example counts keep the file well under a minute.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import installation, schema
from app.cases.questionnaire import load_questionnaire
from app.database import Database
from app.factory import create_intake_app
from app.models import Case
from config import Settings, load_settings
from config.secrets import ensure_secrets
from crypto import Identity
from tests.conftest import CHEAP_KDF_ENV, CsrfClient
from tests.factories import make_reviewer
from tests.reliability.harness import (
    HIGH_RATE_LIMIT,
    RECEIPT_PATTERN,
    api_report_parts,
    api_ticket,
    assert_store_consistent,
    count_rows,
    for_test_client,
)

QUESTION_IDS = [q.id for q in load_questionnaire().questions]
VALID = {
    "category": "corruption",
    "sector": "health",
    "summary": "Bệnh viện thu tiền sai quy định",
    "details": "Nhân viên thu thêm 500.000 đồng ngoài hóa đơn.",
}
UNITS = ["inspection", "investigation", "oversight", "intake"]
MAX_FILE = 64 * 1024
MAX_REPORT = 256 * 1024


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,  # nothing written into the source tree
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@dataclass
class Installation:
    settings: Settings
    database: Database
    app: Flask
    stored: int = 0  # successful submissions seen so far

    def client(self) -> CsrfClient:
        client = self.app.test_client()
        assert isinstance(client, CsrfClient)
        return client

    def check(self) -> None:
        assert count_rows(self.database, Case) == self.stored
        assert_store_consistent(self.database, self.settings)


@pytest.fixture(scope="module")
def inst(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    root: Path = tmp_path_factory.mktemp("fuzz") / "instance"
    env = {
        "LIEMCHINH_INSTANCE_PATH": str(root),
        "LIEMCHINH_DATABASE_URL": f"sqlite:///{root / 'liemchinh.sqlite3'}",
        "LIEMCHINH_INTAKE_RATE_LIMIT": HIGH_RATE_LIMIT,
        "LIEMCHINH_VOLATILE_PATH": str(root.parent / "volatile"),  # not a shared /dev/shm
        "LIEMCHINH_MAX_FILE_BYTES": str(MAX_FILE),
        "LIEMCHINH_MAX_REPORT_BYTES": str(MAX_REPORT),
        **CHEAP_KDF_ENV,
    }
    conf = load_settings(env)
    conf.instance_path.mkdir(parents=True, exist_ok=True)
    conf.blob_path.mkdir(parents=True, exist_ok=True)
    ensure_secrets(conf.secrets_file)
    db = Database(conf.database_url)
    schema.upgrade(db.engine)
    with db.session() as session:
        installation.ensure_default_units(session, actor="test")
        installation.set_recovery_recipient(
            session, str(Identity.generate().recipient), actor="test"
        )
    make_reviewer(db, "intake")
    app = create_intake_app(conf, db)
    app.testing = True
    app.test_client_class = CsrfClient
    yield Installation(conf, db, app)
    db.dispose()


# -- strategies ------------------------------------------------------------------------

# Any valid UTF-8: every code point but the surrogates, control characters and NUL on.
any_char = st.characters(exclude_categories=["Cs"])
tricky = st.sampled_from(
    ["\x00", "\r\n", "\u202e", "\u200b", "\ufeff", "../", "..\\", "%00", "\x1b[31m", "<script>"]
)
short_text = st.lists(st.one_of(st.text(any_char, max_size=20), tricky), max_size=6).map("".join)
huge_text = st.builds(
    lambda piece, n: (piece * n)[: 2 * 1024 * 1024],
    st.text(any_char, min_size=1, max_size=4),
    st.integers(1000, 700_000),
)
field_text = st.one_of(short_text, short_text, short_text, huge_text)
field_name = st.one_of(
    st.sampled_from(QUESTION_IDS),
    st.text(st.characters(codec="ascii", exclude_characters='"\r\n'), min_size=1, max_size=15),
).filter(lambda n: n not in ("csrf_token", "form_nonce", "attachments"))
file_name = st.one_of(
    st.sampled_from(
        [
            "",
            "../../../etc/passwd",
            "..\\..\\windows\\system32\\config",
            "/etc/shadow",
            "a\x00b.pdf",
            "gpj.exe\u202e.pdf",
            "x" * 5000,
            ".",
            "..",
            "tên tệp có dấu.pdf",
            "\u0000",
            " ",
        ]
    ),
    st.text(any_char.filter(lambda c: c not in '"\r\n'), max_size=300),
)


def _multipart(data: dict[str, Any], files: list[tuple[bytes, str]]) -> dict[str, Any]:
    out = dict(data)
    if files:
        out["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return out


def _record(inst: Installation, status: int, html: str) -> None:
    assert status != 500 and status < 500, html[:3000]
    if status == 200 and RECEIPT_PATTERN.search(html):
        inst.stored += 1


# -- the report form (no JavaScript) ---------------------------------------------------


@fuzz(120)
@given(
    start_valid=st.booleans(),
    fields=st.lists(st.tuples(field_name, field_text), max_size=8),
    excluded=st.lists(st.one_of(st.sampled_from(UNITS), short_text), max_size=4),
)
def test_report_form_fields(
    inst: Installation,
    start_valid: bool,
    fields: list[tuple[str, str]],
    excluded: list[str],
) -> None:
    data: dict[str, Any] = dict(VALID) if start_valid else {}
    for name, value in fields:  # repeated names become lists, as a browser sends them
        if name in data:
            existing = data[name]
            data[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[name] = value
    if excluded:
        data["excluded_units"] = excluded
    response = inst.client().submit("/report", data, content_type="multipart/form-data")
    assert response.status_code in (200, 400, 413), response.status_code
    _record(inst, response.status_code, response.get_data(as_text=True))
    inst.check()


@fuzz(60)
@given(
    files=st.lists(
        st.tuples(st.one_of(st.binary(max_size=64), st.just(b"A" * (MAX_FILE + 1))), file_name),
        max_size=3,
    )
)
def test_attachment_file_names(inst: Installation, files: list[tuple[bytes, str]]) -> None:
    client = inst.client()
    response = client.submit(
        "/report", _multipart(VALID, files), content_type="multipart/form-data"
    )
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400, 413), (response.status_code, html[:2000])
    _record(inst, response.status_code, html)
    inst.check()
    match = RECEIPT_PATTERN.search(html)
    if response.status_code == 200 and match:
        # The stored names render on the reporter's case page without an error.
        opened = client.submit("/followup", {"receipt": match.group(1)})
        assert opened.status_code == 303
        page = client.get("/followup/case")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "\x00" not in text and "\u202e" not in text


# -- receipts --------------------------------------------------------------------------


@fuzz(60)
@given(
    receipt=st.one_of(
        st.text(any_char, max_size=60),
        st.from_regex(r"[0-9 \-]{15,30}", fullmatch=True),
        st.integers(0, 10**20 - 1).map(lambda n: f"{n:020d}"),
        huge_text,
    )
)
def test_followup_receipts(inst: Installation, receipt: str) -> None:
    response = inst.client().submit("/followup", {"receipt": receipt})
    assert response.status_code in (400, 413), response.status_code
    inst.check()


# -- the JSON API ----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(any_char),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=15,
)
ticket_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"pow_challenge": st.one_of(st.text(any_char), json_values)},
        optional={"pow_nonce": st.one_of(st.text(any_char), json_values)},
    ),
)


@fuzz(60)
@given(body=ticket_bodies, raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_ticket_requests(inst: Installation, body: Any, raw: bytes | None) -> None:
    client = inst.client()
    token = client.csrf_token("/report")
    headers = {"X-CSRFToken": token}
    if raw is None:
        response = client.post("/api/v1/tickets", json=body, headers=headers)
    else:
        response = client.post(
            "/api/v1/tickets", data=raw, content_type="application/json", headers=headers
        )
    assert response.status_code in (400, 201), response.status_code
    assert (
        response.is_json
        and response.get_json()["error" if response.status_code == 400 else "ticket"]
    )
    inst.check()


def _age_header(stanzas: list[tuple[str, list[str], bytes]], payload: bytes) -> bytes:
    lines = [b"age-encryption.org/v1"]
    for kind, args, body in stanzas:
        lines.append(" ".join(["->", kind, *args]).encode())
        encoded = base64.b64encode(body).rstrip(b"=")
        lines.extend(encoded[i : i + 64] for i in range(0, len(encoded), 64))
        if len(encoded) % 64 == 0:
            lines.append(b"")
    mac = base64.b64encode(os.urandom(32)).rstrip(b"=")
    return b"\n".join([*lines, b"--- " + mac]) + b"\n" + payload


b64_arg = st.binary(min_size=0, max_size=40).map(
    lambda b: base64.b64encode(b).rstrip(b"=").decode()
)
stanzas = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(["X25519", "scrypt", "ssh-ed25519", "", "->"]), short_text),
        st.lists(st.one_of(b64_arg, short_text), max_size=3),
        st.binary(max_size=80),
    ),
    max_size=3,
)
FILE_PARTS = ["report", "attachment", "case_key_wrap", "staff_key_wrap"]
TEXT_PARTS = ["ticket", "category", "sector", "case_recipient", "staff_recipient"]

mutations = st.one_of(
    st.just(("none", None, None)),
    st.tuples(st.just("random_bytes"), st.sampled_from(FILE_PARTS), st.binary(max_size=300)),
    st.tuples(st.just("truncate"), st.sampled_from(FILE_PARTS), st.floats(0, 0.999)),
    st.tuples(
        st.just("age_header"),
        st.sampled_from(FILE_PARTS),
        st.tuples(stanzas, st.binary(max_size=100)),
    ),
    st.tuples(st.just("flip_byte"), st.sampled_from(FILE_PARTS), st.integers(0, 10_000)),
    st.tuples(st.just("text"), st.sampled_from(TEXT_PARTS), field_text),
    st.tuples(st.just("drop"), st.sampled_from(FILE_PARTS + TEXT_PARTS), st.none()),
    st.tuples(st.just("repeat"), st.sampled_from(FILE_PARTS), st.none()),
    st.tuples(
        st.just("excluded_units"),
        st.just("excluded_units"),
        st.lists(st.one_of(st.sampled_from(UNITS), short_text), max_size=3),
    ),
)


def _apply(parts: dict[str, Any], mutation: tuple[str, str | None, Any]) -> None:
    kind, name, arg = mutation
    if kind == "none" or name is None:
        return
    if kind == "drop":
        parts.pop(name, None)
        return
    if kind in ("text", "excluded_units"):
        parts[name] = arg
        return
    value = parts[name]
    current: bytes = value[0] if isinstance(value, list) else value
    if kind == "random_bytes":
        new = arg
    elif kind == "truncate":
        new = current[: int(len(current) * arg)]
    elif kind == "age_header":
        new = _age_header(*arg)
    elif kind == "flip_byte":
        index = arg % len(current)
        new = current[:index] + bytes([current[index] ^ 0x01]) + current[index + 1 :]
    else:  # repeat: the part twice
        parts[name] = [current, current]
        return
    parts[name] = [new] if isinstance(value, list) else new


@fuzz(100)
@given(mutation=mutations, attach=st.booleans())
def test_api_report_parts(
    inst: Installation, mutation: tuple[str, str | None, Any], attach: bool
) -> None:
    client = inst.client()
    token = client.csrf_token("/report")
    info, ticket = api_ticket(client, token)
    parts = api_report_parts(info, ticket, files=[b"%PDF-1.4 bang chung"] if attach else [])
    if mutation[1] == "attachment" and not attach:
        parts["attachment"] = [b"age-encryption.org/v1\n"]
    _apply(parts, mutation)
    response = client.post(
        "/api/v1/reports",
        data=for_test_client(parts),
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code in (201, 400, 413), (response.status_code, response.data[:500])
    body = response.get_json()
    assert isinstance(body, dict)
    if response.status_code == 201:
        inst.stored += 1
    else:
        assert body.get("error") and body.get("message")
    if mutation[0] == "none":
        assert response.status_code == 201, body
    inst.check()
