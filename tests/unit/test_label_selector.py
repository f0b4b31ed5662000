"""-l/--selector: the API server's label selector grammar, parsed before any request; matched in
memory as the API server matches; `list -l` and `status -l` keep the releases and workloads it selects."""

from __future__ import annotations

import pytest

from kubectl_harness_rollback import listing
from kubectl_harness_rollback.errors import UsageError
from kubectl_harness_rollback.label_selector import Requirement, parse, select_workloads
from kubectl_harness_rollback.model import ReleaseModel, WorkloadRef
from tests.unit.test_list_at_scale import deployment, history, replica_set


@pytest.mark.parametrize("text, expected", [
    ("app=web", [("app", "=", ("web",))]),
    ("app==web", [("app", "=", ("web",))]),
    ("app!=web", [("app", "!=", ("web",))]),
    ("app", [("app", "exists", ())]),
    ("!canary", [("canary", "!", ())]),
    ("tier in (web, api)", [("tier", "in", ("web", "api"))]),
    ("tier notin (db)", [("tier", "notin", ("db",))]),
    ("app.kubernetes.io/name=web,team=payments", [("app.kubernetes.io/name", "=", ("web",)),
                                                   ("team", "=", ("payments",))]),
    ("  app = web , !canary ", [("app", "=", ("web",)), ("canary", "!", ())]),
    ("app=", [("app", "=", ("",))]),
    ("replicas>2", [("replicas", ">", ("2",))]),
])
def test_parse(text, expected):
    selector = parse(text)
    assert selector.text == text  # sent to the API server as given
    assert selector.requirements == tuple(Requirement(*item) for item in expected)


@pytest.mark.parametrize("text, says", [
    ("", "needs a label selector"),
    ("app=web tier=a", "is not a label selector"),
    ("=web", "is not a label selector"),
    ("tier in (web", "is not a label selector"),
    ("tier in ()", "needs at least one value"),
    ("app=web,", "ends with a comma"),
    ("app=web,,tier=a", "is not a label selector"),
    ("-app=web", "is not a valid label key"),
    ("Bad_Prefix/app=web", "its prefix must be a DNS subdomain"),
    ("app=-web", "is not a valid value for app"),
    ("app=" + "x" * 64, "is not a valid value for app"),
    ("replicas>two", "needs an integer"),
])
def test_bad_selectors_are_usage_errors(text, says):
    with pytest.raises(UsageError, match=says):
        parse(text)


@pytest.mark.parametrize("text, labels, matches", [
    ("app=web", {"app": "web"}, True),
    ("app=web", {"app": "api"}, False),
    ("app=web", {}, False),
    ("app!=web", {}, True),  # as the API server: a missing label is not equal
    ("tier notin (db)", {}, True),
    ("tier in (web,api)", {"tier": "api"}, True),
    ("app,!canary", {"app": "x"}, True),
    ("app,!canary", {"app": "x", "canary": ""}, False),
    ("replicas>2", {"replicas": "3"}, True),
    ("replicas>2", {"replicas": "three"}, False),
    ("replicas<2", {}, False),
])
def test_matches(text, labels, matches):
    assert parse(text).matches(labels) is matches


def _model(*labelled: tuple[str, dict]) -> ReleaseModel:
    from types import SimpleNamespace

    workloads = {WorkloadRef("Deployment", name, "shop"): SimpleNamespace(raw={"metadata": {"labels": labels}})
                 for name, labels in labelled}
    return ReleaseModel("r", "shop", [], workloads)


def test_status_keeps_the_selected_workloads():
    model = _model(("web", {"tier": "web"}), ("db", {"tier": "db"}))
    chosen = select_workloads(model, parse("tier=web"))
    assert [ref.name for ref in chosen.workloads] == ["web"] and chosen.notes == []
    assert select_workloads(model, None) is model


def test_status_says_when_the_selector_selects_none():
    chosen = select_workloads(_model(("web", {"tier": "web"})), parse("tier=db"))
    assert chosen.workloads == {}
    assert chosen.notes == ["-l tier=db selects none of the release's 1 workloads"]


class _Kube:
    """A namespace's objects by plural, listed as the API server lists them (label selector applied)."""

    def __init__(self, objects: dict[str, list[dict]]):
        self.objects, self.selectors = objects, {}

    def list(self, resource, namespace=None, label_selector=None, field_selector=None, metadata_only=False, **_):
        self.selectors[resource.plural] = label_selector
        items = self.objects.get(resource.plural, [])
        if label_selector and resource.plural in ("deployments", "statefulsets", "daemonsets"):
            items = [o for o in items if parse(label_selector).matches_object(o)]
        if field_selector:
            items = [o for o in items if o["metadata"]["name"] == field_selector.partition("=")[2]]
        return items


def test_list_sends_the_selector_with_the_workload_lists_and_keeps_their_releases():
    web, db = deployment("web", "shop", "rel-web"), deployment("db", "shop", "rel-db")
    web["metadata"]["labels"]["team"] = "payments"
    kube = _Kube({"deployments": [web, db],
                  "replicasets": [replica_set(name, "shop", n) for name in ("web", "db") for n in (1, 2)],
                  "configmaps": [history("rel-web", "shop", "web", "ConfigMap"),
                                 history("rel-db", "shop", "db", "ConfigMap")]})
    rows, _ = listing.read_catalog(kube, "shop", selector=parse("team=payments"))
    assert [(row["release"], row["workloads"]) for row in rows] == [("rel-web", ["deployment/web"])]
    assert kube.selectors["deployments"] == "team=payments"
    assert kube.selectors["replicasets"] is None  # every revision is needed for what is live
    assert rows[0]["latest"] == 2 and rows[0]["liveReleases"] == [2]
