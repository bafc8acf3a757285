"""A request body that cannot be parsed is an error of its own, not an empty form.

Werkzeug's form parser swallows a malformed multipart body (no boundary, a part without
Content-Disposition, a body cut off before its closing boundary) and hands the view an
empty form. The first thing that reads the form is the CSRF check, which then finds no
token and tells the reporter the page "was open too long" - wrong, and it hides that the
upload itself was damaged. Here the parser is strict and the failure becomes
:class:`MalformedRequestBody` (400), which each face answers with its own message.
"""

from __future__ import annotations

from flask.wrappers import Request
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser


class MalformedRequestBody(BadRequest):
    description = "malformed_request_body"


class _StrictFormDataParser(FormDataParser):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs["silent"] = False
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class StrictFormRequest(Request):
    form_data_parser_class = _StrictFormDataParser

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except ValueError:
            # Nothing more is read from this body: later reads of the form see it empty.
            d = self.__dict__
            d["form"], d["files"] = self.parameter_storage_class(), self.parameter_storage_class()
            raise MalformedRequestBody() from None
