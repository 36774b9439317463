"""The benchmark: tousu against a bare baseline, same run, interleaved; prints one table.

Run it as ``bench/run`` (``--quick`` for 100k tickets and short runs; ``--help``). It needs
PostgreSQL (``BENCH_PG``, default ``postgresql://postgres@127.0.0.1:5432``, trust auth),
Redis (``BENCH_REDIS``, default ``redis://127.0.0.1:6379``: the tousu PostgreSQL servers use
its highest empty database under a namespace of their own, as a deployment would) and
``wrk``; it creates a private database ``tousu_bench_<pid>``, seeds it with ``INSERT …
SELECT`` (never through the API), starts tousu and the bare app (``bench/bare_app.py``) on
free localhost ports, and drops everything at the end.

Cores: the servers are pinned to core 0, wrk and this script to core 1 (``taskset``);
PostgreSQL floats. The "2 processes" case gives the server both cores (wrk shares core 1).
On a shared machine absolute figures are noise; the **ratios**, tousu ÷ bare measured in
the same run, alternating tousu and bare round by round, are what count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "request.lua"
PY = sys.executable
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
SERVER_CORES, LOAD_CORES = "0", "1"
TENANT, SMALL = "greenwood", "citybus"
CLERK = "gw-clerk-demo-7521564b74"
CB_CLERK = "cb-clerk-demo-22d374f738"
APP_ROLE = os.environ.get("TOUSU_APP_ROLE", "tousu_app")
PERIOD = "2026-09"
SPAN = (dt.datetime(2025, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
CREATE_BODY = (
    '{"channel":"phone","description":"电梯维修后仍然停运","complainant":{"name":"张三",'
    '"contact":"13812345678","address":"3栋"},"accused_department":"engineering",'
    '"accused_staff":["GW-S001"]}'
)
TRIAGE_BODY = '{"version":1,"category":"lift","severity":"minor","facets":{"nature":"valid"}}'


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- processes


def _children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    return out + [g for c in out for g in _children(c)]


def _hwm_mb(pid: int) -> float:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Server:
    name: str
    app: str
    env: dict[str, str]
    cores: str = SERVER_CORES
    workers: int = 1
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    peak: dict[int, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, probe: str) -> None:
        self.port = free_port()
        cmd = ["taskset", "-c", self.cores, PY, "-m", "uvicorn", "--factory", self.app,
               "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
               "--no-access-log", "--log-level", "warning"]  # fmt: skip
        logf = open(Path(tempfile.gettempdir()) / f"bench-{os.getpid()}-{self.name}.log", "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **self.env},
                                     stdout=logf, stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited; see {logf.name}")
            try:
                urllib.request.urlopen(self.url + probe, timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{self.name} did not start; see {logf.name}")

    def sample_rss(self) -> None:
        if self.proc is None:
            return
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            self.peak[pid] = max(self.peak.get(pid, 0.0), _hwm_mb(pid))

    def worker_rss(self) -> float:
        """Peak RSS of the busiest process that served requests (MB)."""
        self.sample_rss()
        return max(self.peak.values(), default=0.0)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.sample_rss()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


# ---------------------------------------------------------------- wrk


@dataclass
class Load:
    rps: float
    requests: int
    errors: int
    p50_ms: float
    answered_badly: int = 0
    """Non-2xx/3xx answers alone (``errors`` adds wrk's socket errors and timeouts)."""


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def wrk(base: str, spec: dict[str, str], seconds: float, conns: int = 16) -> Load:
    env = {**os.environ, **spec}
    out = subprocess.run(
        ["taskset", "-c", LOAD_CORES, "wrk", "-t1", f"-c{conns}",
         f"-d{max(1, round(seconds))}s", "--latency",
         "-s", str(LUA), base],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    reqs = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    errors += sum(int(g) for g in sock.groups()) if sock else 0
    p50 = re.search(r"50%\s+(\S+)", out)
    return Load(rps, reqs, errors, _ms(p50.group(1)) if p50 else float("nan"),
                int(bad.group(1)) if bad else 0)  # fmt: skip


# ---------------------------------------------------------------- results


@dataclass
class Row:
    case: str
    tousu: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    unit: str = "req/s"
    errors: int = 0
    note: str = ""

    def ratio(self) -> str:
        if not self.tousu or not self.bare:
            return "—"
        pairs = zip(self.tousu, self.bare, strict=False)
        rs = [a / b if self.unit == "req/s" else b / a for a, b in pairs if a and b]
        if not rs:
            return "—"
        return f"**{min(rs):.2f}–{max(rs):.2f}**" if len(rs) > 1 else f"**{rs[0]:.2f}**"


def _fmt(values: list[float], unit: str) -> str:
    if not values:
        return "—"
    med = statistics.median(values)
    if unit == "req/s":
        return f"{med:,.0f} req/s"
    return f"{med * 1000:,.1f} ms" if med < 1 else f"{med:,.2f} s"


def table(rows: list[Row]) -> str:
    lines = ["| case | tousu (median) | bare (median) | ratio (per round) | errors | note |",
             "|---|---:|---:|---:|---:|---|"]  # fmt: skip
    for r in rows:
        lines.append(
            f"| {r.case} | {_fmt(r.tousu, r.unit)} | {_fmt(r.bare, r.unit)} | {r.ratio()} | "
            f"{r.errors} | {r.note} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- seeding (PostgreSQL)


class Seed:
    """Tickets, events and clocks written with INSERT … SELECT generate_series."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def ids(self) -> None:
        c = self.conn
        self.tid = await c.fetchval("SELECT id FROM tenants WHERE slug = $1", TENANT)
        self.small = await c.fetchval("SELECT id FROM tenants WHERE slug = $1", SMALL)
        self.clerk = await c.fetchval(
            "SELECT id FROM users WHERE tenant_id = $1 AND username = 'clerk'", self.tid
        )
        self.small_clerk = await c.fetchval(
            "SELECT id FROM users WHERE tenant_id = $1 AND username = 'clerk'", self.small
        )
        self.staff = await c.fetchval(
            "SELECT id FROM staff WHERE tenant_id = $1 AND code = 'GW-S001'", self.tid
        )
        self.depts = [r[0] for r in await c.fetch(
            "SELECT id FROM departments WHERE tenant_id = $1 ORDER BY id", self.tid)]  # fmt: skip
        self.small_depts = [r[0] for r in await c.fetch(
            "SELECT id FROM departments WHERE tenant_id = $1 ORDER BY id", self.small)]  # fmt: skip
        from core.plugins import hooks_for

        tax = hooks_for("property").taxonomy()
        self.cats = [x.code for x in tax.categories][:12]
        self.sevs = [x.code for x in tax.severities]
        self.serial = 0

    async def tickets(self, tenant: int, user: int, depts: list[int], n: int) -> None:
        """``n`` tickets spread over SPAN: 10% invalid, 30% closed (reply + follow-up
        events, a met resolution clock), the rest in progress with a running clock."""
        c = self.conn
        base = self.serial
        self.serial += n
        await c.execute(
            """
            INSERT INTO tickets (tenant_id, number, channel, complainant_name,
              complainant_contact, complainant_address, accused_department_id,
              assigned_department_id, event_place, description, demands, temper_note,
              category, severity, facets, facts, classification, valid, state, resolution,
              referred_to_inspection, redispatch_count, reopen_count, version, created_by,
              created_at, updated_at, closed_at)
            SELECT $1, 'S' || $2 || '-' || g, 'phone', '客户' || (g % 5000),
              '138' || lpad((g % 40000)::text, 8, '0'), '', d, d, '', '投诉内容 ' || g, '', '',
              ($4::text[])[1 + g % cardinality($4::text[])],
              ($5::text[])[1 + g % cardinality($5::text[])], '{"nature":"valid"}', '{}', '{}',
              g % 10 <> 0,
              CASE WHEN g % 10 = 0 OR g % 10 >= 7 THEN 'closed' ELSE 'in_progress' END,
              CASE WHEN g % 10 = 0 THEN 'invalid' WHEN g % 10 >= 7 THEN 'resolved' END,
              false, 0, 0, CASE WHEN g % 10 >= 7 THEN 3 ELSE 1 END, $6, at, at,
              CASE WHEN g % 10 = 0 OR g % 10 >= 7 THEN at + interval '3 days' END
            FROM (SELECT g, $7::timestamptz + random() * ($8::timestamptz - $7::timestamptz) AS at,
                         ($3::int[])[1 + g % cardinality($3::int[])] AS d
                  FROM generate_series($9::int, $10::int) AS g) s
            """,
            tenant, str(tenant), depts, self.cats, self.sevs, user, SPAN[0], SPAN[1],
            base + 1, base + n,
        )  # fmt: skip
        prefix = f"S{tenant}-"
        first = await c.fetchval(
            "SELECT id FROM tickets WHERE tenant_id = $1 AND number = $2",
            tenant, f"{prefix}{base + 1}",
        )  # fmt: skip
        last = await c.fetchval(
            "SELECT id FROM tickets WHERE tenant_id = $1 AND number = $2",
            tenant, f"{prefix}{base + n}",
        )  # fmt: skip
        await c.execute(
            """
            INSERT INTO ticket_events (tenant_id, ticket_id, seq, action, from_state, to_state,
              actor_user_id, actor_role, at, payload)
            SELECT t.tenant_id, t.id, v.seq, v.action, v.f, v.t, $4, 'clerk',
              t.created_at + v.after, '{}'
            FROM tickets t
            JOIN (VALUES (1, 'intake', NULL, 'received', interval '0'),
                         (2, 'reply', 'graded', 'replied', interval '2 days'),
                         (3, 'follow_up', 'replied', 'followed_up', interval '3 days'))
              AS v(seq, action, f, t, after) ON v.seq = 1 OR t.version = 3
            WHERE t.tenant_id = $1 AND t.id BETWEEN $2 AND $3
            """,
            tenant, first, last, user,
        )  # fmt: skip
        await c.execute(
            """
            INSERT INTO step_clocks (tenant_id, ticket_id, step, state, owner_department_id,
              started_at, amount, unit, source, due_at, warn_at, alarm_at, paused_seconds,
              ended_at)
            SELECT t.tenant_id, t.id, 'resolution',
              CASE WHEN t.state = 'closed' THEN 'met' ELSE 'running' END,
              t.assigned_department_id, t.created_at, 30, 'days', 'plugin',
              CASE WHEN t.state = 'closed' THEN t.created_at + interval '30 days'
                   ELSE timestamptz '2031-01-01' END,
              timestamptz '2030-12-01',
              CASE WHEN t.state = 'closed' THEN NULL ELSE timestamptz '2030-12-01' END, 0,
              t.closed_at
            FROM tickets t WHERE t.tenant_id = $1 AND t.id BETWEEN $2 AND $3
            """,
            tenant, first, last,
        )  # fmt: skip

    async def pool(self, n: int) -> tuple[int, int]:
        """``n`` fresh received tickets (contiguous ids) with their invalid_notice clocks,
        for transitions: each is triaged once."""
        c = self.conn
        base = self.serial
        self.serial += n
        now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        await c.execute(
            """
            INSERT INTO tickets (tenant_id, number, channel, complainant_name,
              complainant_contact, complainant_address, event_place, description, demands,
              temper_note, facets, facts, classification, state, referred_to_inspection,
              redispatch_count, reopen_count, version, created_by, created_at, updated_at)
            SELECT $1, 'P-' || g, 'phone', '王五', '13900000000', '', '', '待分类', '', '', '{}',
              '{}', '{}', 'received', false, 0, 0, 1, $2, $3, $3
            FROM generate_series($4::int, $5::int) AS g ORDER BY g
            """,
            self.tid, self.clerk, now, base + 1, base + n,
        )  # fmt: skip
        lo = await c.fetchval(
            "SELECT id FROM tickets WHERE tenant_id = $1 AND number = $2", self.tid, f"P-{base + 1}"
        )
        hi = await c.fetchval(
            "SELECT id FROM tickets WHERE tenant_id = $1 AND number = $2", self.tid, f"P-{base + n}"
        )
        assert hi - lo + 1 == n, "pool ids not contiguous"
        await c.execute(
            """
            INSERT INTO ticket_events (tenant_id, ticket_id, seq, action, from_state, to_state,
              actor_user_id, actor_role, at, payload)
            SELECT tenant_id, id, 1, 'intake', NULL, 'received', $4, 'clerk', created_at, '{}'
            FROM tickets WHERE tenant_id = $1 AND id BETWEEN $2 AND $3
            """,
            self.tid, lo, hi, self.clerk,
        )  # fmt: skip
        await c.execute(
            """
            INSERT INTO step_clocks (tenant_id, ticket_id, step, state, started_at, amount,
              unit, source, due_at, warn_at, alarm_at, paused_seconds)
            SELECT tenant_id, id, 'invalid_notice', 'running', created_at, 3, 'days', 'plugin',
              created_at + interval '3 days', created_at + interval '2 days',
              created_at + interval '2 days', 0
            FROM tickets WHERE tenant_id = $1 AND id BETWEEN $2 AND $3
            """,
            self.tid, lo, hi,
        )  # fmt: skip
        return lo, hi

    async def due_clocks(self, n: int = 1000) -> list[int]:
        """``n`` clocks already past due on open tickets (a first_contact step each)."""
        rows = await self.conn.fetch(
            """
            INSERT INTO step_clocks (tenant_id, ticket_id, step, state, owner_department_id,
              started_at, amount, unit, source, due_at, warn_at, alarm_at, warned_at,
              paused_seconds)
            SELECT tenant_id, id, 'first_contact', 'running', assigned_department_id,
              now() - interval '2 days', 1, 'days', 'plugin', now() - interval '1 hour',
              now() - interval '5 hours', now() - interval '1 hour', now() - interval '5 hours', 0
            FROM tickets WHERE tenant_id = $1 AND state = 'in_progress'
            ORDER BY id DESC LIMIT $2
            RETURNING id
            """,
            self.tid, n,
        )  # fmt: skip
        return [r[0] for r in rows]

    async def reset_due(self, ids: list[int]) -> None:
        c = self.conn
        await c.execute(
            "UPDATE step_clocks SET breached_at = NULL, alarm_at = due_at, state = 'running', "
            "ended_at = NULL WHERE id = ANY($1::int[])",
            ids,
        )
        await c.execute(
            "DELETE FROM notifications WHERE tenant_id = $1 AND kind = 'deadline_breached'",
            self.tid,
        )
        await c.execute(
            "DELETE FROM outbox WHERE tenant_id = $1 AND topic = 'deadline.breached'", self.tid
        )


BARE_SWEEP = """
WITH due AS (
  UPDATE step_clocks SET breached_at = $2, alarm_at = NULL
  WHERE tenant_id = $1 AND alarm_at <= $2 AND state = 'running' AND due_at <= $2
    AND breached_at IS NULL
  RETURNING id, ticket_id, step, due_at, owner_department_id
), a AS (
  INSERT INTO audit_events (tenant_id, at, actor, action, entity, entity_key, payload)
  SELECT $1, $2, 'system:sweep', 'deadline_breached', 'ticket', due.ticket_id::text,
    json_build_object('step', due.step) FROM due
), n AS (
  INSERT INTO notifications (tenant_id, user_id, ticket_id, kind, message, dedupe_key,
    created_at)
  SELECT $1, u.id, due.ticket_id, 'deadline_breached', 'step ' || due.step || ' overdue',
    'breach:' || due.id, $2
  FROM due JOIN users u ON u.tenant_id = $1 AND u.active
    AND (u.roles::text LIKE '%supervisor%' OR u.roles::text LIKE '%"manager"%'
         OR (u.roles::text LIKE '%department_head%' AND u.department_id = due.owner_department_id))
  ON CONFLICT DO NOTHING
), o AS (
  INSERT INTO outbox (tenant_id, topic, payload, dedupe_key, created_at, attempts, last_error)
  SELECT $1, 'deadline.breached', json_build_object('ticket_id', due.ticket_id, 'step', due.step),
    'breach:' || due.id, $2, 0, '' FROM due
  ON CONFLICT DO NOTHING
)
SELECT count(*) FROM due
"""

# The bare twins of the reports compute the same figures as tousu, by the same route: what
# a careful hand would write for them (and, since session 4, the same statements tousu
# runs, since the statement itself was what took the time). $1 tenant, $2/$3 the window.
BARE_STATS = (
    # totals, and counted / not counted by category, severity, channel, department, local
    # week and month: one scan
    """
    SELECT category, severity, channel, coalesce(accused_department_id, assigned_department_id),
      date_trunc('week', created_at AT TIME ZONE 'Asia/Shanghai'),
      date_trunc('month', created_at AT TIME ZONE 'Asia/Shanghai'),
      count(*), count(*) FILTER (WHERE coalesce(counts_as_complaint, valid, false)),
      count(*) FILTER (WHERE NOT coalesce(counts_as_complaint, valid, false)
                       AND communicative IS NULL AND valid IS false),
      count(*) FILTER (WHERE NOT coalesce(counts_as_complaint, valid, false)
                       AND communicative IS NULL AND valid IS NOT false
                       AND counts_as_complaint IS false),
      count(*) FILTER (WHERE NOT coalesce(counts_as_complaint, valid, false)
                       AND communicative IS NOT NULL)
    FROM tickets WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
    GROUP BY GROUPING SETS ((category), (severity), (channel),
      (coalesce(accused_department_id, assigned_department_id)),
      (date_trunc('week', created_at AT TIME ZONE 'Asia/Shanghai')),
      (date_trunc('month', created_at AT TIME ZONE 'Asia/Shanghai')), ())
    """,
    """
    SELECT a.staff_id, count(*) FILTER (WHERE coalesce(t.counts_as_complaint, t.valid, false)),
      count(*) FILTER (WHERE NOT coalesce(t.counts_as_complaint, t.valid, false))
    FROM tickets t JOIN ticket_accused_staff a ON a.ticket_id = t.id AND a.tenant_id = $1
    WHERE t.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3 GROUP BY a.staff_id
    """,
    """
    SELECT g.staff_id, g.grade,
      count(*) FILTER (WHERE coalesce(t.counts_as_complaint, t.valid, false)),
      count(*) FILTER (WHERE NOT coalesce(t.counts_as_complaint, t.valid, false))
    FROM tickets t JOIN ticket_grades g ON g.ticket_id = t.id AND g.tenant_id = $1
      AND g.superseded_at IS NULL
    WHERE t.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3
    GROUP BY GROUPING SETS ((g.grade), (g.staff_id, g.grade))
    """,
)

BULLETIN_CASES = """
SELECT count(*) FROM tickets t WHERE t.tenant_id = $1 AND t.id IN (
  SELECT ticket_id FROM ticket_events WHERE tenant_id = $1 AND action = 'grade'
    AND at >= $2 AND at < $3
  UNION
  SELECT id FROM tickets WHERE tenant_id = $1 AND state = 'closed' AND closed_at >= $2
    AND closed_at < $3 AND resolution IN ('resolved', 'unresolvable'))
"""

_COHORT = """t.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3
    AND coalesce(t.counts_as_complaint, t.valid, false)"""
BARE_KPIS = (
    # on time, per step: met / (met + missed + running past due)
    f"""
    SELECT sc.step, count(*) FILTER (WHERE sc.state = 'met'),
      count(*) FILTER (WHERE sc.state = 'missed' OR (sc.state = 'running' AND sc.due_at <= now()))
    FROM step_clocks sc JOIN tickets t ON t.id = sc.ticket_id
    WHERE sc.tenant_id = $1 AND {_COHORT}
      AND sc.step IN ('first_contact', 'reply', 'resolution')
    GROUP BY sc.step
    """,
    # complaints, one-time resolution
    f"""
    SELECT count(*), count(*) FILTER (WHERE t.state = 'closed'
        AND t.resolution IN ('resolved', 'explained') AND t.redispatch_count = 0
        AND t.reopen_count = 0),
      count(*) FILTER (WHERE t.state = 'closed')
    FROM tickets t WHERE {_COHORT}
    """,
    # follow-up rate, satisfaction and the tickets missing a follow-up: one pass over events
    f"""
    WITH pt AS (
      SELECT e.ticket_id, max(e.seq) FILTER (WHERE e.action = 'reply') AS last_reply,
        max(e.seq) FILTER (WHERE e.action <> 'reply') AS last_follow,
        max(e.at) FILTER (WHERE e.action = 'reply') AS last_reply_at,
        count(*) FILTER (WHERE e.action = 'follow_up') AS satisfied,
        count(*) FILTER (WHERE e.action <> 'reply') AS calls
      FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
      WHERE e.tenant_id = $1 AND {_COHORT}
        AND e.action IN ('reply', 'follow_up', 'follow_up_unsatisfied')
      GROUP BY e.ticket_id
    ), tot AS (
      SELECT count(*) FILTER (WHERE last_follow > last_reply) AS followed,
        count(last_reply) AS replied, sum(satisfied) AS satisfied, sum(calls) AS calls FROM pt
    )
    SELECT tot.*, m.* FROM tot LEFT JOIN (
      SELECT t.number, t.state, t.assigned_department_id, pt.last_reply_at
      FROM pt JOIN tickets t ON t.id = pt.ticket_id AND t.tenant_id = $1
      WHERE pt.last_reply IS NOT NULL
        AND (pt.last_follow IS NULL OR pt.last_follow <= pt.last_reply)) m ON true
    ORDER BY m.number
    """,
    # repeat complaints within 30 days: LAG by contact and by subject over the window and
    # the 30 days before it; totals on the first 1,000 listed
    """
    SELECT number, p_no, s_no, count(*) OVER (), count(p_no) OVER (), count(s_no) OVER ()
    FROM (
      SELECT number,
        CASE WHEN p_at IS NOT NULL AND created_at - p_at BETWEEN interval '0' AND interval '30 days'
             THEN p_no END AS p_no,
        CASE WHEN category IS NOT NULL AND accused_department_id IS NOT NULL AND s_at IS NOT NULL
              AND created_at - s_at BETWEEN interval '0' AND interval '30 days'
             THEN s_no END AS s_no,
        created_at
      FROM (
        SELECT number, created_at, category, accused_department_id,
          lag(created_at) OVER p AS p_at, lag(number) OVER p AS p_no,
          lag(created_at) OVER s AS s_at, lag(number) OVER s AS s_no
        FROM tickets
        WHERE tenant_id = $1 AND coalesce(counts_as_complaint, valid, false)
          AND created_at >= $2::timestamptz - interval '30 days' AND created_at < $3
        WINDOW p AS (PARTITION BY complainant_contact COLLATE "C" ORDER BY created_at, id),
               s AS (PARTITION BY category COLLATE "C", accused_department_id
                     ORDER BY created_at, id)
      ) l
      WHERE created_at >= $2
    ) r
    WHERE p_no IS NOT NULL OR s_no IS NOT NULL
    ORDER BY number LIMIT 1000
    """,
    # penalties by department
    """
    SELECT coalesce(p.department_id, s.department_id),
      count(*) FILTER (WHERE p.status IN ('confirmed', 'adjusted') AND p.decided_at >= $2
                       AND p.decided_at < $3),
      sum(p.final_fen) FILTER (WHERE p.status IN ('confirmed', 'adjusted')
                               AND p.decided_at >= $2 AND p.decided_at < $3),
      count(*) FILTER (WHERE p.status = 'waived' AND p.decided_at >= $2 AND p.decided_at < $3),
      count(*) FILTER (WHERE p.status = 'proposed' AND p.created_at >= $2 AND p.created_at < $3)
    FROM penalties p LEFT JOIN staff s ON s.id = p.staff_id
    WHERE p.tenant_id = $1 AND ((p.status IN ('confirmed', 'adjusted', 'waived')
        AND p.decided_at >= $2 AND p.decided_at < $3)
      OR (p.status = 'proposed' AND p.created_at >= $2 AND p.created_at < $3))
    GROUP BY 1
    """,
)


PROFILE_GROUPS = (
    ("SQLAlchemy ORM", "sqlalchemy/orm"), ("SQLAlchemy SQL compile", "sqlalchemy/sql"),
    ("SQLAlchemy engine", "sqlalchemy/engine"), ("greenlet bridge", "_concurrency"),
    ("asyncpg", "asyncpg"), ("aiosqlite", "aiosqlite"), ("Litestar", "litestar"),
    ("msgspec", "msgspec"), ("tousu core", "/core/"), ("plugins", "/plugins/"),
)  # fmt: skip


def profile_summary(path: Path) -> str:
    """Share of samples whose stack passes through each layer (a sample may count in
    several), from py-spy's raw (collapsed) stacks."""
    total, hits = 0, dict.fromkeys([g for g, _ in PROFILE_GROUPS], 0)
    with contextlib.suppress(OSError), open(path) as f:
        for line in f:
            stack, _, n = line.rstrip().rpartition(" ")
            if not n.isdigit():
                continue
            total += int(n)
            for group, needle in PROFILE_GROUPS:
                if needle in stack:
                    hits[group] += int(n)
    if not total:
        return "no samples"
    return f"{total} samples: " + ", ".join(
        f"{g} {100 * v / total:.0f}%" for g, v in sorted(hits.items(), key=lambda x: -x[1]) if v
    )


def _cursor(ticket_id: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"t:{ticket_id}".encode()).decode().rstrip("=")


def _get_json(url: str, token: str, timeout: float) -> float:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{url}: {resp.status}")
    return time.perf_counter() - t0


def free_redis_db(base: str = REDIS) -> int:
    """The highest-numbered empty database of the Redis at ``base`` (not 0, which others
    default to); the run's keys also carry a namespace of their own."""
    import redis

    client = redis.Redis.from_url(f"{base}/0")
    try:
        used = {int(k[2:]) for k in client.info("keyspace")}
        try:
            count = int(client.config_get("databases").get("databases", 16))
        except redis.RedisError:  # CONFIG may be disabled
            count = 16
    finally:
        client.close()
    free = [n for n in range(count - 1, 0, -1) if n not in used]
    if not free:
        raise SystemExit(f"no empty Redis database at {base}")
    return free[0]


def drop_redis_keys(url: str, namespace: str) -> None:
    import redis

    with contextlib.suppress(redis.RedisError):
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
        client.close()


# 1M-ticket cases (names as far as they are known before the run): the 900k extra tickets
# are seeded only when ``--only`` selects one of them.
ONE_M_CASES = (
    "statistics `/api/reports/stats` (1M tickets",
    "KPIs `/api/reports/kpis` (1M tickets",
    "bulletin, first page (JSON) `/api/reports/bulletin` (1M tickets",
    "bulletin, whole month (Markdown) `/api/reports/bulletin` (1M tickets",
    "sweep: 1,000 due among running clocks (1M)",
    "list 50, first page (1M)",
    "list 50, deep page (1M)",
    "list 50, small tenant beside the big one (1M)",
)
# The queue's lists (issue 20 §1) at 1M, beside the bare app's /queue twins.
QUEUE_CASES = (
    "queue: list 50 `sort=due`, first page (1M)",
    "queue: list 50 `sort=due&total=true` (1M)",
    "queue: list 50 `due=overdue` (1M)",
    "queue: list 50 `mine=true` (1M)",
)
ONE_M_CASES += QUEUE_CASES
SCALING_CASE = "create: 2 server processes ÷ 1 (both on cores 0–1, wrk shares core 1)"
SQLITE_CASE = "SQLite create (embedded default) vs bare aiosqlite"
PGBOUNCER_CASES = (
    "create through pgbouncer ÷ direct (transaction mode)",
    "list 50 through pgbouncer ÷ direct (transaction mode)",
)


@contextlib.contextmanager
def pgbouncer(tmp: Path, dsn: str) -> Any:
    """pgbouncer (transaction mode, pool 20) in front of the bench's PostgreSQL; yields its
    port. It runs as ``postgres`` when the bench runs as root (pgbouncer refuses root)."""
    from urllib.parse import urlparse

    target = urlparse(dsn)
    root = Path(tempfile.mkdtemp(prefix="tousu-bench-pgbouncer-"))
    root.chmod(0o755)
    port = free_port()
    (root / "users.txt").write_text(f'"postgres" ""\n"{APP_ROLE}" ""\n')
    ini = root / "pgbouncer.ini"
    ini.write_text(
        f"[databases]\n* = host={target.hostname} port={target.port or 5432}\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {root / 'users.txt'}\npool_mode = transaction\n"
        f"default_pool_size = 20\nmax_client_conn = 500\nlogfile = {root / 'log'}\n"
    )
    cmd = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(ini)]
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        for f in root.iterdir():
            shutil.chown(f, "postgres")
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.1)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------- the run


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[Row] = []
        self.dbname = f"tousu_bench_{os.getpid()}"
        self.tmp = Path(tempfile.mkdtemp(prefix="tousu-bench-"))
        self.servers: list[Server] = []
        self.started = time.monotonic()
        self.profiles: dict[str, str] = {}
        self.spied = self.tmp / "profile.txt"
        self.rss = self.rss_two = self.rss_sqlite = self.rss_bare = 0.0
        # A deployment on PostgreSQL runs Redis (the principal cache is on only with Redis
        # listening for revocations): the tousu PostgreSQL servers get a database and a
        # namespace of their own on the shared Redis.
        self.redis_ns = f"tousu_bench_{os.getpid()}"
        self.redis_url = ""

    def wanted(self, case: str) -> bool:
        """``--only``: the case's name contains one of the given substrings (any case)."""
        only = self.args.only or []
        return not only or any(s.lower() in case.lower() for s in only)

    @property
    def dsn(self) -> str:
        return f"{PG}/{self.dbname}"

    @property
    def app_dsn(self) -> str:
        """The same database as the app's login role (not a superuser: RLS applies)."""
        scheme, rest = PG.split("://", 1)
        host = rest.split("@", 1)[-1]
        return f"{scheme}://{APP_ROLE}@{host}/{self.dbname}"

    async def app_role(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(f"{PG}/postgres")
        try:
            row = await conn.fetchrow(
                "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", APP_ROLE
            )
            if row is None:
                await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER")
            elif not row["rolcanlogin"]:
                await conn.execute(f"ALTER ROLE {APP_ROLE} LOGIN")
        except asyncpg.PostgresError:
            pass  # created by a parallel run just now
        finally:
            await conn.close()

    @staticmethod
    async def settle(conn: Any) -> None:
        """VACUUM ANALYZE after seeding: statistics for the planner and the visibility map a
        database in service has from autovacuum (index-only scans read it), instead of
        whatever autovacuum happens to have reached in the seconds since the INSERTs."""
        for table in ("tickets", "ticket_events", "step_clocks"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        await conn.execute("ANALYZE")

    def sa_url(self, dsn: str) -> str:
        return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)

    def server(self, *a: Any, **kw: Any) -> Server:
        s = Server(*a, **kw)
        self.servers.append(s)
        return s

    def rounds(self, n: int | None = None) -> range:
        return range(n or self.args.rounds)

    # ---- hot paths ------------------------------------------------------------------

    def spy(self, case: str, srv: Server) -> subprocess.Popen[bytes] | None:
        """With ``--profile``: py-spy samples the tousu server through one run of each
        throughput case (its first round), raw stacks into a temporary file."""
        if not self.args.profile or case in self.profiles or srv.proc is None:
            return None
        exe = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
        self.spied = self.tmp / "profile.txt"
        return subprocess.Popen(
            [exe, "record", "--pid", str(srv.proc.pid), "--format", "raw", "--nonblocking",
             "-d", str(max(1, round(self.args.seconds))), "-o", str(self.spied)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def pair(self, case: str, tousu: Server, bare: Server, t_spec: dict[str, str],
             b_spec: dict[str, str], advance: Any = None, note: str = "") -> None:  # fmt: skip
        """Alternate tousu and bare for the configured rounds; ``advance`` re-seeds per-run
        ids (each transition pool ticket is used once)."""
        if not self.wanted(case):
            return
        row = Row(case, note=note)
        for _ in self.rounds():
            for which, srv, spec, out in (("tousu", tousu, t_spec, row.tousu),
                                          ("bare", bare, b_spec, row.bare)):  # fmt: skip
                if advance:
                    spec = {**spec, **advance(which)}
                spec = {**spec, "BENCH_RUN": f"{which}-{time.monotonic_ns()}"}
                spy = self.spy(case, srv) if which == "tousu" else None
                load = wrk(srv.url, spec, self.args.seconds)
                if spy is not None:
                    spy.wait()
                    self.profiles[case] = profile_summary(self.spied)
                time.sleep(0.5)  # let requests still in flight finish before the other side
                srv.sample_rss()
                out.append(load.rps)
                row.errors += load.errors if which == "tousu" else 0
                if load.errors and which == "bare":
                    row.note += f" bare errors {load.errors};"
        log(f"{case}: tousu {row.tousu} bare {row.bare} ratio {row.ratio()} errors {row.errors}")
        self.rows.append(row)

    async def hot_paths(self, seed: Seed, tousu: Server, bare: Server, size: str) -> None:
        tok = {"BENCH_TOKEN": CLERK}
        create = {"BENCH_METHOD": "POST", "BENCH_BODY": CREATE_BODY}
        self.pair("create `POST /api/tickets`", tousu, bare,
                  {**create, **tok, "BENCH_PATH": "/api/tickets"},
                  {**create, "BENCH_PATH": "/tickets"})  # fmt: skip
        self.pair("create with Idempotency-Key", tousu, bare,
                  {**create, **tok, "BENCH_PATH": "/api/tickets", "BENCH_IDEM": "1"},
                  {**create, "BENCH_PATH": "/tickets", "BENCH_IDEM": "1"})  # fmt: skip
        need = int(self.args.pool)

        cursor = {k: v[0] for k, v in self.pools.items()}
        per_run = need

        def advance(which: str) -> dict[str, str]:
            start = cursor[which]
            cursor[which] += per_run
            return {"BENCH_ID_START": str(start), "BENCH_ID_COUNT": str(per_run)}

        triage = {"BENCH_METHOD": "POST", "BENCH_BODY": TRIAGE_BODY}
        self.pair("transition `triage-valid`", tousu, bare,
                  {**triage, **tok, "BENCH_PATH": "/api/tickets/{id}/triage-valid"},
                  {**triage, "BENCH_PATH": "/tickets/{id}/triage-valid"}, advance,
                  note=f"each ticket once; pool {per_run} per run")  # fmt: skip
        lo, hi = await seed.conn.fetchrow(
            "SELECT min(id), max(id) FROM tickets WHERE tenant_id = $1", seed.tid
        )
        rand = {"BENCH_ID_MODE": "rand", "BENCH_ID_START": str(lo), "BENCH_ID_COUNT": str(hi - lo)}
        self.pair("GET one `GET /api/tickets/{id}`", tousu, bare,
                  {**rand, **tok, "BENCH_PATH": "/api/tickets/{id}"},
                  {**rand, "BENCH_PATH": "/tickets/{id}"})  # fmt: skip
        self.pair(f"list 50, first page ({size})", tousu, bare,
                  {**tok, "BENCH_PATH": "/api/tickets?limit=50"},
                  {"BENCH_PATH": "/tickets?limit=50"})  # fmt: skip
        deep = lo + (hi - lo) // 10
        self.pair(f"list 50, deep page ({size})", tousu, bare,
                  {**tok, "BENCH_PATH": f"/api/tickets?limit=50&cursor={_cursor(deep)}"},
                  {"BENCH_PATH": f"/tickets?limit=50&before={deep}"})  # fmt: skip
        self.pair(f"list 50, small tenant beside the big one ({size})", tousu, bare,
                  {"BENCH_TOKEN": CB_CLERK, "BENCH_PATH": "/api/tickets?limit=50"},
                  {"BENCH_PATH": f"/tickets?limit=50&tenant={seed.small}"})  # fmt: skip

    # ---- reports and sweep -----------------------------------------------------------

    async def reports(self, seed: Seed, tousu: Server, size: str) -> None:
        start = dt.datetime(2026, 9, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        end = dt.datetime(2026, 10, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        month = await seed.conn.fetchval(
            "SELECT count(*) FROM tickets WHERE tenant_id = $1 AND created_at >= $2 "
            "AND created_at < $3", seed.tid, start, end)  # fmt: skip
        cases = await seed.conn.fetchval(BULLETIN_CASES, seed.tid, start, end)
        for name, path, query, bare_sql, note in (
            ("statistics", "/api/reports/stats", "", BARE_STATS, ""),
            ("KPIs", "/api/reports/kpis", "", BARE_KPIS, ""),
            ("bulletin, first page (JSON)", "/api/reports/bulletin", "", None,
             f"no bare twin; 500 of the month's {cases:,} cases, as the API pages them"),
            ("bulletin, whole month (Markdown)", "/api/reports/bulletin", "&format=markdown",
             None, f"no bare twin; all {cases:,} cases in one document"),
        ):  # fmt: skip
            row = Row(f"{name} `{path}` ({size} tickets, {month:,} in the month)", unit="s")
            if not self.wanted(row.case):
                continue
            url = f"{tousu.url}{path}?period={PERIOD}{query}"
            for _ in self.rounds():
                try:
                    row.tousu.append(_get_json(url, CLERK, self.args.report_timeout))
                except Exception as exc:  # a timeout is the finding, not a crash
                    row.note = f"tousu: {type(exc).__name__} after {self.args.report_timeout}s"
                    row.errors += 1
                    break
                tousu.sample_rss()
                if bare_sql:
                    t0 = time.perf_counter()
                    for statement in bare_sql:
                        await seed.conn.fetch(statement, seed.tid, start, end)
                    row.bare.append(time.perf_counter() - t0)
            row.note = row.note or note
            log(f"{row.case}: {row.tousu} vs {row.bare}")
            self.rows.append(row)

    async def sweep(self, seed: Seed, size: str) -> None:
        from core.db import Database
        from core.jobs.sweep import sweep  # with the breach penalties, as deployed

        if not self.wanted(f"sweep: 1,000 due among running clocks ({size})"):
            return
        due = await seed.due_clocks(1000)
        running = await seed.conn.fetchval(
            "SELECT count(*) FROM step_clocks WHERE tenant_id = $1 AND state = 'running'", seed.tid
        )
        db = Database(self.sa_url(self.app_dsn))
        row = Row(f"sweep: 1,000 due among {running:,} running clocks ({size})", unit="s")
        try:
            # One untimed round first, as the servers get warm-up requests: the first sweep
            # of a process imports and loads the plugins and fills SQLAlchemy's caches.
            await sweep(db, dt.datetime.now(dt.UTC))
            await seed.reset_due(due)
            for _ in self.rounds():
                at = dt.datetime.now(dt.UTC)
                t0 = time.perf_counter()
                report = await sweep(db, at)
                row.tousu.append(time.perf_counter() - t0)
                if report.breached != len(due):
                    row.note = f"tousu breached {report.breached}, expected {len(due)}"
                await seed.reset_due(due)
                t0 = time.perf_counter()
                n = await seed.conn.fetchval(BARE_SWEEP, seed.tid, at)
                row.bare.append(time.perf_counter() - t0)
                assert n == len(due), n
                await seed.reset_due(due)
        finally:
            await db.dispose()
            await seed.conn.execute(
                "UPDATE step_clocks SET state = 'cancelled', alarm_at = NULL, breached_at = NULL "
                "WHERE id = ANY($1::int[])", due)  # fmt: skip
        log(f"{row.case}: {row.tousu} vs {row.bare}")
        self.rows.append(row)

    async def queue_cases(self, seed: Seed, tousu: Server, bare: Server) -> None:
        """The queue's lists at 1M (issue 20 §1). The seed's open clocks all fall due on the
        same day in 2031; first they are spread over ~70 days from a day ago (≈1.4% of the
        open tickets overdue, ≈1.4% due within 24 h), and the clerk is given every 50th
        ticket (≈20k, "mine")."""
        if not any(self.wanted(c) for c in QUEUE_CASES):
            return
        c = seed.conn
        t0 = time.monotonic()
        await c.execute(
            "UPDATE step_clocks SET due_at = now() - interval '1 day'"
            " + ((ticket_id::bigint * 7919) % 100000) * interval '1 minute'"
            " WHERE tenant_id = $1 AND ended_at IS NULL AND state = 'running'",
            seed.tid)  # fmt: skip
        await c.execute(
            "UPDATE tickets SET owner_user_id = $2 WHERE tenant_id = $1 AND id % 50 = 0",
            seed.tid, seed.clerk)  # fmt: skip
        await self.settle(c)
        overdue = await c.fetchval(
            "SELECT count(DISTINCT ticket_id) FROM step_clocks WHERE tenant_id = $1"
            " AND ended_at IS NULL AND state = 'running' AND due_at < now()", seed.tid)  # fmt: skip
        mine = await c.fetchval(
            "SELECT count(*) FROM tickets WHERE tenant_id = $1 AND owner_user_id = $2",
            seed.tid, seed.clerk)  # fmt: skip
        log(f"queue seed: {overdue} overdue, {mine} the clerk's, {time.monotonic() - t0:.1f}s")
        tok = {"BENCH_TOKEN": CLERK}
        api = "/api/tickets?limit=50&"
        for case, query, kind, note in (
            (QUEUE_CASES[0], "sort=due", "kind=due", ""),
            (QUEUE_CASES[1], "sort=due&total=true", "kind=due&total=true", ""),
            (QUEUE_CASES[2], "due=overdue", "kind=overdue", f"{overdue:,} overdue tickets"),
            (QUEUE_CASES[3], "mine=true", "kind=mine", f"{mine:,} tickets the clerk's"),
        ):
            self.pair(case, tousu, bare, {**tok, "BENCH_PATH": api + query},
                      {"BENCH_PATH": f"/queue?limit=50&{kind}"}, note=note)  # fmt: skip

    # ---- processes -------------------------------------------------------------------

    def scaling(self, env: dict[str, str]) -> None:
        if not self.wanted(SCALING_CASE):
            return
        one = self.server("tousu-1p", "core.app:create_app", env, cores="0,1", workers=1)
        two = self.server("tousu-2p", "core.app:create_app", env, cores="0,1", workers=2)
        one.start("/health")
        two.start("/health")
        try:
            create = {"BENCH_METHOD": "POST", "BENCH_BODY": CREATE_BODY, "BENCH_TOKEN": CLERK,
                      "BENCH_PATH": "/api/tickets"}  # fmt: skip
            for srv in (one, two):  # first requests import and load plugins
                wrk(srv.url, create, 2)
            row = Row(SCALING_CASE, note="ratio = 2 processes ÷ 1")
            for _ in self.rounds():
                row.bare.append(wrk(one.url, create, self.args.seconds).rps)
                row.tousu.append(wrk(two.url, create, self.args.seconds).rps)
            log(f"{row.case}: {row.tousu} vs {row.bare}")
            self.rows.append(row)
            two.sample_rss()
            self.rss_two = (
                max(two.peak.get(p, 0.0) for p in _children(two.proc.pid)) if two.proc else 0.0
            )  # type: ignore[union-attr]
        finally:
            one.stop()
            two.stop()

    def pgbouncer_cases(self, env: dict[str, str]) -> None:
        """tousu direct and tousu through pgbouncer (transaction mode, TOUSU_DB_POOLER),
        alternating round by round: ratio = through pgbouncer ÷ direct."""
        if not any(self.wanted(c) for c in PGBOUNCER_CASES):
            return
        with pgbouncer(self.tmp, self.dsn) as port:
            pooled_url = self.sa_url(self.app_dsn).replace(
                self.app_dsn.split("@", 1)[1].split("/", 1)[0], f"127.0.0.1:{port}"
            )
            direct = self.server("tousu-direct", "core.app:create_app", env)
            pooled = self.server("tousu-pgbouncer", "core.app:create_app",
                                 {**env, "DATABASE_URL": pooled_url,
                                  "TOUSU_DB_POOLER": "transaction"})  # fmt: skip
            direct.start("/health")
            pooled.start("/health")
            try:
                specs = {
                    PGBOUNCER_CASES[0]: {"BENCH_METHOD": "POST", "BENCH_BODY": CREATE_BODY,
                                         "BENCH_TOKEN": CLERK, "BENCH_PATH": "/api/tickets"},
                    PGBOUNCER_CASES[1]: {"BENCH_TOKEN": CLERK,
                                         "BENCH_PATH": "/api/tickets?limit=50"},
                }  # fmt: skip
                for case, spec in specs.items():
                    if not self.wanted(case):
                        continue
                    for srv in (direct, pooled):
                        wrk(srv.url, spec, 2)  # warm: imports, plugins, pools
                    row = Row(case, note="ratio = through pgbouncer ÷ direct")
                    timeouts = 0
                    for _ in self.rounds():
                        d = wrk(direct.url, spec, self.args.seconds)
                        b = wrk(pooled.url, spec, self.args.seconds)
                        row.bare.append(d.rps)
                        row.tousu.append(b.rps)
                        row.errors += b.answered_badly + d.answered_badly  # answers, not wrk's
                        timeouts += (b.errors - b.answered_badly) + (d.errors - d.answered_badly)
                    if timeouts:
                        row.note += f"; wrk socket errors/timeouts (2 s) {timeouts}"
                    log(f"{case}: pgbouncer {row.tousu} direct {row.bare} errors {row.errors}")
                    self.rows.append(row)
            finally:
                direct.stop()
                pooled.stop()

    def sqlite_case(self) -> None:
        if not self.wanted(SQLITE_CASE):
            return
        db = self.tmp / "tousu.db"
        env = {
            "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "TOUSU_TENANTS_DIR": str(ROOT / "tenants"),
        }
        subprocess.run([PY, "-m", "core.cli", "tenants", "sync"], cwd=ROOT,
                       env={**os.environ, **env},
                       check=True, capture_output=True)  # fmt: skip
        bare_db = self.tmp / "bare.db"
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            tid = conn.execute("SELECT id FROM tenants WHERE slug = ?", (TENANT,)).fetchone()[0]
            uid = conn.execute("SELECT id FROM users WHERE tenant_id = ? AND username = 'clerk'",
                               (tid,)).fetchone()[0]  # fmt: skip
            sid = conn.execute("SELECT id FROM staff WHERE tenant_id = ? AND code = 'GW-S001'",
                               (tid,)).fetchone()[0]  # fmt: skip
        shutil.copy(db, bare_db)
        tousu = self.server("tousu-sqlite", "core.app:create_app", env)
        bare = self.server("bare-sqlite", "bench.bare_app:create_app",
                           {"BARE_DSN": str(bare_db), "BARE_TENANT": str(tid),
                            "BARE_USER": str(uid), "BARE_STAFF": str(sid)})  # fmt: skip
        tousu.start("/health")
        bare.start("/tickets/1")
        try:
            create = {"BENCH_METHOD": "POST", "BENCH_BODY": CREATE_BODY}
            self.pair(SQLITE_CASE, tousu, bare,
                      {**create, "BENCH_TOKEN": CLERK, "BENCH_PATH": "/api/tickets"},
                      {**create, "BENCH_PATH": "/tickets"})  # fmt: skip
            self.rss_sqlite = tousu.worker_rss()
        finally:
            tousu.stop()
            bare.stop()

    # ---- main ------------------------------------------------------------------------

    async def run(self) -> str:
        import asyncpg

        admin = await asyncpg.connect(f"{PG}/postgres")
        await admin.execute(f'CREATE DATABASE "{self.dbname}"')
        try:
            return await self._run()
        finally:
            for s in self.servers:
                s.stop()
            if not self.args.keep:
                await admin.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
            else:
                log(f"kept database {self.dbname} ({self.dsn})")
            if self.redis_url:
                drop_redis_keys(self.redis_url, self.redis_ns)
            await admin.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    async def _run(self) -> str:
        import asyncpg

        owner = {"DATABASE_URL": self.sa_url(self.dsn), "TOUSU_TENANTS_DIR": str(ROOT / "tenants")}
        log(f"database {self.dbname}: migrate and load tenants/")
        subprocess.run([PY, "-m", "core.cli", "tenants", "sync"], cwd=ROOT,  # noqa: ASYNC221
                       env={**os.environ, **owner}, check=True, capture_output=True)  # fmt: skip
        # tousu serves as its app role, as deployed: row-level security on
        # (docs/database-security.md)
        await self.app_role()
        self.redis_url = f"{REDIS}/{free_redis_db()}"
        env = {**owner, "DATABASE_URL": self.sa_url(self.app_dsn), "REDIS_URL": self.redis_url,
               "TOUSU_REDIS_NAMESPACE": self.redis_ns}  # fmt: skip
        log(f"tousu servers use {self.redis_url}, namespace {self.redis_ns}")
        # The bare statements run with the server settings tousu's engine uses (JIT off:
        # core.db.make_engine), so both sides run the same SQL the same way.
        conn = await asyncpg.connect(self.dsn, server_settings={"jit": "off"})
        seed = Seed(conn)
        await seed.ids()
        t0 = time.monotonic()
        await seed.tickets(seed.small, seed.small_clerk, seed.small_depts, 2000)
        await seed.tickets(seed.tid, seed.clerk, seed.depts, 100_000)
        # transition pools first: nothing else writes tickets now, so their ids are contiguous
        self.pools = {w: await seed.pool(self.args.pool * self.args.rounds)
                      for w in ("tousu", "bare")}  # fmt: skip
        await self.settle(conn)
        log(f"seeded 100k in {time.monotonic() - t0:.1f}s")

        tousu = self.server("tousu", "core.app:create_app", env)
        bare = self.server("bare", "bench.bare_app:create_app",
                           {"BARE_DSN": self.dsn, "BARE_TENANT": str(seed.tid),
                            "BARE_USER": str(seed.clerk),
                            "BARE_STAFF": str(seed.staff)})  # fmt: skip
        await conn.execute(
            "INSERT INTO counters (tenant_id, name, value) VALUES ($1, $2, 0) "
            "ON CONFLICT DO NOTHING", seed.tid, f"bare-{dt.datetime.now(dt.UTC).year}")  # fmt: skip
        tousu.start("/health")
        bare.start("/tickets/1")
        warm = {"BENCH_TOKEN": CLERK, "BENCH_PATH": "/api/tickets?limit=50"}
        wrk(tousu.url, warm, 2)
        wrk(bare.url, {"BENCH_PATH": "/tickets?limit=50"}, 2)

        await self.hot_paths(seed, tousu, bare, "100k")
        await self.reports(seed, tousu, "100k")
        await self.sweep(seed, "100k")
        self.rss = tousu.worker_rss()
        self.rss_bare = bare.worker_rss()
        tousu.stop()
        bare.stop()

        self.scaling(env)
        self.pgbouncer_cases(env)
        self.sqlite_case()

        if not self.args.quick and any(self.wanted(c) for c in ONE_M_CASES):
            t0 = time.monotonic()
            for _ in range(9):
                await seed.tickets(seed.tid, seed.clerk, seed.depts, 100_000)
            await self.settle(conn)
            log(f"seeded to 1M in {time.monotonic() - t0:.1f}s")
            tousu.start("/health")
            try:
                await self.reports(seed, tousu, "1M")
                await self.sweep(seed, "1M")
                bare.start("/tickets/1")
                lo = await conn.fetchval(
                    "SELECT min(id) FROM tickets WHERE tenant_id = $1", seed.tid
                )
                deep = lo + 50_000
                tok = {"BENCH_TOKEN": CLERK}
                self.pair("list 50, first page (1M)", tousu, bare,
                          {**tok, "BENCH_PATH": "/api/tickets?limit=50"},
                          {"BENCH_PATH": "/tickets?limit=50"})  # fmt: skip
                self.pair("list 50, deep page (1M)", tousu, bare,
                          {**tok, "BENCH_PATH": f"/api/tickets?limit=50&cursor={_cursor(deep)}"},
                          {"BENCH_PATH": f"/tickets?limit=50&before={deep}"})  # fmt: skip
                self.pair("list 50, small tenant beside the big one (1M)", tousu, bare,
                          {"BENCH_TOKEN": CB_CLERK, "BENCH_PATH": "/api/tickets?limit=50"},
                          {"BENCH_PATH": f"/tickets?limit=50&tenant={seed.small}"})  # fmt: skip
                await self.queue_cases(seed, tousu, bare)
                self.rss = max(self.rss, tousu.worker_rss())
            finally:
                tousu.stop()
                bare.stop()
        await conn.close()

        rss = Row("peak RSS per server process", unit="MB", note=(
            f"tousu PostgreSQL {self.rss:.0f} MB, 2-process workers {self.rss_two:.0f} MB each, "
            f"SQLite {self.rss_sqlite:.0f} MB; bare {self.rss_bare:.0f} MB"))  # fmt: skip
        self.rows.append(rss)
        took = time.monotonic() - self.started
        head = (
            f"tousu bench — {'quick' if self.args.quick else 'full'} run, "
            f"{self.args.rounds} rounds × {self.args.seconds}s per side, wrk -t1 -c16, "
            f"server on core {SERVER_CORES}, wrk on core {LOAD_CORES}; took {took / 60:.1f} min"
        )
        prof = "".join(f"- {case}: {text}\n" for case, text in self.profiles.items())
        prof = f"\npy-spy, tousu server, first round of each case:\n\n{prof}" if prof else ""
        return f"{head}\n\n{table(self.rows)}\n{prof}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--quick", action="store_true", help="100k tickets only, short runs")
    p.add_argument("--seconds", type=float, default=None, help="wrk duration per run")
    p.add_argument("--rounds", type=int, default=None, help="tousu/bare alternations per case")
    p.add_argument("--pool", type=int, default=None, help="transition tickets per run")
    p.add_argument("--report-timeout", type=float, default=60.0, dest="report_timeout")
    p.add_argument("--keep", action="store_true", help="keep the database")
    p.add_argument("--only", action="append", metavar="SUBSTRING",
                   help="run only the cases whose name contains it (any case; repeatable); "
                        "the 1M tickets are seeded only for a selected 1M case")  # fmt: skip
    p.add_argument("--profile", action="store_true",
                   help="sample the tousu server with py-spy (pip install py-spy)")  # fmt: skip
    p.add_argument("--out", type=Path, help="also write the table to this file")
    args = p.parse_args(argv)
    args.seconds = args.seconds or (3.0 if args.quick else 6.0)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.pool = args.pool or int(1500 * args.seconds)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {int(LOAD_CORES)})
    sys.path.insert(0, str(ROOT))
    out = asyncio.run(Bench(args).run())
    print(out)
    if args.out:
        args.out.write_text(out, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
