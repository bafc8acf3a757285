"""The landing page: what can be reported, how anonymity works, where to go next."""

from tests.conftest import CsrfClient


def test_landing_links_to_report_and_followup(intake_client: CsrfClient) -> None:
    html = intake_client.get("/").get_data(as_text=True)
    assert 'href="/report"' in html and 'href="/followup"' in html
    for category in ("Tham nhũng", "Lãng phí", "Nhũng nhiễu", "Xung đột lợi ích"):
        assert category in html
    assert 'href="/?lang=en"' in html


def test_landing_in_english(intake_client: CsrfClient) -> None:
    html = intake_client.get("/?lang=en").get_data(as_text=True)
    assert "Send a report" in html and "Follow up on a report" in html
    assert "IP address" in html and "Tor Browser" in html
