"""Schemathesis over every operation of the OpenAPI document, with all its checks.

Each operation is called with schema-valid and schema-invalid requests (positive and
negative generation), as a random one of every user of two tenants of the test's own
(clerk, supervisor, department heads, manager, general manager, inspector, staff, tenant
admin — two tenants, two industries) and the platform operator, against the app served on
PostgreSQL. Every response passes every schemathesis check: no 5xx, status code and content
type documented, headers and body conform to the documented schema, invalid data refused,
authentication not ignored.

Budget: ``TOUSU_FUZZ_EXAMPLES`` examples per operation (default 12, derandomized so CI is
repeatable; set ``TOUSU_FUZZ_SEED`` to explore new inputs). ``TOUSU_FUZZ_REPORT=path``
writes the run's figures as JSON (RELIABILITY.md quotes them).
"""

from __future__ import annotations

import collections
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from contract_support import World, serve
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from core.app import create_app
from core.settings import load_settings

EXAMPLES = int(os.environ.get("TOUSU_FUZZ_EXAMPLES", "12"))
SEED = os.environ.get("TOUSU_FUZZ_SEED")
REPORT = os.environ.get("TOUSU_FUZZ_REPORT")


def _spec() -> dict[str, Any]:
    """The document the app serves (built without a database: it is static)."""
    from litestar._openapi.plugin import OpenAPIPlugin

    app = create_app(load_settings({"DATABASE_URL": "sqlite+aiosqlite:///:memory:"}))
    return app.plugins.get(OpenAPIPlugin).provide_openapi_schema()


CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        # A schema-valid request may still break a rule no schema can state (a category not in
        # the tenant's taxonomy, a window longer than a year, an unended ledger month): this
        # API answers those 422 naming the field and the rule, so 422 joins the statuses this
        # check accepts. Every other check runs as shipped.
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)
SCHEMA = schemathesis.openapi.from_dict(_spec(), config=CONFIG)
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}
FIGURES: dict[str, Any] = {"operations": 0, "examples": 0, "statuses": collections.Counter()}


@pytest.fixture(scope="module")
def _bearer_lockout_out_of_the_way() -> Iterator[None]:
    """Schemathesis probes every operation with invalid credentials (its check: 401 or
    403), hundreds of times from 127.0.0.1 and one token prefix: the bearer lockouts
    (core.people.throttle, tested in tests/test_trust_address.py) would answer 429 after 10.
    The served world is in this process, so its limits are raised for this module only."""
    from core.people import throttle

    saved = {p: p.limit for p in (throttle.BEARER_IP, throttle.BEARER_PREFIX)}
    for policy in saved:
        object.__setattr__(policy, "limit", 1_000_000)
    yield
    for policy, limit in saved.items():
        object.__setattr__(policy, "limit", limit)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, _bearer_lockout_out_of_the_way: None
) -> Iterator[World]:
    started = time.monotonic()
    gen = serve(tmp_path_factory.mktemp("fuzz"), "fuzz")
    w = next(gen)
    # Something to find: a ticket in each tenant, so ticket paths are not all 404.
    import httpx

    with httpx.Client(base_url=w.base, timeout=30) as client:
        for tenant in ("fuzz-a", "fuzz-b"):
            for i in range(3):
                r = client.post(
                    "/api/tickets",
                    headers=w.header(tenant, "clerk"),
                    json={
                        "channel": "phone",
                        "complainant": {"name": "张三", "contact": "13812345678"},
                        "description": f"fuzz seed {i}",
                    },
                )
                assert r.status_code == 201, r.text
    yield w
    FIGURES["seconds"] = round(time.monotonic() - started, 1)
    FIGURES["statuses"] = dict(sorted(FIGURES["statuses"].items()))
    FIGURES["examples_per_operation"] = EXAMPLES
    if REPORT:
        Path(REPORT).write_text(json.dumps(FIGURES, indent=2), encoding="utf-8")
    gen.close()


def test_every_operation_is_fuzzed() -> None:
    assert len(OPERATIONS) >= 60, sorted(OPERATIONS)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_conforms(world: World, label: str) -> None:
    op = OPERATIONS[label]
    users = sorted(world.tokens)
    ids = st.sampled_from([1, 2, 3, 4, 5, 6])
    path_ids = {
        name: ids for name in ("ticket_id", "penalty_id", "appeal_id", "extension_id")
        if any(p.name == name for p in op.path_parameters)
    }  # fmt: skip
    strategy = st.one_of(
        op.as_strategy(GenerationMode.POSITIVE),
        op.as_strategy(GenerationMode.NEGATIVE),
        *([st.fixed_dictionaries(path_ids).flatmap(
            lambda p: op.as_strategy(GenerationMode.POSITIVE, path_parameters=p)
        )] if path_ids else []),
    )  # fmt: skip

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=strategy, who=st.sampled_from(users))
    def check(case: Any, who: tuple[str, str]) -> None:
        headers = {"Authorization": f"Bearer {world.tokens[who]}"}
        response = case.call_and_validate(base_url=world.base, headers=headers)
        FIGURES["examples"] += 1
        FIGURES["statuses"][str(response.status_code)] += 1

    if SEED is not None:
        check = seed(int(SEED))(check)
    check()
    FIGURES["operations"] += 1
