"""``tousu calendar load|show|remove``: the national working-day schedule of a year the
installed ``holidays`` package does not carry yet (issue 23 §6).

The State Council publishes next year's schedule each autumn; the operator writes it in a
small TOML file (format: docs/deadlines.md "Loading next year's calendar"; an example is
``calendars/china-2027.example.toml``) and loads it. Loading recomputes every open clock
that may touch the year, in every tenant; an estimate made meanwhile becomes official.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.cli import base

if TYPE_CHECKING:
    from core.deadlines.calendar import OfficialYear

app = typer.Typer(
    help="The national working-day calendar: load a year's official schedule.",
    no_args_is_help=True,
)


@app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="The year's schedule (TOML).", show_default=False)],
    allow_example: Annotated[
        bool,
        typer.Option("--allow-example", help="Load a file marked `example = true` anyway."),
    ] = False,
) -> None:
    """Load (or replace) one year's official schedule, then recompute the open clocks."""
    from core.deadlines.calendar import ScheduleError, parse_schedule

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise base.usage(f"{file}: cannot read: {exc.strerror or exc}") from exc
    try:
        year = parse_schedule(text)
    except ScheduleError as exc:
        raise base.usage(f"{file}: {exc}") from exc
    if year.example and not allow_example:
        raise base.usage(
            f"{file}: marked `example = true` — not the State Council's schedule; replace the "
            "dates with the published ones and remove the mark, or pass --allow-example"
        )
    report = base.run(_store(year))
    note = " (EXAMPLE schedule)" if year.example else ""
    typer.echo(
        f"calendar {report['year']} loaded{note}: {report['days']} day(s), "
        f"{report['clocks']} clock(s) recomputed"
    )


@app.command("remove")
def remove(year: Annotated[int, typer.Argument(help="The year to unload.")]) -> None:
    """Unload a year (clocks fall back to the library or the estimate)."""
    report = base.run(_store(year, remove=True))
    typer.echo(f"calendar {year} removed: {report['clocks']} clock(s) recomputed")


@app.command("show")
def show() -> None:
    """The years with an official schedule, and the years missing now (warned from
    1 November for next year)."""
    from core.db import utcnow
    from core.deadlines.calendar import known_years, missing_years

    loaded = base.run(_loaded())
    lib = known_years()
    typer.echo(f"holidays package: {lib.start}-{lib.stop - 1}")
    typer.echo("loaded: " + (", ".join(map(str, loaded)) or "none"))
    for year in missing_years(utcnow(), loaded):
        typer.echo(f"warning: no official schedule for {year}: load it (tousu calendar load)")


async def _store(year: OfficialYear | int, remove: bool = False) -> dict[str, int]:
    from core.deadlines.official import store

    async with base.database() as db:
        return await store(db, year, remove=remove)


async def _loaded() -> list[int]:
    from core.deadlines.official import loaded_years

    async with base.database() as db:
        return await loaded_years(db)
