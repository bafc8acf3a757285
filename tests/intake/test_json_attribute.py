"""The scrubber's texts ride on the form as UTF-8 JSON in a single-quoted attribute."""

from __future__ import annotations

import html
import json
import re

from app.intake.json_attribute import json_attribute
from tests.conftest import CsrfClient


def test_nothing_can_end_the_attribute_and_the_json_reads_back() -> None:
    value = {"a": "Trần Thị Ưng's <b>&</b>", "b": ["'", '"']}
    text = str(json_attribute(value))
    assert not set("'<>&") & set(text)
    assert "Trần Thị Ưng" in text  # not \\u-escaped: a third of the bytes
    assert json.loads(text) == value


def test_report_and_case_forms_carry_the_texts_in_the_page_language(
    intake_client: CsrfClient,
) -> None:
    page = intake_client.get("/report").get_data(as_text=True)
    found = re.search(r"data-scrub-texts='([^']*)'", page)
    assert found
    texts = json.loads(html.unescape(found.group(1)))
    assert texts["labels"]["gps"] == "Vị trí GPS"
    assert texts["remove"] == "Xoá thông tin ẩn trước khi gửi"
    assert 'data-scrub-worker="/static/js/scrub-worker.js"' in page
    intake_client.get("/?lang=en")
    english = intake_client.get("/report").get_data(as_text=True)
    assert "Remove the hidden information before sending" in english
