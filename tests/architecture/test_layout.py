"""The layout is the architecture: dependencies point one way."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: Path) -> set[tuple[Path, str]]:
    found: set[tuple[Path, str]] = set()
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update((path, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((path, node.module))
    return found


def _offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in _imports(ROOT / package)
        if name.split(".")[0] in forbidden
        or any(name.startswith(f + ".") for f in forbidden)
        or name in forbidden
    )


def test_crypto_is_a_pure_library() -> None:
    assert _offending("crypto", ("flask", "app", "config", "sqlalchemy", "werkzeug")) == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("app/intake", ("app.review",)),
        ("app/review", ("app.intake",)),
        ("app/cases", ("app.intake", "app.review", "app.cli", "flask")),
        ("config", ("app", "flask")),
    ],
)
def test_one_way_dependencies(package: str, forbidden: tuple[str, ...]) -> None:
    assert _offending(package, forbidden) == []
