"""One database session per request, bound to the Flask app."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Flask, Response, current_app, g, request
from sqlalchemy.orm import Session

from app.cases import unit_of_work
from app.database import Database

P = ParamSpec("P")
R = TypeVar("R")

_EXTENSION = "liemchinh.database"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_database(app: Flask, database: Database) -> None:
    app.extensions[_EXTENSION] = database

    def _close_session() -> None:
        # Anything a view did not commit explicitly is rolled back: a failure half-way
        # through a request leaves nothing behind.
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            unit_of_work.rollback(session)
            session.close()

    @app.after_request
    def _end_transaction(response: Response) -> Response:
        # Before the session cookie is saved (in its own short transaction): on SQLite a
        # write transaction still open here would make that save wait for the lock.
        _close_session()
        return response

    @app.teardown_appcontext
    def _close_on_teardown(_exc: BaseException | None) -> None:
        _close_session()


def get_database(app: Flask | None = None) -> Database:
    database: Database = (app or current_app).extensions[_EXTENSION]
    return database


def writes_on_get(view: Callable[P, R]) -> Callable[P, R]:
    """A GET view that writes (opening a case is audited): its request session may
    write, so the view reads and writes in one session and commits once. Put it above
    any decorator that may open the session (``login_required``)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        g.db_writes = True
        return view(*args, **kwargs)

    return wrapper


def db_session() -> Session:
    """The request's session. GET requests read without taking SQLite's write lock,
    unless the view is marked :func:`writes_on_get`."""
    session: Session | None = g.get("db_session")
    if session is None:
        database = get_database()
        read_only = bool(request) and request.method in _SAFE_METHODS
        read_only = read_only and not g.get("db_writes", False)
        factory = database.read_sessionmaker if read_only else database.sessionmaker
        session = factory()
        g.db_session = session
    return session
