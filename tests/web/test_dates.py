"""Days shown to people: dd/mm/yyyy in Vietnamese, the locale's format in English."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from babel import Locale
from flask import Flask, render_template_string
from flask_babel import force_locale

from app import clock
from app.web.dates import NO_DAY, format_day, format_hour, format_moment
from tests.conftest import CsrfClient

TET = date(2027, 2, 6)


def test_vietnamese_is_day_month_year_with_leading_zeros() -> None:
    assert format_day(TET, "vi") == "06/02/2027"
    assert format_day(date(2027, 12, 31), "vi") == "31/12/2027"
    assert format_day(TET, "vi_VN") == "06/02/2027"
    assert format_day(TET, Locale.parse("vi")) == "06/02/2027"


def test_english_spells_the_month() -> None:
    assert format_day(TET, "en") == "Feb 6, 2027"
    assert format_day(date(2027, 12, 31), "en") == "Dec 31, 2027"
    # Other locales get their own format, not the Vietnamese one.
    assert format_day(TET, "fr") == "6 févr. 2027"


def test_no_day() -> None:
    assert format_day(None, "vi") == NO_DAY == "—"


@pytest.mark.parametrize("locale", ["xx_YY", "", "vi-VN-bogus-1"])
def test_an_unknown_locale_is_a_programming_error(locale: str) -> None:
    with pytest.raises(ValueError, match="unknown locale"):
        format_day(TET, locale)


def test_the_template_filter_follows_the_page_language(review_app: Flask) -> None:
    template = "{{ day|day }} {{ none|day }}"
    with review_app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(template, day=TET, none=None) == "Feb 6, 2027 —"
    with review_app.test_request_context("/", headers={"Accept-Language": "vi"}):
        assert render_template_string(template, day=TET, none=None) == "06/02/2027 —"
    with review_app.test_request_context("/"):  # no preference: Vietnamese
        assert render_template_string(template, day=TET, none=None) == "06/02/2027 —"


def test_the_intake_has_the_filter_too(intake_app: Flask) -> None:
    # The intake ignores Accept-Language (app/web/i18n.py): English is the visitor's choice.
    with intake_app.test_request_context("/", headers={"Accept-Language": "en-GB,en"}):
        assert render_template_string("{{ d|day }}", d=date(2027, 9, 2)) == "02/09/2027"
    with intake_app.test_request_context("/"), force_locale("en"):
        assert render_template_string("{{ d|day }}", d=date(2027, 9, 2)) == "Sep 2, 2027"


def test_the_reporters_thread_shows_days_in_the_page_language(intake_client: CsrfClient) -> None:
    from app import clock
    from tests.factories import open_case, receipt_from, send_report

    receipt = receipt_from(send_report(intake_client))
    assert open_case(intake_client, receipt).status_code == 303
    sent = intake_client.submit(
        "/followup/case", {"body": "Tôi bổ sung biên bản họp."}, action="/followup/message"
    )
    assert sent.status_code in (200, 303)
    today = clock.reporter_day()
    vietnamese = intake_client.get("/followup/case").get_data(as_text=True)
    assert f"· {today.strftime('%d/%m/%Y')}" in vietnamese
    english = intake_client.get("/followup/case?lang=en").get_data(as_text=True)
    assert f"· {format_day(today, 'en')}" in english  # e.g. "Nov 29, 2026", not 29/11/2026
    assert f"· {today.strftime('%d/%m/%Y')}" not in english


# -- staff actions: a time of day, in the installation's zone --------------------------

# 19:42 UTC on 29/11 is 02:42 on 30/11 in Cần Thơ (UTC+7): the day changes too.
EVENING_UTC = datetime(2026, 11, 29, 19, 42, tzinfo=UTC)


def test_a_staff_moment_is_shown_in_the_installations_zone() -> None:
    assert clock.zone().key == "Asia/Ho_Chi_Minh"
    assert format_moment(EVENING_UTC, "vi") == "30/11/2026 02:42"
    assert format_moment(EVENING_UTC, "en") == "Nov 30, 2026 02:42"
    assert format_hour(EVENING_UTC, "vi") == "02:42"
    assert format_moment(None, "vi") == NO_DAY
    with pytest.raises(ValueError):
        format_moment(EVENING_UTC.replace(tzinfo=None), "vi")


def test_the_moment_filter_follows_the_page_language(review_app: Flask) -> None:
    with review_app.test_request_context():
        for lang, shown in (("vi", "30/11/2026 02:42"), ("en", "Nov 30, 2026 02:42")):
            with force_locale(lang):
                assert render_template_string("{{ at|moment }}", at=EVENING_UTC) == shown
        # Positive control: the stored UTC value itself reads 19:42 on the 29th.
        assert EVENING_UTC.strftime("%d/%m/%Y %H:%M") == "29/11/2026 19:42"
