"""Across contexts, a context that failed is a row of its own: its name, then its error where the
second column starts, widening no column. With --no-headers the rows alone give that place; when
every context failed, there is none to find, and the error goes three spaces after the longest name
(found by the flag fuzz: `history release-x --no-headers --all-contexts` raised AttributeError)."""

import pytest

from kubectl_harness_rollback.output import columns
from kubectl_harness_rollback.output.columns import Row, Shape

ITEM = {"number": 3, "status": "Failed", "workloads": [{"kind": "Deployment", "name": "web", "revision": 3,
                                                        "currentRevision": 3, "images": ["web:3"]}],
        "workflowId": "w1", "deployedAt": None}


@pytest.mark.parametrize("headers", [True, False], ids=["headers", "no headers"])
def test_every_context_failed(headers):
    rows = [Row(context="prod-eu", error="error: cannot reach the API server"),
            Row(context="dr", error="error: forbidden")]
    lines = columns.table(columns.HISTORY, rows, Shape(many=True, headers=headers)).splitlines()
    assert lines[-2:] == ["prod-eu   error: cannot reach the API server", "dr        error: forbidden"]
    assert lines[0].startswith("CONTEXT   ") == headers


def test_without_headers_a_failed_context_first_still_lines_up_with_the_rows_that_read():
    rows = [Row(context="a", error="error: forbidden")] + [
        Row(item=item, context="cluster-b") for item in columns.history_items([ITEM])]
    failed, read = columns.table(columns.HISTORY, rows, Shape(many=True, headers=False)).splitlines()
    assert failed == "a           error: forbidden"
    assert read.startswith("cluster-b   3")
