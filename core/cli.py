"""The ``tousu`` command: serve, migrate, tenants sync, users.

``tousu serve`` is the embedded default in one step: apply migrations, sync the tenants in
``tenants/``, print how to authenticate as each demo user, and serve the API.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sqlalchemy import select

from core.db import Database, utcnow
from core.errors import ApiError
from core.migrate import upgrade
from core.people.auth import forget, hash_token, new_token
from core.people.models import ApiKey, Tenant, User
from core.people.roles import TENANT_ROLES, Role
from core.people.sync import sync_tenant
from core.people.tenant_file import TenantFileError, load_dir
from core.settings import Settings, load_settings


def _migrate(settings: Settings) -> None:
    # As the tables' owner; on PostgreSQL this also grants the app role and sets up RLS.
    upgrade(settings.migrate_database_url, app_url=settings.database_url)
    print(f"database migrated: {_safe_url(settings.migrate_database_url)}")


def _safe_url(url: str) -> str:
    if "@" in url:
        head, tail = url.split("@", 1)
        scheme = head.split("://", 1)[0]
        return f"{scheme}://***@{tail}"
    return url


async def _sync(settings: Settings, directory: Path, quiet: bool = False) -> list[str]:
    files = load_dir(directory)
    db = Database(settings.database_url)
    slugs = []
    try:
        for path, tf in files:
            try:
                report = await sync_tenant(db, tf, actor="cli:tenants sync")
            except ApiError as exc:  # a prefix taken, a plugin change with tickets
                raise SystemExit(f"{path}: {exc.field}: {exc.message}") from exc
            slugs.append(tf.slug)
            if not quiet:
                state = "created" if report.created else "updated"
                print(f"{path}: tenant {tf.slug} {state}, {len(report.changes)} change(s)")
    finally:
        await db.dispose()
    return slugs


def _print_demo_logins(directory: Path, base: str) -> None:
    print(f"\nConsole (web, Chinese): {base}/   — log in with tenant code, username, password")
    print("Demo logins (console password; API token for 'Authorization: Bearer <token>'):")
    for _, tf in load_dir(directory):
        keyed = [u for u in tf.users if u.demo_key or u.demo_password]
        if not keyed:
            continue
        print(f"\n  tenant {tf.slug} — {tf.name} (plugin: {tf.plugin})")
        for u in keyed:
            print(
                f"    {u.username:<18} {','.join(u.roles):<18} "
                f"password {u.demo_password or '-':<22} token {u.demo_key or '-'}"
            )
    first = next(
        (u.demo_key for _, tf in load_dir(directory) for u in tf.users if u.demo_key), None
    )
    print(f"\nAPI docs: {base}/docs   health: {base}/health")
    if first:
        print(f"Try:  curl -H 'Authorization: Bearer {first}' {base}/api/me\n")


async def _create_user(
    settings: Settings, tenant: str | None, username: str, roles: list[str]
) -> None:
    db = Database(settings.database_url)
    try:
        async with db.cross_tenant() as session:  # operators belong to no tenant
            tid = None
            if tenant:
                tid = await session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
                if tid is None:
                    raise SystemExit(f"unknown tenant {tenant!r}")
            exists = await session.scalar(
                select(User).where(
                    User.tenant_id.is_(tid) if tid is None else User.tenant_id == tid,
                    User.username == username,
                )
            )
            if exists:
                raise SystemExit(f"user {username!r} already exists")
            session.add(User(tenant_id=tid, username=username, roles=sorted(set(roles))))
    finally:
        await db.dispose()
    print(f"user {username} created")


async def _issue_key(settings: Settings, tenant: str | None, username: str, label: str) -> None:
    db = Database(settings.database_url)
    token = new_token()
    try:
        async with db.cross_tenant() as session:
            user = await _find_user(session, tenant, username)
            session.add(ApiKey(user_id=user.id, key_hash=hash_token(token), label=label))
    finally:
        await db.dispose()
    print(token)


async def _revoke_keys(settings: Settings, tenant: str | None, username: str) -> None:
    db = Database(settings.database_url)
    try:
        async with db.cross_tenant() as session:
            user = await _find_user(session, tenant, username)
            keys = list(
                await session.scalars(
                    select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
                )
            )
            for key in keys:
                key.revoked_at = utcnow()
                forget(key.key_hash)
    finally:
        await db.dispose()
    print(f"revoked {len(keys)} key(s) of {username}")


def _read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a prompt (never an argument,
    which would sit in the shell history and the process list)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("new password: ")
    if getpass.getpass("repeat: ") != first:
        raise SystemExit("the two passwords differ")
    return first


async def _set_password(
    settings: Settings, tenant: str | None, username: str, password: str
) -> None:
    from core.people.passwords import check_policy
    from core.people.sessions import set_password

    check_policy(password)
    db = Database(settings.database_url)
    try:
        async with db.cross_tenant() as session:
            user = await _find_user(session, tenant, username)
        await set_password(db, user.id, password, "cli:users passwd")
    finally:
        await db.dispose()
    print(f"password of {username} set; their sessions end")


async def _find_user(session, tenant: str | None, username: str) -> User:  # type: ignore[no-untyped-def]
    q = select(User).where(User.username == username)
    if tenant:
        q = q.join(Tenant, Tenant.id == User.tenant_id).where(Tenant.slug == tenant)
    else:
        q = q.where(User.tenant_id.is_(None))
    user = await session.scalar(q)
    if user is None:
        raise SystemExit(f"no user {username!r} in {tenant or 'the platform'}")
    return user


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tousu", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)

    p_serve = sub.add_parser("serve", help="migrate, load tenants/, print demo logins, serve")
    p_serve.add_argument("--host", default=None)
    p_serve.add_argument("--port", type=int, default=None)
    p_serve.add_argument("--no-sync", action="store_true", help="do not load tenants/")

    sub.add_parser("migrate", help="apply database migrations")

    p_ten = sub.add_parser("tenants", help="tenant files")
    ten_sub = p_ten.add_subparsers(dest="tenants_cmd", required=True)
    p_sync = ten_sub.add_parser("sync", help="load/sync tenants/*.toml idempotently")
    p_sync.add_argument("directory", nargs="?", default=None)
    p_check = ten_sub.add_parser("check", help="validate tenant files without touching the db")
    p_check.add_argument("directory", nargs="?", default=None)

    p_users = sub.add_parser("users", help="users and API keys")
    users_sub = p_users.add_subparsers(dest="users_cmd", required=True)
    p_uc = users_sub.add_parser("create", help="create a user (no --tenant: platform operator)")
    p_uc.add_argument("username")
    p_uc.add_argument("--tenant")
    p_uc.add_argument("--role", action="append", dest="roles")
    p_key = users_sub.add_parser("key", help="issue a new API key and print it once")
    p_key.add_argument("username")
    p_key.add_argument("--tenant")
    p_key.add_argument("--label", default="cli")
    p_rev = users_sub.add_parser("revoke", help="revoke every API key of a user")
    p_rev.add_argument("username")
    p_rev.add_argument("--tenant")
    p_pw = users_sub.add_parser("passwd", help="set a user's console password (prompts)")
    p_pw.add_argument("username")
    p_pw.add_argument("--tenant")
    p_pw.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    p_hash = users_sub.add_parser(
        "hash-password", help="print an argon2 hash for a tenant file's password_hash"
    )
    p_hash.add_argument("--password-stdin", action="store_true")

    p_worker = sub.add_parser(
        "worker", help="run dramatiq workers (needs REDIS_URL): dramatiq core.tasks.worker"
    )
    p_worker.add_argument("--processes", type=int, default=2)
    p_worker.add_argument("--threads", type=int, default=4)
    sub.add_parser("scheduler", help="relay the outbox and enqueue deadline sweeps (REDIS_URL)")
    p_sweep = sub.add_parser("sweep", help="run one deadline sweep now, in this process")
    p_sweep.add_argument("--at", help="pretend it is this ISO time (testing, demos)")

    p_ledger = sub.add_parser("ledger", help="the monthly fine deduction run")
    ledger_sub = p_ledger.add_subparsers(dest="ledger_cmd", required=True)
    p_run = ledger_sub.add_parser("run", help="deduct a month's fines (idempotent)")
    p_run.add_argument("--tenant", required=True)
    p_run.add_argument("--period", required=True, help="YYYY-MM")

    p_reports = sub.add_parser("reports", help="monthly statistics, bulletin, exports, charts")
    reports_sub = p_reports.add_subparsers(dest="reports_cmd", required=True)
    p_pack = reports_sub.add_parser("pack", help="write the month's report pack to a folder")
    p_pack.add_argument("--tenant", required=True)
    p_pack.add_argument("--period", required=True, help="YYYY-MM")
    p_pack.add_argument("--out", required=True, help="folder to write into")

    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        if args.cmd == "migrate":
            _migrate(settings)
        elif args.cmd == "tenants":
            directory = Path(args.directory) if args.directory else settings.tenants_dir
            if args.tenants_cmd == "check":
                for path, tf in load_dir(directory):
                    print(f"{path}: ok ({tf.slug}, plugin {tf.plugin})")
            else:
                _migrate(settings)
                asyncio.run(_sync(settings, directory))
        elif args.cmd == "users":
            if args.users_cmd == "create":
                roles = args.roles or ([Role.PLATFORM_OPERATOR.value] if not args.tenant else [])
                if not roles:
                    raise SystemExit("give at least one --role")
                allowed = TENANT_ROLES if args.tenant else {Role.PLATFORM_OPERATOR.value}
                bad = sorted(set(roles) - set(allowed))
                if bad:
                    raise SystemExit(
                        f"role(s) {', '.join(bad)} not allowed here; choose from "
                        f"{', '.join(sorted(allowed))}"
                    )
                asyncio.run(_create_user(settings, args.tenant, args.username, roles))
            elif args.users_cmd == "key":
                asyncio.run(_issue_key(settings, args.tenant, args.username, args.label))
            elif args.users_cmd == "passwd":
                password = _read_password(args.password_stdin)
                asyncio.run(_set_password(settings, args.tenant, args.username, password))
            elif args.users_cmd == "hash-password":
                from core.people.passwords import hash_password

                print(hash_password(_read_password(args.password_stdin)))
            else:
                asyncio.run(_revoke_keys(settings, args.tenant, args.username))
        elif args.cmd == "serve":
            _serve(settings, args)
        elif args.cmd == "worker":
            _worker(settings, args)
        elif args.cmd == "scheduler":
            if not settings.redis_url:
                raise SystemExit(
                    "tousu scheduler needs REDIS_URL (without it, `tousu serve` "
                    "runs the relay and sweeps in-process)"
                )
            from core.tasks.runtime import run_scheduler

            run_scheduler(settings.database_url, settings.redis_url)
        elif args.cmd == "sweep":
            asyncio.run(_sweep(settings, args.at))
        elif args.cmd == "reports":
            asyncio.run(_reports_pack(settings, args.tenant, args.period, Path(args.out)))
        elif args.cmd == "ledger":
            asyncio.run(_ledger_run(settings, args.tenant, args.period))
    except TenantFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:
        where = f" ({exc.field}: {exc.rule})" if exc.field else ""
        print(f"error: {exc.message}{where}", file=sys.stderr)
        return 2
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> None:
    """Exec dramatiq's own command, as the README documents it."""
    import os

    if not settings.redis_url:
        raise SystemExit(
            "tousu worker needs REDIS_URL; without it `tousu serve` runs the "
            "actors on an in-process worker"
        )
    argv = [
        "dramatiq",
        "core.tasks.worker",
        "--processes",
        str(args.processes),
        "--threads",
        str(args.threads),
    ]
    os.execvp(argv[0], argv)


async def _sweep(settings: Settings, at: str | None) -> None:
    import datetime as dt

    from core.deadlines.sweep import sweep

    db = Database(settings.database_url)
    try:
        moment = dt.datetime.fromisoformat(at) if at else None
        if moment is not None and moment.tzinfo is None:
            raise SystemExit("--at needs a time zone, e.g. 2026-03-05T10:00+08:00")
        report = await sweep(db, moment)
    finally:
        await db.dispose()
    print(
        f"warned {report.warned}, breached {report.breached}, upgraded {report.upgraded}, "
        f"deferred {report.deferred}"
    )


async def _ledger_run(settings: Settings, tenant: str, period: str) -> None:
    from core.penalties.service import run_month

    db = Database(settings.database_url)
    try:
        async with db.cross_tenant() as session:  # resolve the slug, then scope to it
            tid = await session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
        if tid is None:
            raise SystemExit(f"unknown tenant {tenant!r}")
        async with db.tenant(tid) as scope:
            _, created = await run_month(scope, period, "cli:ledger run")
    finally:
        await db.dispose()
    print(f"{tenant} {period}: {'run' if created else 'already run; nothing changed'}")


async def _reports_pack(settings: Settings, tenant: str, period: str, out: Path) -> None:
    from core.reports.pack import write_pack

    db = Database(settings.database_url)
    try:
        paths = await write_pack(db, tenant, period, out)
    finally:
        await db.dispose()
    for path in paths:
        print(path)


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from core.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    _migrate(settings)
    if not args.no_sync and settings.tenants_dir.is_dir():
        asyncio.run(_sync(settings, settings.tenants_dir))
        _print_demo_logins(settings.tenants_dir, f"http://{host}:{port}")
    # Without Redis the actors, the outbox relay and the deadline sweep run in-process.
    background = settings.redis_url is None
    if background:
        print("Background work: in-process worker (no REDIS_URL set).")
    else:
        print("Background work: run `tousu scheduler` and `tousu worker` beside this server.")
    uvicorn.run(create_app(settings, background=background), host=host, port=port, log_level="info")


if __name__ == "__main__":
    raise SystemExit(main())
