"""``tousu serve|migrate|worker|scheduler|sweep|config``: running the service."""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.cli import base

if TYPE_CHECKING:
    import datetime as dt

    from core.settings import Settings


def register(app: typer.Typer) -> None:
    for command in (serve, migrate, worker, scheduler, sweep, config, check):
        app.command()(command)


def migrate_db(settings: Settings, quiet: bool = False) -> None:
    from core.migrate import upgrade
    from core.settings import mask

    # As the tables' owner; on PostgreSQL this also grants the app role and sets up RLS.
    upgrade(settings.migrate_database_url, app_url=settings.database_url)
    if not quiet:
        typer.echo(f"database migrated: {mask(settings.migrate_database_url, True)}")


def bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket first, so a busy port fails before any work is done."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise base.usage(f"--host {host}: unknown address ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise base.failure(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to bind [default: TOUSU_HOST, 127.0.0.1].", show_default=False),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="Port to bind, 0 for any free one [default: TOUSU_PORT, 8000].",
            min=0,
            max=65535,
            show_default=False,
        ),
    ] = None,
    no_sync: Annotated[
        bool, typer.Option("--no-sync", help="Do not load the tenant files at start.")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            help="API processes sharing the port (more than 1 needs PostgreSQL and REDIS_URL).",
            min=1,
            max=64,
        ),
    ] = 1,
) -> None:
    """Serve the API: bind the port, migrate, load tenants/, print demo logins, serve.

    Without REDIS_URL the background work (workers, outbox relay, deadline sweeps) runs in
    this process; with it, run `tousu scheduler` and `tousu worker` beside the server.
    With --workers N, N API processes serve on the one bound socket (uvicorn supervises them).
    """
    settings = validated()  # what `tousu check` checks, before the port is bound
    if workers > 1:
        _check_multiprocess(settings)
    host = host or settings.host
    sock = bind(host, settings.port if port is None else port)
    bound_port = sock.getsockname()[1]
    _configure_logs(settings)
    try:
        migrate_db(settings)
        if (
            not no_sync
            and settings.tenants_dir.is_dir()
            and any(settings.tenants_dir.glob("*.toml"))
        ):
            from core.cli.tenants import sync_dir

            base.run(sync_dir(settings, settings.tenants_dir))
            _print_demo_logins(settings.tenants_dir, f"http://{host}:{bound_port}")
        background = settings.broker is None
        if background:
            typer.echo("Background work: in-process worker (no TOUSU_BROKER_URL/REDIS_URL set).")
        else:
            typer.echo(
                "Background work: run `tousu scheduler` and `tousu worker` beside this server."
            )
        from core.logs import get

        get("tousu").info("listening", url=f"http://{host}:{bound_port}", workers=workers)
        if workers > 1:
            _run_uvicorn_processes(settings, sock, workers)
        else:
            _run_uvicorn(settings, sock, background)
    finally:
        sock.close()


def _configure_logs(settings: Settings) -> None:
    """Long-running commands log JSON lines (a console format on a terminal)."""
    from core import logs

    logs.configure(settings.log_format, settings.log_level)


def _run_uvicorn(settings: Settings, sock: socket.socket, background: bool) -> None:
    import uvicorn

    from core.app import create_app

    config = uvicorn.Config(
        create_app(settings, background=background),
        log_level=settings.log_level,
        log_config=None,  # our structlog setup (core.logs) formats uvicorn's lines too
        access_log=False,  # core.logs.request_context writes one line per request
        lifespan="on",
        # The client address is ours to judge (core.client_address, TOUSU_TRUSTED_PROXIES):
        # uvicorn's default would believe X-Forwarded-For from 127.0.0.1/FORWARDED_ALLOW_IPS.
        proxy_headers=False,
        forwarded_allow_ips="",
    )
    uvicorn.Server(config).run(sockets=[sock])


def served_app() -> object:
    """The app as each of ``--workers`` processes builds it: settings from the environment,
    logs configured like the parent's (a spawned process starts with none)."""
    from core.app import create_app
    from core.settings import load_settings

    settings = load_settings()
    _configure_logs(settings)
    # core.logs writes one line per request; uvicorn's own access line would double it
    logging.getLogger("uvicorn.access").disabled = True
    return create_app(settings)


def _check_multiprocess(settings: Settings) -> None:
    """Several API processes need a database several processes can write at once and one
    place for the background work: the in-process worker would run once per process, and
    SQLite serialises writers per file."""
    if settings.database_url.startswith("sqlite"):
        raise base.usage(
            "--workers above 1 needs PostgreSQL (DATABASE_URL=postgresql+asyncpg://…); the "
            "embedded SQLite default serves from one process"
        )
    if not settings.broker:
        raise base.usage(
            "--workers above 1 needs a broker (TOUSU_BROKER_URL or REDIS_URL), with "
            "`tousu worker` and `tousu scheduler` "
            "running the background work once for all API processes"
        )


def _run_uvicorn_processes(settings: Settings, sock: socket.socket, workers: int) -> None:
    """N processes, each building the app from the environment (``core.app:create_app``),
    on the socket bound here. Console sessions and CSRF tokens are signed with one key for
    all of them: TOUSU_SECRET_KEY when set, else one made here and handed down."""
    import secrets

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if not settings.secret_key:
        os.environ["TOUSU_SECRET_KEY"] = secrets.token_urlsafe(32)
    config = uvicorn.Config(
        "core.cli.server:served_app",
        factory=True,
        workers=workers,
        log_level=settings.log_level,
        log_config=None,
        access_log=False,
        lifespan="on",
        proxy_headers=False,  # core.client_address decides (TOUSU_TRUSTED_PROXIES)
        forwarded_allow_ips="",
    )
    Multiprocess(config, sockets=[sock]).run()


def _print_demo_logins(directory: Path, base_url: str) -> None:
    from core.provisioning.tenant_file import load_dir

    files = load_dir(directory)
    typer.echo(
        f"\nConsole (web, Chinese): {base_url}/   — log in with tenant code, username, password"
    )
    typer.echo("Demo logins (console password; API token for 'Authorization: Bearer <token>'):")
    for _, tf in files:
        keyed = [u for u in tf.users if u.demo_key or u.demo_password]
        if not keyed:
            continue
        typer.echo(f"\n  tenant {tf.slug} — {tf.name} (plugin: {tf.plugin})")
        for u in keyed:
            typer.echo(
                f"    {u.username:<18} {','.join(u.roles):<18} "
                f"password {u.demo_password or '-':<22} token {u.demo_key or '-'}"
            )
    first = next((u.demo_key for _, tf in files for u in tf.users if u.demo_key), None)
    typer.echo(f"\nAPI docs: {base_url}/docs   health: {base_url}/health")
    if first:
        typer.echo(f"Try:  curl -H 'Authorization: Bearer {first}' {base_url}/api/me\n")


def migrate() -> None:
    """Apply the database migrations to DATABASE_URL (idempotent)."""
    migrate_db(base.settings())


def worker(
    processes: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 2,
    threads: Annotated[int, typer.Option(help="Threads per process.", min=1)] = 4,
) -> None:
    """Run the dramatiq workers (needs REDIS_URL) with this Python: the same as
    `python -m dramatiq core.jobs.worker --processes N --threads T`."""
    settings = base.settings()
    if not settings.broker:
        raise base.usage(
            "tousu worker needs a broker (TOUSU_BROKER_URL or REDIS_URL); without one "
            "`tousu serve` runs the actors on an "
            "in-process worker"
        )
    argv = [
        sys.executable,
        "-m",
        "dramatiq",
        "core.jobs.worker",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        "--skip-logging",  # core.logs configures JSON lines in each worker process
    ]
    env = dict(os.environ)
    if settings.worker_metrics_port:
        # dramatiq's Prometheus middleware serves every worker process's metrics from one
        # port; the processes share them through prometheus_client's multiprocess folder.
        import tempfile

        folder = tempfile.mkdtemp(prefix="tousu-worker-metrics-")
        env.update(
            dramatiq_prom_host=settings.host,
            dramatiq_prom_port=str(settings.worker_metrics_port),
            dramatiq_prom_db=folder,
            PROMETHEUS_MULTIPROC_DIR=folder,
        )
    sys.stdout.flush()
    os.execve(sys.executable, argv, env)


def scheduler() -> None:
    """Relay the outbox and enqueue deadline sweeps on a schedule (needs REDIS_URL).

    Stops cleanly on Ctrl-C or SIGTERM. Several schedulers may run at once."""
    import signal

    settings = base.settings()
    if not settings.broker:
        raise base.usage(
            "tousu scheduler needs a broker (TOUSU_BROKER_URL or REDIS_URL) (without one, "
            "`tousu serve` runs the relay and "
            "sweeps in-process)"
        )
    from core.jobs.runtime import run_scheduler

    _configure_logs(settings)

    def _stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    typer.echo(
        f"scheduler: relay every {settings.relay_seconds:g}s, sweep every "
        f"{settings.sweep_seconds:g}s (Ctrl-C to stop)",
        err=True,
    )
    try:
        run_scheduler(settings.database_url, settings.broker)
    except KeyboardInterrupt:
        typer.echo("scheduler stopped", err=True)


def sweep(
    at: Annotated[
        str | None,
        typer.Option(
            help="Pretend it is this ISO time with a zone, e.g. 2026-03-05T10:00+08:00 "
            "(tests, demos); at most a day after now.",
            callback=base.check_sweep_moment,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run one deadline sweep now, in this process: warnings, breaches, upgrades."""
    import datetime as dt

    moment = dt.datetime.fromisoformat(at) if at else None
    with base.progress("sweeping deadlines"):
        report = base.run(_sweep(base.settings(), moment))
    typer.echo(
        f"warned {report.warned}, breached {report.breached}, upgraded {report.upgraded}, "
        f"deferred {report.deferred}"
    )


async def _sweep(settings: Settings, moment: dt.datetime | None) -> object:
    from core import metrics
    from core.jobs.sweep import sweep as run_sweep

    async with base.database(settings.database_url) as db:
        with metrics.SWEEP_SECONDS.time():
            return await run_sweep(db, moment)


def config(
    show_source: Annotated[
        bool, typer.Option("--source", help="Also say whether each value is set or default.")
    ] = False,
) -> None:
    """Print every setting the program reads (secrets masked) and what it does."""
    from core.settings import describe

    rows = describe(base.settings())
    width = max(len(r[0]) for r in rows)
    for name, value, source, description in rows:
        origin = f"  [{source}]" if show_source else ""
        typer.echo(f"{name:<{width}} = {value}{origin}    # {description}")


def validated() -> Settings:
    """Every setting read and checked (:func:`core.settings.load_settings` parses each value
    and :func:`core.settings.check_values` the ones whose type says too little); raises
    :class:`~core.settings.SettingsError` naming the first bad variable (exit 2)."""
    from core.settings import check_values

    settings = base.settings()
    check_values(settings)
    return settings


def check() -> None:
    """Validate every setting and exit: 0 when all are usable, 2 naming the first bad
    variable (the same check `tousu serve` runs at start)."""
    from core.settings import variables

    validated()
    typer.echo(f"settings ok: {len(variables())} variables checked (`tousu config` shows them)")
