"""The ``tousu`` command (Typer): serve, migrate, tenants, users, workers, sweeps, reports.

One module per command group (``server``, ``tenants``, ``users``, ``reports``); a new
group is a module with its own ``typer.Typer()`` added below with ``app.add_typer``, a new
command is a function decorated ``@app.command()`` in its module. Commands import what they
need inside their bodies, so ``tousu --help`` stays fast. :func:`main` is the entry point
and turns every known failure into one ``error:`` line and an exit code (see
:mod:`core.cli.base`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.cli import base

if TYPE_CHECKING:
    from core.settings import Settings

EPILOG = (
    "Exit codes: 0 done · 1 failure (database/Redis unreachable, port in use, …) · "
    "2 usage (bad option, argument, file or environment variable) · 130 interrupted. "
    "Settings come from the environment: see `tousu config`."
)

app = typer.Typer(
    name="tousu",
    help="tousu — multi-tenant complaint handling (投诉管理): the API server, its workers "
    "and the operator's tools.",
    epilog=EPILOG,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"tousu {version('tousu')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """tousu — multi-tenant complaint handling (投诉管理)."""
    from core.settings import load_settings, use

    use(load_settings())  # every variable checked before any command does work; read once


def _register() -> None:
    from core.cli import calendar, reports, server, tenants, users

    server.register(app)
    app.add_typer(tenants.app, name="tenants")
    app.add_typer(users.app, name="users")
    app.add_typer(reports.ledger, name="ledger")
    app.add_typer(reports.app, name="reports")
    app.add_typer(calendar.app, name="calendar")


_register()


def main(argv: list[str] | None = None) -> int:
    """Run ``tousu`` with ``argv`` (default: the command line); returns the exit code."""
    from typer._click.exceptions import ClickException  # typer vendors click

    from core.settings import SettingsError

    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="tousu", standalone_mode=False)
    except ClickException as exc:  # usage: unknown option, bad value, missing argument
        base.err(_one_line(exc.format_message()))
        return exc.exit_code
    except base.CliError as exc:
        base.err(exc.message)
        return exc.code
    except SettingsError as exc:
        base.err(str(exc))
        return base.USAGE
    except (typer.Abort, KeyboardInterrupt):
        base.err("interrupted")
        return base.INTERRUPTED
    except SystemExit as exc:  # services raise SystemExit("message") for unknown names
        if isinstance(exc.code, str):
            base.err(exc.code)
            return base.USAGE
        return int(exc.code or 0)
    except Exception as exc:
        return _unexpected(exc)
    return result if isinstance(result, int) else 0


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _unexpected(exc: Exception) -> int:
    """Known operational failures as one line; anything else also one line (exit 1)."""
    from core.errors import ApiError
    from core.provisioning.tenant_file import TenantFileError

    if isinstance(exc, TenantFileError):
        base.err(str(exc))
        return base.USAGE
    if isinstance(exc, ApiError):
        where = f" ({exc.field}: {exc.rule})" if exc.field else ""
        base.err(f"{exc.message}{where}")
        return base.USAGE
    text = _one_line(str(exc)) or type(exc).__name__
    if _is_unreachable(exc):
        base.err(f"cannot reach the database or Redis: {text}")
        return base.FAILURE
    base.err(f"{type(exc).__name__}: {text}")
    return base.FAILURE


def _is_unreachable(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    return bool(
        names & {"OperationalError", "ConnectionRefusedError", "ConnectionError", "gaierror"}
    )


def _chain(exc: BaseException | None) -> list[BaseException]:
    out: list[BaseException] = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


async def _sync(settings: Settings, directory: Path, quiet: bool = False) -> list[str]:
    """Load/sync every tenant file of ``directory`` (kept here for callers of the old CLI)."""
    from core.cli.tenants import sync_dir

    return await sync_dir(settings, directory, quiet=quiet)


__all__ = ["_sync", "app", "main"]
