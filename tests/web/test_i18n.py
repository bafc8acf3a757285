from tests.conftest import CsrfClient


def test_vietnamese_is_the_default(intake_client: CsrfClient) -> None:
    html = intake_client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Tham nhũng" in html


TOR_BROWSER_ACCEPT_LANGUAGE = "en-US,en;q=0.5"  # what Tor Browser sends from every computer


def test_intake_stays_vietnamese_whatever_the_browser_says(intake_client: CsrfClient) -> None:
    html = intake_client.get("/", headers={"Accept-Language": TOR_BROWSER_ACCEPT_LANGUAGE})
    assert '<html lang="vi">' in html.get_data(as_text=True)
    # The visitor's own choice still switches it (positive control: English is there).
    chosen = intake_client.get("/?lang=en", headers={"Accept-Language": "vi"})
    assert '<html lang="en">' in chosen.get_data(as_text=True)


def test_review_app_follows_accept_language(review_client: CsrfClient) -> None:
    html = review_client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="en">' in html and "No administrator account exists yet" in html


def test_lang_link_is_remembered_without_javascript(intake_client: CsrfClient) -> None:
    intake_client.get("/?lang=en")
    html = intake_client.get("/", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    intake_client.get("/?lang=vi")
    assert '<html lang="vi">' in intake_client.get("/").get_data(as_text=True)


def test_unknown_language_is_ignored(intake_client: CsrfClient) -> None:
    html = intake_client.get("/?lang=fr").get_data(as_text=True)
    assert '<html lang="vi">' in html


def test_review_app_translated_too(review_client: CsrfClient) -> None:
    vi = review_client.get("/").get_data(as_text=True)
    en = review_client.get("/?lang=en").get_data(as_text=True)
    assert "Chưa có tài khoản quản trị" in vi
    assert "No administrator account exists yet" in en


def test_language_switch_links_are_plain_links(intake_client: CsrfClient) -> None:
    html = intake_client.get("/").get_data(as_text=True)
    assert 'href="/?lang=en"' in html
