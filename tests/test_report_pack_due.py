"""The month's report pack is due by the 30th, reminded, and its issue recorded on time or not.

[000 §篇1 4(4)7] "在每月30日前对投诉事件进行统计、分析,将统计、分析结果上呈主管经理": due by the
end of the 30th of the same month (February: its last day), in the tenant's zone (domain §8).
greenwood's months of 2041 are this file's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import cst, run_db

from core import clock
from core.cli import main
from core.db import Database
from core.reports.issues import remind
from core.reports.pack import write_pack

TENANT = "greenwood"


def issue(api: Any, period: str, user: str = "supervisor") -> Any:
    return api.get(TENANT, user, "/api/reports/pack-issue", params={"period": period})


def reminders(api: Any, user: str, kind: str) -> list[dict[str, Any]]:
    r = api.get(TENANT, user, "/api/notifications")
    assert r.status_code == 200, r.text
    return [n for n in r.json() if n["kind"] == kind and "2041-02" in n["message"]]


def test_february_pack_due_on_the_28th_reminded_once_and_issued_on_time(api, tmp_path: Path):
    """2041-02 is due at the end of 28 February (Shanghai) = 16:00 UTC; three days before,
    the reminder reaches the supervisor and the manager once (a second run adds nothing, the
    clerk gets none); the pack written on the 27th is recorded on time, and writing it again
    keeps the first record."""
    clock.travel_to(cst(2041, 2, 20, 10, 0))
    r = issue(api, "2041-02", user="clerk")
    assert r.status_code == 403, r.text
    r = issue(api, "2041-02")
    assert r.status_code == 200, r.text
    assert r.json() == {"period": "2041-02", "due_at": "2041-02-28T16:00:00Z",
                        "issued_at": None, "issued_by": None, "on_time": None}  # fmt: skip

    # earlier months never issued are reminded as overdue (issue 23 §2), not this one yet
    run_db(api, lambda db: remind(db, cst(2041, 2, 24, 9, 0)))
    assert run_db(api, lambda db: remind(db, cst(2041, 2, 24, 9, 0))) == 0
    assert reminders(api, "supervisor", "report_pack_due") == []  # not yet within 3 days
    clock.travel_to(cst(2041, 2, 26, 9, 0))
    assert run_db(api, lambda db: remind(db)) > 0
    assert run_db(api, lambda db: remind(db)) == 0
    for user in ("supervisor", "manager"):
        (note,) = reminders(api, user, "report_pack_due")
        assert "2041-02-28 23:59" in note["message"] and "4(4)7" in note["message"]
    assert reminders(api, "clerk", "report_pack_due") == []

    clock.travel_to(cst(2041, 2, 27, 15, 0))

    async def pack(db: Database) -> list[Path]:
        return await write_pack(db, TENANT, "2041-02", tmp_path / "pack")

    assert run_db(api, pack)
    first = issue(api, "2041-02").json()
    assert (first["on_time"], first["issued_by"]) == (True, "cli:reports pack")
    assert first["issued_at"].startswith("2041-02-27T07:00")
    clock.travel_to(cst(2041, 3, 3, 10, 0))
    assert run_db(api, pack)
    assert issue(api, "2041-02").json() == first


def test_pack_issued_after_the_30th_is_late_and_overdue_is_reminded(api, tmp_path: Path):
    """2041-04 not issued by the end of 30 April: the month reads on_time false and the
    overdue reminder goes out; a pack written on 2 May is recorded late."""
    clock.travel_to(cst(2041, 5, 1, 0, 30))
    assert issue(api, "2041-04").json()["on_time"] is False
    clock.travel_to(cst(2041, 4, 30, 23, 0))
    assert issue(api, "2041-04").json()["on_time"] is None
    clock.travel_to(cst(2041, 5, 2, 9, 0))

    async def pack(db: Database) -> list[Path]:
        return await write_pack(db, TENANT, "2041-04", tmp_path / "late")

    run_db(api, pack)
    assert issue(api, "2041-04").json()["on_time"] is False
    assert issue(api, "2041-04").json()["issued_at"].startswith("2041-05-02T01:00")


def test_remind_cli(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    """``tousu reports remind`` runs on a fresh database and prints what it sent."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'remind.db'}")
    root = Path(__file__).resolve().parent.parent
    assert main(["tenants", "sync", str(root / "tenants")]) == 0
    capsys.readouterr()
    assert main(["reports", "remind"]) == 0
    assert capsys.readouterr().out.strip().endswith("reminder(s) sent")
