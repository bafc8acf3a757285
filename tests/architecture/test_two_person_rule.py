"""The review app changes access only through app.accounts.approvals.

The functions that give keys at once (join a unit, raise a role, reset a password or an
authenticator, set the recovery key) are for the operator's command line and for an
approved request. If a view called one directly, one admin could again act alone; this
test fails when any module of app/review names one.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SINGLE_PERSON = {
    "set_memberships",
    "add_membership",
    "set_role",
    "admin_reset_password",
    "reset_totp",
    "set_recovery_recipient",
}


def _names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.ImportFrom):
            found.update(alias.name for alias in node.names)
    return found


def test_review_views_never_change_access_alone() -> None:
    offending = {
        f"{path.relative_to(ROOT)}: {sorted(_names(path) & SINGLE_PERSON)}"
        for path in (ROOT / "app" / "review").rglob("*.py")
        if _names(path) & SINGLE_PERSON
    }
    assert offending == set()


def test_the_check_would_see_a_direct_call(tmp_path: Path) -> None:
    view = tmp_path / "view.py"
    view.write_text("from app.accounts import reviewers\nreviewers.set_memberships(db, r, [])\n")
    assert _names(view) & SINGLE_PERSON == {"set_memberships"}
