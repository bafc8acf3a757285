"""The templates in config/notices are data the city edits: every kind is there and
valid, an edit shows in the documents, and a bad edit is a clear NoticeError naming
the file, found when the templates are loaded rather than halfway through a document."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.cases.notices import ErrorCode, NoticeError, NoticeKind, load_templates, render_pdf
from app.cases.notices.templates import DEFAULT_DIRECTORY, FIELDS, Source
from tests.cases.notices.readback import flat, pdf_text
from tests.factories import make_notice


def test_every_kind_has_a_valid_template() -> None:
    templates = load_templates()
    assert set(templates.by_kind) == set(NoticeKind)
    assert sorted(p.stem for p in DEFAULT_DIRECTORY.glob("*.toml")) == sorted(NoticeKind)


def test_statutory_forms_and_the_citys_own_are_told_apart() -> None:
    # docs/legal.md §5: Decree 31/2019 has forms for acceptance (Mẫu 05) and extension
    # (Mẫu 01); none for non-acceptance, transfer, or the notice of the conclusion; the
    # anonymous-information notice is no legal act at all (Law art. 25).
    sources = {kind: template.source for kind, template in load_templates().by_kind.items()}
    assert sources == {
        NoticeKind.ACCEPT: Source.STATUTORY,
        NoticeKind.EXTEND: Source.STATUTORY,
        NoticeKind.REFUSE: Source.CITY,
        NoticeKind.TRANSFER: Source.CITY,
        NoticeKind.CONCLUDE: Source.CITY,
        NoticeKind.INFORMATION: Source.SYSTEM,
    }
    templates = load_templates()
    assert "Mẫu số 05" in templates[NoticeKind.ACCEPT].basis
    assert "Mẫu số 01" in templates[NoticeKind.EXTEND].basis
    assert not templates[NoticeKind.INFORMATION].legal_act


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "notices"
    shutil.copytree(DEFAULT_DIRECTORY, target)
    return target


def _edit(directory: Path, kind: str, old: str, new: str) -> None:
    path = directory / f"{kind}.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_edit_to_the_wording_shows_in_the_document(copy: Path) -> None:
    _edit(copy, "refuse", "thông báo để người tố cáo được biết.", "kính báo để người tố cáo rõ.")
    text = flat(pdf_text(render_pdf(make_notice("refuse"), load_templates(copy))))
    assert "kính báo để người tố cáo rõ." in text
    assert "thông báo để người tố cáo được biết." not in text


@pytest.mark.parametrize(
    ("kind", "old", "new", "detail"),
    [
        ("accept", "{content}", "{noi_dung}", "unknown placeholder {noi_dung}"),
        ("refuse", "{reason}", "{reason.__class__}", "must be a plain name"),
        ("refuse", "{reason}", "{reason!r}", "must be a plain name"),
        ("refuse", "{reason}", "{reason:>40}", "must be a plain name"),
        ("refuse", "{reason}", "{reason", "paragraph #3"),
        ("conclude", "{outcome}", "{case_reference}", "may only stand in the archive line"),
        ("accept", 'title = "THÔNG BÁO"', 'tittle = "THÔNG BÁO"', "unknown keys tittle"),
        ("accept", 'kind = "accept"', 'kind = "refuse"', "but the file is named accept.toml"),
        ("accept", 'source = "statutory"', 'source = "official"', "'official'"),
        ("accept", "legal_act = true", "legal_act = false", 'source = "system" exactly when'),
        ("extend", 'style = "heading"', 'style = "bold"', "style is body, heading or note"),
        ("accept", 'signer_title = "Chánh Thanh tra"', 'signer_title = "{place}"', "plain text"),
        ("refuse", 'greeting = "Kính gửi', 'greeting = ["Kính gửi', "TOML"),
        ("accept", 'symbol = "TB"', "symbol = 5", "'symbol' must be a str"),
    ],
)
def test_a_bad_edit_is_refused_at_load(copy, kind, old, new, detail) -> None:
    _edit(copy, kind, old, new)
    with pytest.raises(NoticeError) as caught:
        load_templates(copy)
    error = caught.value
    assert error.code is ErrorCode.BAD_TEMPLATE
    assert f"{kind}.toml" in error.message("vi") and f"{kind}.toml" in error.message("en")
    if detail != "TOML":
        assert detail in error.message("en")


def test_a_missing_template_is_refused(copy: Path) -> None:
    (copy / "transfer.toml").unlink()
    with pytest.raises(NoticeError, match=r"transfer\.toml"):
        load_templates(copy)


def test_a_template_needs_its_parts(copy: Path) -> None:
    path = copy / "accept.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("archive")), "utf-8")
    with pytest.raises(NoticeError, match="'archive' is missing"):
        load_templates(copy)


def test_every_field_is_used_by_some_template() -> None:
    # The list of placeholders is the contract with the workflow: nothing in it is dead
    # but the three the letterhead already shows, offered for the city's own wording.
    used = set().union(*(t.placeholders() for t in load_templates().by_kind.values()))
    assert FIELDS - used == {"parent_unit", "place", "issued_on_long"}
