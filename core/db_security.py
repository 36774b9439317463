"""The database defends itself (PostgreSQL): an app role, row-level security, grants.

Applied by :func:`core.migrate.upgrade` after the migrations, as the **owner** of the tables
(``TOUSU_MIGRATE_DATABASE_URL``, else ``DATABASE_URL``), every time: it is idempotent and it
reads the live schema, so a table a later migration adds is covered without extra code.

- The app runs as a role (``TOUSU_APP_ROLE``, default ``tousu_app``) that is not a superuser
  and owns nothing: ``SELECT, INSERT, UPDATE, DELETE`` on the tables, nothing else (no
  ``TRUNCATE``, no DDL, no ``session_replication_role``, which needs a superuser). History is
  insert-only for it: no ``UPDATE``/``DELETE`` on ``ticket_events`` and ``audit_events``,
  no ``UPDATE``/``DELETE`` on ``fine_settings`` (a change is a new version), no ``DELETE`` on
  ``penalties`` and ``ticket_grades`` (their triggers, migration ``0007``, refuse changing a
  decided penalty or a superseded grade for every role).
- Row-level security on every table with a ``tenant_id`` column, on ``tenants`` (its own
  row) and on ``api_keys`` (through its user): a row is visible and writable only when its
  ``tenant_id`` equals the transaction-local setting ``tousu.tenant_id``, which
  :class:`core.db.TenantScope` sets at the start of each transaction; with no setting a
  statement sees nothing. The platform door (``db.cross_tenant()``: authentication, tenant
  sync, the relay and sweep over every tenant) sets ``tousu.cross_tenant = 'on'`` for its
  transaction instead. The table owner is not subject to these policies (no ``FORCE``): it
  runs migrations only.

SQLite has no roles and no row-level security: there the application's tenant scope
(:mod:`core.db`) and the append-only triggers are the whole defence.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy.engine import Connection

log = logging.getLogger("tousu.db_security")

TENANT_SETTING = "tousu.tenant_id"
CROSS_SETTING = "tousu.cross_tenant"

INSERT_ONLY = (
    "ticket_events",
    "audit_events",
    "fine_settings",
    "auth_events",
    "ticket_attachments",
)
"""The app role may read and add rows, never change or remove them (an attachment is
evidence: a correction is another file)."""
NO_DELETE = ("penalties", "ticket_grades")
"""The app role never removes these (updates are limited by triggers, migration 0007)."""
PLATFORM_ONLY = ("web_sessions",)
"""Tables without a tenant column that only ``db.cross_tenant()`` reads and writes (the
console's server-side sessions, looked up by their id before any tenant is known)."""
PLATFORM_READ = ("official_calendar_days",)
"""Tables without a tenant column that every tenant reads and only ``db.cross_tenant()``
writes (the national working-day schedule the operator loads, issue 23 §6)."""
NOT_FOR_APP = ("alembic_version",)
"""Schema bookkeeping: the owner's only (the app may read it)."""

_TENANT = f"NULLIF(current_setting('{TENANT_SETTING}', true), '')::integer"
_CROSS = f"coalesce(current_setting('{CROSS_SETTING}', true), '') = 'on'"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def app_role() -> str:
    """The app's role name (``TOUSU_APP_ROLE`` of the settings in force,
    :func:`core.settings.current`), checked as a plain SQL identifier."""
    from core.settings import current  # TOUSU_APP_ROLE, checked there too

    role = current().app_role
    if not _IDENT.match(role):
        raise ValueError(f"TOUSU_APP_ROLE {role!r} is not a plain lower-case identifier")
    return role


def _tables(conn: Connection) -> list[tuple[str, bool]]:
    """(table, has tenant_id) for every base table of the public schema."""
    rows = conn.exec_driver_sql(
        "SELECT t.table_name, EXISTS (SELECT 1 FROM information_schema.columns c "
        "WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name "
        "AND c.column_name = 'tenant_id') "
        "FROM information_schema.tables t "
        "WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE' ORDER BY 1"
    ).all()
    return [(str(name), bool(scoped)) for name, scoped in rows]


def _policy(conn: Connection, table: str, condition: str) -> None:
    conn.exec_driver_sql(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    conn.exec_driver_sql(f'DROP POLICY IF EXISTS tousu_tenant ON "{table}"')
    conn.exec_driver_sql(
        f'CREATE POLICY tousu_tenant ON "{table}" USING ({condition}) WITH CHECK ({condition})'
    )


def secure(conn: Connection, role: str | None = None, login_users: tuple[str, ...] = ()) -> None:
    """Create the app role if missing, grant it what the app needs and nothing more, and put
    every tenant table under row-level security. ``login_users``: other roles the app logs
    in as (e.g. the user of ``DATABASE_URL``) are made members of the app role."""
    if conn.dialect.name != "postgresql":
        return
    role = role or app_role()
    owned = conn.exec_driver_sql(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
    ).scalar_one()
    if not owned:  # not the owner (e.g. the app role itself, with nothing to migrate)
        log.warning("database not secured: the migrating role owns no tables (run as the owner)")
        return
    conn.exec_driver_sql(
        "DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
        f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS; '
        "END IF; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "  # a parallel migrate
        "END $$"
    )
    for user in login_users:
        if _IDENT.match(user) and user != role:
            conn.exec_driver_sql(f'GRANT "{role}" TO "{user}"')
    # Database- and schema-level statements need their owner; where the migrating role is
    # not (a managed service), the defaults already fit (PostgreSQL 15+: no CREATE on public).
    conn.exec_driver_sql(
        "DO $$ BEGIN "
        f"EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO \"{role}\"', "
        "current_database()); "
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC; "
        "EXCEPTION WHEN insufficient_privilege THEN NULL; "
        "END $$"
    )
    conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    conn.exec_driver_sql(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
    conn.exec_driver_sql(
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'
    )
    conn.exec_driver_sql(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    tables = _tables(conn)
    names = {t for t, _ in tables}
    for table in INSERT_ONLY:
        if table in names:
            conn.exec_driver_sql(f'REVOKE UPDATE, DELETE ON "{table}" FROM "{role}"')
    for table in NO_DELETE:
        if table in names:
            conn.exec_driver_sql(f'REVOKE DELETE ON "{table}" FROM "{role}"')
    for table in NOT_FOR_APP:
        if table in names:
            conn.exec_driver_sql(f'REVOKE INSERT, UPDATE, DELETE ON "{table}" FROM "{role}"')
    for table, scoped in tables:
        if scoped:
            _policy(conn, table, f"tenant_id = {_TENANT} OR {_CROSS}")
    if "tenants" in names:
        _policy(conn, "tenants", f"id = {_TENANT} OR {_CROSS}")
    for table in PLATFORM_ONLY:
        if table in names:  # no tenant column: only the platform door reaches these rows
            _policy(conn, table, _CROSS)
    for table in PLATFORM_READ:
        if table in names:  # read by every tenant's calendar, written by the platform door
            _policy(conn, table, _CROSS)
            conn.exec_driver_sql(f'DROP POLICY IF EXISTS tousu_read ON "{table}"')
            conn.exec_driver_sql(f'CREATE POLICY tousu_read ON "{table}" FOR SELECT USING (true)')
    if "api_keys" in names:  # a key is visible with its user (the users policy applies)
        _policy(
            conn, "api_keys", f"EXISTS (SELECT 1 FROM users u WHERE u.id = user_id) OR {_CROSS}"
        )


__all__ = ["CROSS_SETTING", "TENANT_SETTING", "app_role", "secure"]
