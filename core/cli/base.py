"""What every command shares: exit codes, one-line errors, checks, settings, progress.

Exit codes (documented in ``tousu --help`` and the README):

* ``0`` — done.
* ``1`` — failure: the command was right but the work could not be done (database or Redis
  unreachable, port in use, something already exists, an unexpected error).
* ``2`` — usage: an option, argument, input file or environment variable is wrong (unknown
  option, bad ``--period`` or ``--at``, missing folder, invalid tenant file, bad
  ``TOUSU_PORT``, unknown tenant or user).
* ``130`` — interrupted (Ctrl-C).

Errors are one line on stderr starting with ``error:``. Heavy modules (SQLAlchemy, Litestar,
the plugins) are imported inside the commands so ``tousu --help`` answers at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from rich.progress import Progress

    from core.db import Database
    from core.settings import Settings

USAGE = 2
FAILURE = 1
INTERRUPTED = 130

T = TypeVar("T")


class CliError(Exception):
    """A failure to report as one line; ``code`` is the exit code (1 failure, 2 usage)."""

    def __init__(self, message: str, code: int = FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def usage(message: str) -> CliError:
    """An error in what the user typed or configured (exit 2)."""
    return CliError(message, USAGE)


def failure(message: str) -> CliError:
    """The work could not be done (exit 1)."""
    return CliError(message, FAILURE)


def settings() -> Settings:
    """The settings, checked: read from the environment once, by ``tousu`` before any
    command, and made the process's (:func:`core.settings.use`)."""
    from core.settings import current

    return current()


@asynccontextmanager
async def database(url: str | None = None) -> AsyncIterator[Database]:
    """The database for one command (``url``: the settings' ``DATABASE_URL`` unless given),
    its engine disposed of when the command is done with it."""
    from core.db import Database

    db = Database(url or settings().database_url)
    try:
        yield db
    finally:
        await db.dispose()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


# -- parameter checks: run while parsing, before any work ----------------------------------

PERIOD = re.compile(r"(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])")


def check_period(value: str) -> str:
    """``--period``: a month as YYYY-MM (years 1900-2199), ASCII digits (usage error)."""
    if not PERIOD.fullmatch(value):
        raise typer.BadParameter(f"{value!r} is not a month; give YYYY-MM, e.g. 2026-03")
    return value


def check_moment(value: str | None) -> str | None:
    """``--at``: an ISO 8601 time with a zone, e.g. 2026-03-05T10:00+08:00."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO time; give e.g. 2026-03-05T10:00+08:00"
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter(f"{value!r} has no time zone; give e.g. 2026-03-05T10:00+08:00")
    return value


SWEEP_AHEAD = dt.timedelta(days=1)
"""How far ahead of now ``sweep --at`` may pretend to be: a sweep at a far future moment
breaches every running clock at once, with its notifications and webhooks."""


def check_sweep_moment(value: str | None) -> str | None:
    """``sweep --at``: an ISO time with a zone, at most :data:`SWEEP_AHEAD` after now (the
    app clock), so a typo cannot breach every running clock."""
    from core import clock

    if check_moment(value) is None:
        return None
    assert value is not None
    try:
        moment = dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 lies past year 9999 in UTC
        moment = dt.datetime.max.replace(tzinfo=dt.UTC)
    latest = clock.now() + SWEEP_AHEAD
    if moment > latest:
        raise typer.BadParameter(
            f"{value!r} is more than a day from now; give a time before "
            f"{latest.isoformat(timespec='minutes')} (a later one would breach every running "
            "clock at once)"
        )
    return value


def _show(value: str) -> str:
    """A value for an error line: escaped, at most 40 characters of it."""
    return repr(value[:40]) + (f" (… {len(value)} characters)" if len(value) > 40 else "")


def check_username(value: str) -> str:
    """A user name as tenant files spell it: 1–64 of ``a-z 0-9 . _ -``, starting with a
    letter or digit (no empty name, no control character, nothing the column cannot hold)."""
    from core.provisioning.tenant_file import Username

    return _as(value, Username, "is not a user name; use 1-64 of a-z 0-9 . _ -")


def check_slug(value: str | None) -> str | None:
    """``--tenant``: a tenant slug (an empty one is not "no tenant")."""
    if value is None:
        return None
    from core.provisioning.tenant_file import Slug

    return _as(value, Slug, "is not a tenant slug; use 2-32 of a-z 0-9 -")


def _as(value: str, kind: Any, refusal: str) -> str:
    """``value`` checked as ``kind`` (a constrained string of the tenant files), else
    ``typer.BadParameter`` quoting it: "<value> <refusal> starting with a letter or digit"."""
    import msgspec

    try:
        return str(msgspec.convert(value, kind))
    except msgspec.ValidationError:
        raise typer.BadParameter(
            f"{_show(value)} {refusal} starting with a letter or digit"
        ) from None


def check_label(value: str) -> str:
    """A short note (``users key --label``): at most 64 printable characters."""
    if len(value) > 64 or not value.isprintable():
        raise typer.BadParameter(f"{_show(value)}: use at most 64 printable characters")
    return value


def writable_folder(path: Path, option: str = "--out") -> Path:
    """Create ``path`` if needed and prove a file can be written there, before any work."""
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".tousu-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise usage(f"{option} {path}: cannot write there ({reason})") from None
    return path


def tenant_folder(directory: Path) -> Path:
    """A folder that exists and holds at least one tenant file (``*.toml``)."""
    if not directory.exists():
        raise usage(f"{directory}: no such folder")
    if not directory.is_dir():
        raise usage(f"{directory}: not a folder")
    if not any(directory.glob("*.toml")):
        raise usage(f"{directory}: no tenant files (*.toml) in this folder")
    return directory


# -- progress ------------------------------------------------------------------------------


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[tuple[Progress, Any]]:
    """A rich progress bar on stderr (a spinner when ``total`` is unknown); nothing is drawn
    when stderr is not a terminal, so scripts and logs stay clean."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield bar, task
