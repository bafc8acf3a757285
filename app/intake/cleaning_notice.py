"""What the receipt of a no-JavaScript report says about each file's hidden information
(app/intake/hidden_info.py): what was removed, and what could not be."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _

from app.intake.hidden_info import Cleaning, Removed


@dataclass(frozen=True)
class FileNotice:
    name: str
    text: str
    cleaned: bool


def _label(what: Removed) -> str:
    labels = {
        Removed.EXIF: _("camera, date and GPS position (EXIF)"),
        Removed.XMP: _("editing history and author (XMP)"),
        Removed.IPTC: _("author, caption and place (IPTC)"),
        Removed.COMMENT: _("comments"),
        Removed.TEXT: _("text notes such as author and software"),
        Removed.TIME: _("modification time"),
        Removed.OTHER: _("other embedded data"),
    }
    return str(labels[what])


def file_notices(files: Sequence[tuple[str, Cleaning | None]]) -> list[FileNotice]:
    notices: list[FileNotice] = []
    for name, cleaning in files:
        if cleaning is None:
            continue
        if not cleaning.cleaned:
            text = _(
                "Its hidden information (for example the author of a PDF or Word file) "
                "could not be removed without JavaScript: only JPEG and PNG photos are "
                "cleaned here. It was stored as you sent it."
            )
        elif cleaning.removed:
            text = _("Removed: %(what)s.", what=", ".join(_label(r) for r in cleaning.removed))
        else:
            text = _("No hidden information was found.")
        notices.append(FileNotice(name or _("(file without a name)"), text, cleaning.cleaned))
    return notices
