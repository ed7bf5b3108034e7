"""The OpenAPI schema equals the committed snapshot tests/api/openapi.yaml: a change to the API is deliberate
(`make openapi` regenerates the snapshot) and never a side effect of moving code."""

from __future__ import annotations

import difflib
from pathlib import Path

from django.core.management import call_command

SNAPSHOT = Path(__file__).with_name("openapi.yaml")


def test_the_schema_equals_the_committed_snapshot(tmp_path):
    live = tmp_path / "openapi.yaml"
    call_command("spectacular", file=str(live))
    expected = SNAPSHOT.read_text(encoding="utf-8").splitlines(keepends=True)
    actual = live.read_text(encoding="utf-8").splitlines(keepends=True)
    diff = "".join(difflib.unified_diff(expected, actual, "snapshot", "live", n=2))
    assert not diff, f"the OpenAPI schema changed (run `make openapi` if deliberate):\n{diff[:6000]}"
