"""Quick exit ("Thoát nhanh") and the follow-up page's "Thoát".

Someone may walk up behind a reporter. Quick exit ends the reporter's session (a follow-up
case or a half-filled form is gone from this browser) and leaves for an ordinary site.
With JavaScript (static/js/exit.js) the intake page is *replaced* in the tab's history, so
"Back" does not return to it, and the session is ended by a beacon. Without JavaScript the
button posts here; the answer is a page that refreshes to the target at once. It cannot be
a redirect: the CSP's form-action 'self' also governs where a form's redirect may lead.
Pages before the current one stay in the history either way (no site can remove them);
docs/threat-model.md says so.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, render_template, session, url_for

from app.intake import blueprint
from app.web.context import settings


@blueprint.post("/exit")
def quick_exit() -> Any:
    # No CSRF token: a page whose session has expired must still let the reporter out, and
    # the worst a forged post can do is end a reporter's session.
    session.destroy()  # type: ignore[attr-defined]
    return render_template("intake/exit.html", target=settings().quick_exit_url)


@blueprint.post("/followup/logout")
def followup_logout() -> Any:
    session.destroy()  # type: ignore[attr-defined]
    return redirect(url_for("intake.landing"), code=303)


def init_quick_exit(app: Flask) -> None:
    app.extensions["csrf"].exempt(quick_exit)

    @app.context_processor
    def _quick_exit() -> dict[str, str]:
        return {"quick_exit_url": settings().quick_exit_url}
