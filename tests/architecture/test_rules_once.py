"""Each rule written once (issue 12 §2, §3): a syntax walk of app/ finds no second copy of
the overdue comparison or of an actor label."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DUE_COLUMNS = {"acknowledge_due", "decision_due", "feedback_due"}


def _trees(root: Path) -> list[tuple[str, ast.AST]]:
    return [
        (path.relative_to(root).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted((root / "app").rglob("*.py"))
    ]


def due_comparisons(root: Path) -> set[str]:
    """Files comparing a deadline's due day (``x.decision_due < today``): the overdue
    rule, which belongs to app/cases/deadlines.py alone."""
    found = set()
    for name, tree in _trees(root):
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(isinstance(s, ast.Attribute) and s.attr in DUE_COLUMNS for s in sides):
                    found.add(name)
    return found


def actor_literals(root: Path) -> set[str]:
    """Files that spell an actor label themselves: a string starting ``reviewer:``, or
    the bare ``"cli"``, instead of asking app/actors.py."""
    found = set()
    for name, tree in _trees(root):
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and (text == "cli" or text.startswith("reviewer:")):
                found.add(name)
    return found


def test_overdue_is_compared_in_one_module() -> None:
    assert due_comparisons(ROOT) <= {"app/cases/deadlines.py"}


def test_actor_labels_are_built_in_one_module() -> None:
    assert actor_literals(ROOT) <= {"app/actors.py"}


def test_the_walks_find_planted_copies(tmp_path: Path) -> None:
    # Positive control: a view that restates both rules, and one that only mentions them.
    views = tmp_path / "app" / "review"
    views.mkdir(parents=True)
    (views / "hộp_thư.py").write_text(
        "def tre_han(case, today):\n"
        "    return case.decision_due < today and case.acknowledged_at is None\n"
        "def nguoi(reviewer):\n"
        '    return f"reviewer:{reviewer.id}", "cli"\n',
        encoding="utf-8",
    )
    (views / "ghi_chu.py").write_text(
        '"""Hạn xử lý (decision_due) và nhãn reviewer:<id> chỉ được nhắc trong chú thích."""\n',
        encoding="utf-8",
    )
    assert due_comparisons(tmp_path) == {"app/review/hộp_thư.py"}
    assert actor_literals(tmp_path) == {"app/review/hộp_thư.py"}
