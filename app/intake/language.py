"""Changing the language of a half-filled report form without JavaScript.

A language link would load an empty form: what the reporter typed would be gone. So on
the report form the language choice is a submit button of the form itself
(``formaction`` here, ``formnovalidate``): the browser posts what was typed, and this
view renders the same form, filled in, in the other language.

Nothing is stored and nothing is spent: no case, no blob, no form nonce (the form keeps
working, with a fresh one), no rate budget (no Argon2id, no encryption is done here).
The answers exist only in this request's memory and the page sent back, as on any
re-rendered form. Files cannot be put back into a file input by a server: their parts
are read and dropped unwritten (the ``discard`` upload policy, uploads.py), and the page
names them and asks for them again. With JavaScript the switch happens in the browser
and nothing of the form is sent (assets/js/language.js).
"""

from __future__ import annotations

from flask import request

from app.cases.filenames import clean_filename
from app.intake import blueprint
from app.intake.views import render_report_form
from app.web.i18n import choose_language


@blueprint.post("/report/language")
def report_language() -> tuple[str, int]:
    form = request.form
    dropped = [
        clean_filename(part.filename)
        for part in request.files.getlist("attachments")
        if part.filename
    ]
    choose_language(form.get("lang", ""))  # an unknown language keeps the current one
    return render_report_form(form, dropped_files=dropped)
