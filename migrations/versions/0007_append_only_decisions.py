"""decided penalties, grades and fine versions are append-only; history refuses TRUNCATE

Revision ID: 0007_dbguard_append_only
Revises: 0006_dbguard_prefix

Issue 9 item 15. A correction is a new row: a decided penalty may only be marked superseded
(an overturned appeal re-derives it; nothing else of it changes), a grade may only be marked
superseded once, a fine setting never changes; none of them is ever deleted. On PostgreSQL
the history tables (and these) also refuse TRUNCATE, for every role (the app role has no
TRUNCATE privilege either, see core/db_security.py). SQLite keeps the same row triggers; it
has no TRUNCATE.
"""

from alembic import op

revision = "0007_dbguard_append_only"
down_revision = "0006_dbguard_prefix"
branch_labels = None
depends_on = None

NO_TRUNCATE = ("ticket_events", "audit_events", "fine_settings", "penalties", "ticket_grades")

PG_FUNCTIONS = [
    "CREATE OR REPLACE FUNCTION tousu_no_truncate() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME; END; $$ "
    "LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION tousu_penalty_append_only() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'penalties are never deleted'; END IF; "
    "IF OLD.status = 'proposed' THEN RETURN NEW; END IF; "
    "IF NEW.status = 'superseded' AND OLD.status <> 'superseded' "
    "AND (to_jsonb(NEW) - 'status') = (to_jsonb(OLD) - 'status') THEN RETURN NEW; END IF; "
    "RAISE EXCEPTION 'penalty % is %: a decided penalty is append-only (a correction is a "
    "new row)', OLD.id, OLD.status; END; $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION tousu_grade_append_only() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'grades are never deleted'; END IF; "
    "IF OLD.superseded_at IS NULL AND NEW.superseded_at IS NOT NULL "
    "AND (to_jsonb(NEW) - 'superseded_at') = (to_jsonb(OLD) - 'superseded_at') "
    "THEN RETURN NEW; END IF; "
    "RAISE EXCEPTION 'grade % is append-only (a regrading is a new row)', OLD.id; "
    "END; $$ LANGUAGE plpgsql",
]

# SQLite: the columns a decided penalty / a grade keeps when it is superseded.
PENALTY_KEPT = ("id", "tenant_id", "ticket_id", "grade_id", "staff_id", "department_id", "rule",
                "proposed_fen", "minimum_fen", "multiplier", "sanctions", "appraisal_points",
                "whole_month_pay", "reason", "amounts_at", "final_fen", "decided_by",
                "decided_at", "decision_reason", "created_at")  # fmt: skip
GRADE_KEPT = ("id", "tenant_id", "ticket_id", "staff_id", "grade", "capacity", "offence",
              "findings", "complainant_violation", "graded_by", "graded_at",
              "event_id")  # fmt: skip


def _same(columns: tuple[str, ...]) -> str:
    return " AND ".join(f"NEW.{c} IS OLD.{c}" for c in columns)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for sql in PG_FUNCTIONS:
            op.execute(sql)
        for table in NO_TRUNCATE:
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tousu_no_truncate()"
            )
        op.execute(
            "CREATE TRIGGER fine_settings_append_only BEFORE UPDATE OR DELETE ON fine_settings "
            "FOR EACH ROW EXECUTE FUNCTION tousu_append_only()"
        )
        op.execute(
            "CREATE TRIGGER penalties_append_only BEFORE UPDATE OR DELETE ON penalties "
            "FOR EACH ROW EXECUTE FUNCTION tousu_penalty_append_only()"
        )
        op.execute(
            "CREATE TRIGGER ticket_grades_append_only BEFORE UPDATE OR DELETE ON ticket_grades "
            "FOR EACH ROW EXECUTE FUNCTION tousu_grade_append_only()"
        )
        return
    for table in ("fine_settings", "penalties", "ticket_grades"):
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} are never deleted'); END"
        )
    op.execute(
        "CREATE TRIGGER fine_settings_no_update BEFORE UPDATE ON fine_settings "
        "BEGIN SELECT RAISE(ABORT, 'fine_settings is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER penalties_append_only BEFORE UPDATE ON penalties "
        "WHEN OLD.status <> 'proposed' AND NOT (NEW.status = 'superseded' "
        f"AND OLD.status <> 'superseded' AND {_same(PENALTY_KEPT)}) "
        "BEGIN SELECT RAISE(ABORT, 'a decided penalty is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER ticket_grades_append_only BEFORE UPDATE ON ticket_grades "
        "WHEN NOT (OLD.superseded_at IS NULL AND NEW.superseded_at IS NOT NULL "
        f"AND {_same(GRADE_KEPT)}) "
        "BEGIN SELECT RAISE(ABORT, 'ticket_grades is append-only'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in NO_TRUNCATE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS fine_settings_append_only ON fine_settings")
        op.execute("DROP TRIGGER IF EXISTS penalties_append_only ON penalties")
        op.execute("DROP TRIGGER IF EXISTS ticket_grades_append_only ON ticket_grades")
        op.execute("DROP FUNCTION IF EXISTS tousu_no_truncate()")
        op.execute("DROP FUNCTION IF EXISTS tousu_penalty_append_only()")
        op.execute("DROP FUNCTION IF EXISTS tousu_grade_append_only()")
        return
    for name in ("fine_settings_no_delete", "penalties_no_delete", "ticket_grades_no_delete",
                 "fine_settings_no_update", "penalties_append_only",
                 "ticket_grades_append_only"):  # fmt: skip
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
