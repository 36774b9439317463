"""Random operations by the users of two tenants: no response carries the other tenant's
data, no write lands in the other tenant (issue 9, "prove it").

A hypothesis state machine drives the app served on PostgreSQL (the tenants are the test's
own): users of every role create tickets carrying a marker unique to their tenant, read,
list, export and act on tickets — their own and the other tenant's — and register webhooks.
After every step: no response body holds a marker, ticket number or webhook URL of the other
tenant; a cross-tenant ticket route answers 404 exactly as for a ticket that does not exist;
and the other tenant's tickets are unchanged (version, state, history length).

Budget: ``TOUSU_STATEFUL_EXAMPLES`` runs (default 5) of at most 25 steps each.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from contract_support import World, serve, users_of
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

EXAMPLES = int(os.environ.get("TOUSU_STATEFUL_EXAMPLES", "5"))
TENANTS = ("fuzz-a", "fuzz-b")
ACTIONS = ("triage-invalid", "triage-valid", "register", "settle", "reclassify", "dispatch")
READS = ("", "/history", "/grades", "/penalties", "/appeals", "/deadlines")
EXPORTS = ("/api/reports/export/tickets.csv", "/api/reports/stats", "/api/reports/bulletin")
FIGURES = {"runs": 0, "steps": 0, "cross_tenant_attempts": 0, "leaks": 0, "foreign_writes": 0}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    gen = serve(tmp_path_factory.mktemp("stateful"), "stateful")
    yield next(gen)
    gen.close()


def other(tenant: str) -> str:
    return TENANTS[1 - TENANTS.index(tenant)]


_serial = itertools.count(1)


def build_machine(world: World, client: httpx.Client) -> type[RuleBasedStateMachine]:
    users = {t: users_of(world, t) for t in TENANTS}

    class TwoTenants(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            FIGURES["runs"] += 1
            self.tickets: dict[str, list[dict[str, Any]]] = {t: [] for t in TENANTS}
            self.secrets: dict[str, set[str]] = {t: set() for t in TENANTS}

        # ------------------------------------------------------------ helpers
        def call(self, tenant: str, user: str, method: str, url: str, **kw: Any) -> Any:
            FIGURES["steps"] += 1
            for attempt in range(3):
                # A shared database server may briefly run out of connections (503/500 while
                # it does); a server error that repeats is a finding.
                r = client.request(method, url, headers=world.header(tenant, user), **kw)
                if r.status_code < 500:
                    break
                time.sleep(1 + attempt)
            assert r.status_code < 500, f"{method} {url} as {tenant}/{user}: {r.text[:300]}"
            foreign = [s for s in self.secrets[other(tenant)] if s in r.text]
            if foreign:
                FIGURES["leaks"] += 1
            assert not foreign, f"{method} {url} as {tenant}/{user} shows {foreign}"
            return r

        def snapshot(self, tenant: str, ticket: dict[str, Any]) -> tuple[Any, ...]:
            r = client.get(f"/api/tickets/{ticket['id']}", headers=world.header(tenant, "manager"))
            h = client.get(
                f"/api/tickets/{ticket['id']}/history", headers=world.header(tenant, "manager")
            )
            body = r.json()
            return body["version"], body["state"], len(h.json())

        def foreign_404(self, r: Any, what: str) -> None:
            FIGURES["cross_tenant_attempts"] += 1
            assert r.status_code == 404, f"{what}: {r.status_code} {r.text[:200]}"
            assert r.json()["error"]["code"] == "not_found"

        # ------------------------------------------------------------ rules
        @rule(
            tenant=st.sampled_from(TENANTS),
            user=st.sampled_from(["clerk", "supervisor", "manager"]),
        )
        def create(self, tenant: str, user: str) -> None:
            marker = f"mk{tenant[-1]}{next(_serial):06d}z"
            body = {
                "channel": "phone",
                "complainant": {"name": f"客户{marker}", "contact": f"{marker}@example.com"},
                "description": f"isolation {marker}",
                "event_place": marker,
            }
            r = self.call(tenant, user, "POST", "/api/tickets", json=body)
            assert r.status_code == 201, r.text
            t = r.json()
            self.tickets[tenant].append(t)
            self.secrets[tenant] |= {marker, t["number"]}

        @precondition(lambda self: any(self.tickets.values()))
        @rule(data=st.data(), read=st.sampled_from(READS))
        def read_any(self, data: st.DataObject, read: str) -> None:
            tenant = data.draw(st.sampled_from(TENANTS))
            user = data.draw(st.sampled_from(users[tenant]))
            owner = data.draw(st.sampled_from([t for t in TENANTS if self.tickets[t]]))
            ticket = data.draw(st.sampled_from(self.tickets[owner]))
            r = self.call(tenant, user, "GET", f"/api/tickets/{ticket['id']}{read}")
            if owner != tenant:
                self.foreign_404(r, f"GET {read} of {owner}'s ticket as {tenant}/{user}")

        @precondition(lambda self: any(self.tickets.values()))
        @rule(data=st.data(), action=st.sampled_from(ACTIONS))
        def act_any(self, data: st.DataObject, action: str) -> None:
            tenant = data.draw(st.sampled_from(TENANTS))
            user = data.draw(st.sampled_from(users[tenant]))
            owner = data.draw(st.sampled_from([t for t in TENANTS if self.tickets[t]]))
            ticket = data.draw(st.sampled_from(self.tickets[owner]))
            before = self.snapshot(owner, ticket) if owner != tenant else None
            body = {"version": before[0] if before else ticket["version"], "reason": "r",
                    "note": "n", "explanation": "e", "department": "engineering"}  # fmt: skip
            body = {
                "triage-invalid": {"version": body["version"], "reason": "不属于投诉"},
                "triage-valid": {"version": body["version"]},
                "register": {"version": body["version"], "reason": "on_site"},
                "settle": {"version": body["version"], "explanation": "已解释"},
                "reclassify": {"version": body["version"], "reason": "重新分类"},
                "dispatch": {"version": body["version"], "department": "engineering"},
            }[action]
            url = f"/api/tickets/{ticket['id']}/{action}"
            r = self.call(tenant, user, "POST", url, json=body)
            if owner != tenant:
                self.foreign_404(r, f"POST {action} on {owner}'s ticket as {tenant}/{user}")
                after = self.snapshot(owner, ticket)
                if after != before:
                    FIGURES["foreign_writes"] += 1
                assert after == before, f"{tenant}/{user} changed {owner}'s ticket: {action}"

        @rule(tenant=st.sampled_from(TENANTS), data=st.data())
        def list_mine(self, tenant: str, data: st.DataObject) -> None:
            user = data.draw(st.sampled_from(users[tenant]))
            r = self.call(tenant, user, "GET", "/api/tickets", params={"limit": "200"})
            if r.status_code == 200:
                foreign_ids = {t["id"] for t in self.tickets[other(tenant)]}
                assert not foreign_ids & {t["id"] for t in r.json()["items"]}

        @rule(tenant=st.sampled_from(TENANTS), path=st.sampled_from(EXPORTS), data=st.data())
        def report(self, tenant: str, path: str, data: st.DataObject) -> None:
            user = data.draw(st.sampled_from(users[tenant]))
            self.call(tenant, user, "GET", path)

        @rule(tenant=st.sampled_from(TENANTS))
        def webhook(self, tenant: str) -> None:
            url = f"https://hooks.example.com/{tenant}/{next(_serial)}"
            r = self.call(tenant, "admin", "POST", "/api/webhooks", json={"url": url})
            if r.status_code == 201:
                self.secrets[tenant].add(url)
            self.call(tenant, "admin", "GET", "/api/webhooks")

        @invariant()
        def own_tickets_stay_readable(self) -> None:
            for tenant in TENANTS:
                for t in self.tickets[tenant][-1:]:
                    r = client.get(f"/api/tickets/{t['id']}", headers=world.header(tenant, "manager"))
                    assert r.status_code == 200, r.text

    return TwoTenants


def test_two_tenants_never_see_or_change_each_other(world: World) -> None:
    with httpx.Client(base_url=world.base, timeout=60) as client:
        machine = build_machine(world, client)
        machine.TestCase.settings = settings(
            max_examples=EXAMPLES,
            stateful_step_count=25,
            deadline=None,
            database=None,
            derandomize=os.environ.get("TOUSU_STATEFUL_SEED") is None,
            suppress_health_check=list(HealthCheck),
        )
        machine.TestCase().runTest()
    assert FIGURES["cross_tenant_attempts"] > 0, FIGURES
    assert FIGURES["leaks"] == 0 and FIGURES["foreign_writes"] == 0, FIGURES
    print(f"\nstateful isolation: {FIGURES}")
