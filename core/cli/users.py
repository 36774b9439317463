"""``tousu users create|key|revoke|passwd|hash-password``: people, API keys, passwords."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from core.cli import base
from core.people.roles import TENANT_ROLES, Role

app = typer.Typer(help="Users and their API keys.", no_args_is_help=True)

Username = Annotated[
    str,
    typer.Argument(help="The user's login name.", show_default=False, callback=base.check_username),
]
TenantOpt = Annotated[
    str | None,
    typer.Option(
        "--tenant",
        help="Tenant slug; leave out for a platform operator.",
        show_default=False,
        callback=base.check_slug,
    ),
]

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from one line of stdin.")
]


@app.command("create")
def create(
    username: Username,
    tenant: TenantOpt = None,
    role: Annotated[
        list[Role] | None,
        typer.Option(
            "--role",
            help="A role of the user (repeat for several). Tenant users need at least one; "
            "without --tenant the user is a platform_operator.",
            show_default=False,
            case_sensitive=False,
        ),
    ] = None,
) -> None:
    """Create a user: a tenant's staff user (--tenant, --role) or a platform operator."""
    roles = [r.value for r in role or []] or ([Role.PLATFORM_OPERATOR.value] if not tenant else [])
    if not roles:
        raise base.usage("give at least one --role for a tenant user")
    allowed = TENANT_ROLES if tenant else {Role.PLATFORM_OPERATOR.value}
    bad = sorted(set(roles) - set(allowed))
    if bad:
        raise base.usage(
            f"role(s) {', '.join(bad)} not allowed "
            f"{'for a tenant user' if tenant else 'without --tenant'}; choose from "
            f"{', '.join(sorted(allowed))}"
        )
    base.run(_create_user(tenant, username, roles))
    typer.echo(f"user {username} created")


@app.command("key")
def key(
    username: Username,
    tenant: TenantOpt = None,
    label: Annotated[
        str, typer.Option(help="A note stored with the key.", callback=base.check_label)
    ] = "cli",
) -> None:
    """Issue a new API key and print it once (only its hash is stored)."""
    typer.echo(base.run(_issue_key(tenant, username, label)))


@app.command("revoke")
def revoke(username: Username, tenant: TenantOpt = None) -> None:
    """Revoke every API key of a user; running servers stop accepting them at once."""
    count = base.run(_revoke_keys(tenant, username))
    typer.echo(f"revoked {count} key(s) of {username}")


@app.command("passwd")
def passwd(
    username: Username,
    tenant: TenantOpt = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's console password (prompts twice); the user's sessions end."""
    from core.people.passwords import check_policy

    password = _read_password(password_stdin)
    check_policy(password)
    base.run(_set_password(tenant, username, password))
    typer.echo(f"password of {username} set; their sessions end")


@app.command("hash-password")
def hash_password(
    password_stdin: PasswordStdin = False,
) -> None:
    """Print an argon2 hash for a tenant file's password_hash."""
    from core.people.passwords import hash_password as hash_it

    typer.echo(hash_it(_read_password(password_stdin)))


def _read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a prompt (never an argument,
    which would sit in the shell history and the process list)."""
    if from_stdin:
        import sys

        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("new password: ")
    if getpass.getpass("repeat: ") != first:
        raise base.usage("the two passwords differ")
    return first


async def _set_password(tenant: str | None, username: str, password: str) -> None:
    from core.people.sessions import set_password

    async with base.database() as db:
        async with db.cross_tenant() as session:
            user = await _find_user(session, tenant, username)
        await set_password(db, user.id, password, "cli:users passwd")


async def _create_user(tenant: str | None, username: str, roles: list[str]) -> None:
    from sqlalchemy import select

    from core.people.models import Tenant, User

    async with base.database() as db:
        async with db.cross_tenant() as session:  # operators belong to no tenant
            tid = None
            if tenant:
                tid = await session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
                if tid is None:
                    raise base.usage(f"unknown tenant {tenant!r}")
            exists = await session.scalar(
                select(User).where(
                    User.tenant_id.is_(tid) if tid is None else User.tenant_id == tid,
                    User.username == username,
                )
            )
            if exists:
                raise base.failure(f"user {username!r} already exists")
            session.add(User(tenant_id=tid, username=username, roles=sorted(set(roles))))


async def _issue_key(tenant: str | None, username: str, label: str) -> str:
    from core.people.auth import hash_token, new_token
    from core.people.models import ApiKey

    token = new_token()
    async with base.database() as db, db.cross_tenant() as session:
        user = await _find_user(session, tenant, username)
        session.add(ApiKey(user_id=user.id, key_hash=hash_token(token), label=label))
    return token


async def _revoke_keys(tenant: str | None, username: str) -> int:
    from core.people.auth import revoke_keys

    async with base.database() as db:
        async with db.cross_tenant() as session:
            user = await _find_user(session, tenant, username)
        return await revoke_keys(db, user.id)


async def _find_user(session: Any, tenant: str | None, username: str) -> Any:
    from sqlalchemy import select

    from core.people.models import Tenant, User

    q = select(User).where(User.username == username)
    if tenant:
        q = q.join(Tenant, Tenant.id == User.tenant_id).where(Tenant.slug == tenant)
    else:
        q = q.where(User.tenant_id.is_(None))
    user = await session.scalar(q)
    if user is None:
        raise base.usage(f"no user {username!r} in {tenant or 'the platform'}")
    return user
