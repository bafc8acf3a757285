"""The scrubber's texts: fetched by the JavaScript path from a URL the forms name, in the
page's language, and no longer carried in the HTML every visitor downloads (issue 15)."""

from __future__ import annotations

import re

from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, open_case, receipt_from, send_report

_URL = re.compile(r'data-scrub-texts="([^"]+)"')


def texts_url(page: str) -> str:
    found = _URL.search(page)
    assert found, page[:2000]
    return found.group(1)


def test_report_form_names_the_texts_in_its_language_and_carries_none(
    intake_client: CsrfClient,
) -> None:
    page = intake_client.get("/report").get_data(as_text=True)
    assert texts_url(page) == "/scrub-texts/vi.json"
    texts = intake_client.get(texts_url(page)).get_json()
    assert texts["labels"]["gps"] == "Vị trí GPS"
    assert texts["remove"] == "Xoá thông tin ẩn trước khi gửi"
    # The page itself does not carry them (the JSON above shows what to look for).
    assert texts["remove"] not in page and texts["labels"]["gps"] not in page
    assert 'data-scrub-worker="/static/js/scrub-worker.js"' in page
    intake_client.get("/?lang=en")
    english = intake_client.get("/report").get_data(as_text=True)
    assert texts_url(english) == "/scrub-texts/en.json"
    assert intake_client.get("/scrub-texts/en.json").get_json()["remove"] == (
        "Remove the hidden information before sending"
    )


def test_follow_up_message_form_names_them_too(
    intake_client: CsrfClient, intake_reviewer: ReviewerKeys
) -> None:
    receipt = receipt_from(send_report(intake_client))
    assert open_case(intake_client, receipt).status_code == 303
    page = intake_client.get("/followup/case").get_data(as_text=True)
    assert 'id="message-form"' in page
    assert texts_url(page) == "/scrub-texts/vi.json"


def test_texts_are_utf8_json_and_do_not_switch_the_session_language(
    intake_client: CsrfClient,
) -> None:
    response = intake_client.get("/scrub-texts/en.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    vietnamese = intake_client.get("/scrub-texts/vi.json").get_data()
    assert "Vị trí GPS".encode() in vietnamese  # not \\u-escaped: a third of the bytes
    page = intake_client.get("/report").get_data(as_text=True)
    assert '<html lang="vi">' in page


def test_unknown_language_is_not_found(intake_client: CsrfClient) -> None:
    assert intake_client.get("/scrub-texts/fr.json").status_code == 404
