"""The hidden-information scrubber's texts (assets/js/files.js), as JSON in one language.

Only the JavaScript path shows them, once a file is picked; carried in the form's HTML
they cost every visitor about 1.7 KB (most of them Vietnamese, two or three bytes a
letter) of a no-JavaScript page that must stay under 20 KB (issue 15). The page names
this URL instead (``data-scrub-texts``) and the script fetches it, same origin, when the
scrub worker starts. The body depends on the language alone: no secret rides with it.
"""

from __future__ import annotations

import json

from flask import Response, abort
from flask_babel import force_locale
from flask_babel import gettext as _

from app.intake import blueprint
from app.web.i18n import LANGUAGES


def scrub_texts() -> dict[str, object]:
    """The texts in the current locale."""
    return {
        "checking": _("Checking this file for hidden information…"),
        "found": _("Hidden information in this file:"),
        "none": _("No hidden information found."),
        "remove": _("Remove the hidden information before sending"),
        "cannot": _(
            "Hidden information in this kind of file cannot be removed here: it will be sent "
            "as it is. To be safe, send a screenshot or a copy in another format."
        ),
        "unknown": _(
            "This kind of file is not checked for hidden information: it will be sent as it is."
        ),
        "partial": _("Some parts of this file are compressed and could not be checked."),
        "failed": _(
            "The hidden information could not be removed from this file. Untick its box to "
            "send it as it is, or cancel it:"
        ),
        "cancel": _("Cancel this file"),
        "cancelled": _("The file was removed from the report. Sending the rest…"),
        "encrypting": _("Encrypting…"),
        "sending": _("Sending…"),
        "labels": {
            "author": _("Author"),
            "company": _("Company"),
            "gps": _("GPS position"),
            "camera": _("Camera"),
            "software": _("Software"),
            "date": _("Date"),
            "comment_authors": _("People who commented or edited"),
            "history": _("Editing history (XMP)"),
            "iptc": _("Author, caption and place (IPTC)"),
            "comment": _("Comment"),
            "text": _("Text note"),
            "title": _("Title"),
            "other": _("Other hidden information"),
        },
    }


@blueprint.get("/scrub-texts/<lang>.json")
def scrub_texts_json(lang: str) -> Response:
    # The language is in the path, not ``?lang=``, which would switch the session's.
    if lang not in LANGUAGES:
        abort(404)
    with force_locale(lang):
        texts = scrub_texts()
    # Not \\u-escaped: Vietnamese would triple in size.
    body = json.dumps(texts, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return Response(body, mimetype="application/json")
