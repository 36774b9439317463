"""The two things every route handler takes from the request: who asks, and the database."""

from __future__ import annotations

from typing import Any

from litestar import Request

from core.db import Database
from core.principal import Principal


def principal(request: Request[Any, Any, Any]) -> Principal:
    """The authenticated principal (set by :class:`core.people.auth.BearerAuth`)."""
    return request.user  # type: ignore[no-any-return]


def database(request: Request[Any, Any, Any]) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]
