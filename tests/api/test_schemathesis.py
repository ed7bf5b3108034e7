"""A bounded schemathesis run against /api/v1/schema on a live server: no 5xx and no response that breaks the
schema, for schema-valid (positive) and schema-violating (negative) requests and for the documented examples.

Driven by hand with Hypothesis (schemathesis' own pytest plugin does not run under pytest 9): every operation,
a few examples per mode, a deadline per example; the whole run stays well under a minute.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shop_video.merchants.api_keys import create_api_key
from tests.factories import JobFactory, OrganizationFactory, PhotoFactory, ProductFactory, ensure_presets

from .conftest import grant, make_video

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = 8
TIME_BUDGET_SECONDS = 90


@pytest.fixture
def api_schema(live_server, transactional_db, monkeypatch):
    # Generated photo URLs must never leave this machine: every host is refused before any DNS lookup.
    from generation.imports import fetch

    def refuse(host, port):
        raise fetch.FetchError("address_not_allowed")

    monkeypatch.setattr(fetch, "resolve_checked", refuse)
    ensure_presets()
    org = OrganizationFactory()
    grant(org)
    product = ProductFactory(organization=org)
    photo = PhotoFactory(product=product)
    make_video(JobFactory(photo=photo))
    JobFactory(photo=photo)
    secret = create_api_key(organization=org, name="schemathesis")[1]
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema"), secret


def _run(strategy, headers: dict[str, str], max_examples: int) -> None:
    @settings(
        max_examples=max_examples,
        deadline=10_000,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=strategy)
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_api_conforms_to_its_schema(api_schema):
    schema, secret = api_schema
    headers = {"Authorization": f"Bearer {secret}"}
    started = time.monotonic()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategies = [
            (f"examples of {operation.label}", s, 3) for s in schema.get_strategies_from_examples(operation)
        ] + [
            (f"{mode.value} {operation.label}", operation.as_strategy(generation_mode=mode), MAX_EXAMPLES)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
        for label, strategy, n in strategies:
            try:
                _run(strategy, headers, n)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # failed checks (a FailureGroup): keep going, report all of them
                failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:1500]}")
    elapsed = time.monotonic() - started
    assert operations >= 20
    assert not failures, "\n\n".join(failures)
    assert elapsed < TIME_BUDGET_SECONDS, f"the schemathesis run took {elapsed:.0f} s"
