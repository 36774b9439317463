"""``tousu tenants check|sync``: the declarative tenant files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from core.cli import base

if TYPE_CHECKING:
    from core.provisioning.sync import SyncReport
    from core.settings import Settings

app = typer.Typer(
    help="Tenant files (tenants/*.toml): check them, load them.", no_args_is_help=True
)

Directory = Annotated[
    Path | None,
    typer.Argument(
        help="Folder of tenant *.toml files [default: TOUSU_TENANTS_DIR, i.e. ./tenants].",
        show_default=False,
    ),
]


@app.command("check")
def check(directory: Directory = None) -> None:
    """Validate the tenant files without touching the database.

    A bad file is reported as one line naming the file, the key and the rule (exit 2).
    """
    from core.provisioning.tenant_file import load_dir

    folder = base.tenant_folder(directory or base.settings().tenants_dir)
    for path, tf in load_dir(folder):
        typer.echo(f"{path}: ok ({tf.slug}, plugin {tf.plugin})")


@app.command("sync")
def sync(directory: Directory = None) -> None:
    """Migrate the database, then create or update each tenant from its file (idempotent)."""
    from core.cli.server import migrate_db
    from core.provisioning.tenant_file import load_dir

    settings = base.settings()
    folder = base.tenant_folder(directory or settings.tenants_dir)
    load_dir(folder)  # every file valid before the database is touched
    migrate_db(settings)
    base.run(sync_dir(settings, folder, bar=True))


async def sync_dir(
    settings: Settings, directory: Path, quiet: bool = False, bar: bool = False
) -> list[str]:
    """Load/sync every tenant file of ``directory``; returns the slugs, in file order."""
    from core.errors import ApiError
    from core.provisioning.sync import sync_tenant
    from core.provisioning.tenant_file import load_dir

    files = load_dir(directory)
    slugs: list[str] = []

    async def one(path: Path, tf: Any) -> None:
        try:
            report = await sync_tenant(db, tf, actor="cli:tenants sync")
        except ApiError as exc:  # a prefix taken, a plugin change with tickets
            raise base.usage(f"{path}: {exc.field}: {exc.message}") from exc
        slugs.append(tf.slug)
        _say(quiet, path, tf.slug, report)

    async with base.database(settings.database_url) as db:
        if bar:
            with base.progress("syncing tenants", total=len(files)) as (progress, task):
                for path, tf in files:
                    progress.update(task, description=f"syncing {tf.slug}")
                    await one(path, tf)
                    progress.advance(task)
        else:
            for path, tf in files:
                await one(path, tf)
    return slugs


def _say(quiet: bool, path: Path, slug: str, report: SyncReport) -> None:
    if not quiet:
        state = "created" if report.created else "updated"
        changes = len(report.changes)
        typer.echo(f"{path}: tenant {slug} {state}, {changes} change(s)")
