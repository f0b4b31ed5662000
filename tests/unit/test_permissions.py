"""The rights a plan needs, asked before the first write (pure part)."""

from kubectl_harness_rollback.model import HistoryStore
from kubectl_harness_rollback.permissions import needed
from kubectl_harness_rollback.planner import PlanOptions, plan
from tests.unit.test_planner import F, S, model


def test_a_rolling_rollback_needs_the_workload_the_history_and_the_event():
    m = model([(1, S, "w1", 1), (2, S, "w1", 2), (3, F, "w1", 3)])
    m.history_store = HistoryStore("ConfigMap", "release-x", "shop", True, "7", {})
    rights = [(verb, group, resource) for verb, group, resource, _ in needed(m, plan(m, PlanOptions()))]
    assert rights == [("patch", "apps", "deployments"), ("get", "apps", "deployments"), ("patch", "", "configmaps"),
                      ("create", "", "events")]


def test_a_workload_already_restored_needs_no_patch():
    m = model([(1, S, "w1", 1), (2, F, "w1", 2)], revisions=[(2, ()), (3, (1,))], current_revision=3)
    rights = [(verb, resource) for verb, _, resource, _ in needed(m, plan(m, PlanOptions()))]
    assert ("patch", "deployments") not in rights
