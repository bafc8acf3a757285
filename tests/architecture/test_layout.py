"""The layout is the architecture: dependencies point one way, and the domain loads
without Flask.

The layers, top to bottom, as README.md draws them. A module may import its own layer
and the layers below it, never one above; the three faces never import each other.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LAYERS: tuple[tuple[str, ...], ...] = (
    ("wsgi",),
    ("app.factory",),
    ("app.intake", "app.review", "app.cli"),  # the faces
    ("app.web",),  # Flask plumbing the faces share
    ("app.accounts",),
    ("app.cases", "app.notifications", "app.backup"),
    ("app.installation",),
    ("app.audit", "app.storage"),
    (
        "app.models",
        "app.clock",
        "app.database",
        "app.schema",
        "app.file_days",
        "app.actors",
        "app.audit_actions",
    ),
    ("config",),
    ("crypto",),
)
FACES = ("app.intake", "app.review", "app.cli")
WEB_STACK = ("flask", "werkzeug", "flask_babel", "flask_wtf", "flask_limiter")
# Everything below app.web: the domain and what it stands on. None of it may load Flask.
NO_FLASK = tuple(unit for layer in LAYERS[LAYERS.index(("app.web",)) + 1 :] for unit in layer)


def _unit_of(path: Path) -> str:
    """The layer unit a source file belongs to: ``app.cases`` for app/cases/inbox.py."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return f"app.{parts[1]}" if parts[0] == "app" and len(parts) > 1 else parts[0]


def _imported(tree: ast.AST) -> set[str]:
    """Every absolute module name a file imports; ``from app import audit`` counts as
    ``app.audit``, so the short form cannot slip past."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _sources() -> list[Path]:
    packages = ("app", "config", "crypto")
    return sorted([ROOT / "wsgi.py", *(p for d in packages for p in (ROOT / d).rglob("*.py"))])


def _belongs(name: str, unit: str) -> bool:
    return name == unit or name.startswith(unit + ".")


def _offending(unit: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _sources()
        if _unit_of(path) == unit
        for name in _imported(ast.parse(path.read_text(encoding="utf-8")))
        if any(_belongs(name, f) for f in forbidden)
    )


def _above(unit: str) -> tuple[str, ...]:
    level = next(i for i, layer in enumerate(LAYERS) if unit in layer)
    return tuple(u for layer in LAYERS[:level] for u in layer)


def test_every_module_has_a_layer() -> None:
    """A new package or module of app/ must be placed in LAYERS (and in the README)."""
    placed = {unit for layer in LAYERS for unit in layer}
    units = {_unit_of(path) for path in _sources()} - {"app.__init__"}
    assert units - placed == set()
    assert placed - units == set()


def test_crypto_is_a_pure_library() -> None:
    forbidden = ("app", "config", "sqlalchemy", *WEB_STACK)
    assert _offending("crypto", forbidden) == []


def test_config_imports_nothing_of_the_app() -> None:
    assert _offending("config", ("app", *WEB_STACK)) == []


@pytest.mark.parametrize("unit", [unit for layer in LAYERS for unit in layer])
def test_dependencies_point_down(unit: str) -> None:
    forbidden = _above(unit)
    if unit in FACES:
        forbidden += tuple(face for face in FACES if face != unit)
    if unit in NO_FLASK:
        forbidden += WEB_STACK
    assert _offending(unit, forbidden) == []


def test_the_checker_sees_an_upward_import() -> None:
    # Positive control: the same walk finds a real import in the other direction.
    assert "app/factory.py imports app.cli" in _offending("app.factory", ("app.cli",))
    assert any(" imports app.cases" in line for line in _offending("app.review", ("app.cases",)))
    assert "app/accounts/reviewers.py imports app.audit" in _offending(
        "app.accounts", ("app.audit",)
    )


# -- the domain loads without Flask, checked in a fresh interpreter -------------------------

_LOADED_BY = """
import importlib, json, sys
stack = {stack!r}
loaded = {{}}
for name in {modules!r}:
    importlib.import_module(name)
    web = sorted(m for m in sys.modules if m.split(".")[0] in stack)
    if web:
        loaded[name] = web[:5]
        break
print(json.dumps(loaded))
"""


def _web_modules_loaded_by(modules: list[str]) -> dict[str, list[str]]:
    """Import ``modules`` in order in a new interpreter; the first that loaded a module
    of the web stack, with what it loaded (an empty dict: none did)."""
    code = _LOADED_BY.format(stack=WEB_STACK, modules=modules)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


def _modules_of(unit: str) -> list[str]:
    """``unit`` and every module in it, e.g. app.cases and app.cases.inbox, …"""
    names = [unit]
    for path in _sources():
        if _unit_of(path) != unit or path.name == "__main__.py":  # that one runs a CLI
            continue
        if path.name != "__init__.py":
            relative = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(relative))
        elif path.parent != ROOT / unit.replace(".", "/"):
            names.append(".".join(path.parent.relative_to(ROOT).parts))
    return sorted(set(names))


def test_the_domain_loads_no_flask_module() -> None:
    modules = [name for unit in NO_FLASK for name in _modules_of(unit)]
    # Every module, not only the packages: app.cases does not import all of its own.
    assert {"app.cases", "app.cases.inbox", "app.models", "app.audit", "crypto"} <= set(modules)
    assert {"app.accounts.totp", "app.notifications.outbox", "app.backup.restoring"} <= set(modules)
    assert _web_modules_loaded_by(modules) == {}


def test_the_flask_check_sees_flask() -> None:
    # Positive control: the same check names the web layer, which does load Flask.
    loaded = _web_modules_loaded_by(["app.cases", "app.web.context"])
    assert list(loaded) == ["app.web.context"]
    assert "flask" in loaded["app.web.context"]
