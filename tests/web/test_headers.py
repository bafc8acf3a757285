import pytest
from flask.testing import FlaskClient

from tests.conftest import CsrfClient


@pytest.mark.parametrize("face", ["intake", "review"])
def test_security_baseline_on_every_page(
    face: str, intake_client: CsrfClient, review_client: CsrfClient
) -> None:
    client: FlaskClient = intake_client if face == "intake" else review_client
    for path in ("/", "/static/css/site.css", "/no-such-page"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == directives["worker-src"] == "'self'"
        assert "base-uri 'none'" in csp and "form-action 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "camera=()" in response.headers["Permissions-Policy"]
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"
        assert "Onion-Location" not in response.headers


def test_onion_location_when_configured(env: dict[str, str], database: object) -> None:
    from app.factory import create_intake_app
    from config import load_settings

    settings = load_settings({**env, "LIEMCHINH_ONION_URL": "http://abcdefgh.onion"})
    client = create_intake_app(settings, database).test_client()  # type: ignore[arg-type]
    response = client.get("/?lang=en")
    assert response.headers["Onion-Location"] == "http://abcdefgh.onion/?lang=en"


def test_pages_have_no_inline_script_or_style(intake_client: CsrfClient) -> None:
    html = intake_client.get("/").get_data(as_text=True)
    assert "<style" not in html and " style=" not in html
    assert "<script>" not in html and "javascript:" not in html


def test_the_intake_workers_are_scripts_of_this_origin(intake_client: CsrfClient) -> None:
    """The pages name their Web Workers by same-origin paths, which the CSP's
    worker-src 'self' allows, and those scripts are served as JavaScript."""
    for path, workers in (
        ("/report", ("pow-worker.js", "crypto-worker.js")),
        ("/followup", ("pow-worker.js",)),
    ):
        html = intake_client.get(path).get_data(as_text=True)
        for name in workers:
            url = f"/static/js/{name}"
            assert f'"{url}"' in html, (path, name)
            response = intake_client.get(url)
            assert response.status_code == 200
            assert "javascript" in response.headers["Content-Type"]
            assert "worker-src 'self'" in response.headers["Content-Security-Policy"]
