"""The named track's fields: required, bounded, padded (app.cases.identity)."""

from __future__ import annotations

import pytest

from app.cases import identity as sealed
from app.cases.identity import IdentityFields
from app.models.vocabulary import Track

NGUYEN = IdentityFields(
    full_name="Nguyễn Thị Ủ",
    id_number="092187001234",
    address="Đường Trần Hưng Đạo, phường Ninh Kiều, Cần Thơ",
    contact="0901 234 567",
)


def test_identity_fields_are_required_when_named() -> None:
    with pytest.raises(sealed.MissingIdentityFieldError) as missing:
        sealed.parse_identity({"identity_full_name": "Nguyễn Thị Ủ"})
    assert missing.value.field == "identity_id_number"
    with pytest.raises(sealed.IdentityFieldTooLongError):
        sealed.parse_identity({name: "Đ" * 301 for name in sealed.FIELDS})
    assert sealed.parse_track(None) is Track.ANONYMOUS
    assert sealed.parse_track("named") is Track.NAMED
    with pytest.raises(sealed.InvalidTrackError):
        sealed.parse_track("loud")
    fields = sealed.parse_identity({name: " Nguyễn  Thị Ủ " for name in sealed.FIELDS})
    assert fields.full_name == "Nguyễn Thị Ủ"
    # Padding hides the length of the name and address.
    assert len(fields.encode()) == len(NGUYEN.encode()) == sealed.PAD_TO


def test_a_malformed_sealed_identity_is_an_error_not_a_crash() -> None:
    assert IdentityFields.decode(NGUYEN.encode()) == NGUYEN  # positive control
    for bad in (b"\xff\xfe", b"not json", '{"full_name": "Nguyễn Thị Ủ"}'.encode(), b"[1, 2]"):
        with pytest.raises(sealed.DamagedIdentityError):
            IdentityFields.decode(bad)
