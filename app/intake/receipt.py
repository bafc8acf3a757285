"""The receipt page after a report sent without JavaScript, kept on screen until the
reporter says they have written the code down.

The receipt is shown once and never stored, so the page must not lose it: the language
choice and the "continue" button are buttons of one small form that posts the code back
here (a POST body, under CSRF protection; never a URL, the session, a log or the
database). Changing the language renders the same receipt in the other language;
"continue" goes on only when the box "I have written down my code" is ticked, and
otherwise renders the receipt again with an error.

The posted code is only checked for its form (20 digits with a valid check digit), not
looked up: a lookup costs an Argon2id and would make this page a receipt oracle. The
CSRF token (the session's) keeps another site from posting a code of its choosing here.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.intake import blueprint
from app.web.i18n import choose_language
from crypto import ReceiptError, format_receipt

WRITTEN_DOWN = "yes"


def render_receipt(
    receipt: str, *, written_down: bool = False, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "intake/receipt.html", receipt=receipt, written_down=written_down, error=error
        ),
        status,
    )


@blueprint.post("/receipt")
def receipt_page() -> Any:
    form = request.form
    try:
        receipt = format_receipt(form.get("receipt", ""))
    except ReceiptError:
        message = _("This is not a receipt code. Nothing was changed.")
        return render_template("intake/error.html", message=message, status=400), 400
    written_down = form.get("written_down") == WRITTEN_DOWN
    if "lang" in form:
        choose_language(form.get("lang", ""))
        return render_receipt(receipt, written_down=written_down)
    if not written_down:
        error = _("Please write down your receipt code, then tick the box.")
        return render_receipt(receipt, error=str(error), status=400)
    return redirect(url_for("intake.followup"), code=303)
