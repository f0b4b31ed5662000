"""`rollback` of a declarative release through the in-memory API server: every object is sent
with dryRun first, then applied and its field ownership handed back, then the failed release's
Secret is marked Failed and an Event left; a second run writes nothing."""


from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.planner import PlanOptions
from tests.support.fake_harness import declarative_release, deployment_controller, image_of, rollback
from tests.support.fake_rest import FakeCluster, nth_write

RELEASE = "release-infra-prod"
# Release 3 succeeded and a later step of its pipeline failed: Harness hands over its number.
FROM_3 = PlanOptions(from_release=3)


def manifests(number: int) -> list[dict]:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config"},
              "data": {"mode": str(number)}}
    api = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                    "template": {"metadata": {"labels": {"app": "api", "harness.io/release-name": RELEASE}},
                                 "spec": {"containers": [{"name": "api", "image": f"registry.example/api:{number}"}]}}}}
    return [config, api]


def three_releases(last_status: str = "Succeeded") -> FakeCluster:
    """Releases 1 and 2 succeeded; release 3 (`last_status`) is what runs."""
    return deployed("Succeeded", "Succeeded", last_status)


def deployed(*statuses: str) -> FakeCluster:
    """Declarative releases 1.. with these statuses, each applied in turn and its Secret written: the last runs."""
    cluster = FakeCluster(controllers=[deployment_controller])
    for number, status in enumerate(statuses, start=1):
        for obj in manifests(number):
            obj = {**obj, "metadata": {**obj["metadata"], "namespace": "shop"}}
            live = cluster.find(obj["kind"], obj["metadata"]["name"])
            if live is None:
                cluster.put(obj)
            else:
                cluster.update({**live, **{k: v for k, v in obj.items() if k != "metadata"}})
        cluster.settle()
        cluster.put(declarative_release(RELEASE, number, status, manifests(number)))
    return cluster


def release_status(cluster: FakeCluster, number: int) -> str:
    return cluster.find("Secret", f"harness.release.{RELEASE}.{number}")["metadata"]["labels"]["status"]


def test_declarative_rollback_checks_every_object_before_applying_any_then_records():
    cluster = three_releases()

    ran = rollback(cluster, RELEASE, FROM_3)

    assert ran.error is None
    assert ran.writes == [
        "PATCH configmaps/api-config (dry run)", "PATCH deployments/api (dry run)",  # a refusal stops it here
        "PATCH configmaps/api-config", "PATCH configmaps/api-config",  # applied, then ownership handed back
        "PATCH deployments/api", "PATCH deployments/api",
        f"PATCH secrets/harness.release.{RELEASE}.3", "POST events"]
    applies = [r for r in ran.requests if r.patch_type == "apply"]
    assert {r.query["fieldManager"] for r in applies} == {"kubectl-client-side-apply"}
    hand_backs = [r for r in ran.requests if r.is_write and r.patch_type == "json"]
    assert [op["value"][0]["operation"] for r in hand_backs for op in r.body
            if op["path"] == "/metadata/managedFields"] == ["Update", "Update"]
    label = next(r for r in ran.requests if "/secrets/" in r.path and r.is_write)
    assert label.body == {"metadata": {"labels": {"status": "Failed"}}}

    assert image_of(cluster, "api") == "registry.example/api:2"
    assert cluster.find("ConfigMap", "api-config")["data"] == {"mode": "2"}
    assert [release_status(cluster, n) for n in (1, 2, 3)] == ["Succeeded", "Succeeded", "Failed"]
    assert [e["involvedObject"]["name"] for e in cluster.all("Event")] == ["api"]


def test_a_second_declarative_run_sends_no_write():
    cluster = three_releases()
    rollback(cluster, RELEASE, FROM_3)

    again = rollback(cluster, RELEASE, FROM_3)

    assert again.error is None
    assert again.writes == []


def test_a_refused_dry_run_stops_before_the_first_write():
    cluster = three_releases()
    cluster.fail(lambda r: r.dry_run and "deployments/api" in r.path, 403)

    ran = rollback(cluster, RELEASE, FROM_3)

    assert ran.error is not None and "forbidden" in str(ran.error)
    assert ran.writes == ["PATCH configmaps/api-config (dry run)", "PATCH deployments/api (dry run)"]
    assert image_of(cluster, "api") == "registry.example/api:3"
    assert cluster.find("ConfigMap", "api-config")["data"] == {"mode": "3"}
    assert release_status(cluster, 3) == "Succeeded"


def test_a_failed_apply_stops_the_rollback_and_records_nothing():
    cluster = three_releases()
    cluster.fail(nth_write(3), 500)  # the Deployment's apply, after the ConfigMap's and its hand-back

    ran = rollback(cluster, RELEASE, FROM_3)

    assert "the API server answered 500 to patch deployments/api" in str(ran.error)
    assert ran.writes[-1] == "PATCH deployments/api"
    assert cluster.find("ConfigMap", "api-config")["data"] == {"mode": "2"}
    assert image_of(cluster, "api") == "registry.example/api:3"
    assert release_status(cluster, 3) == "Succeeded" and cluster.all("Event") == []


def test_a_failed_apply_says_what_was_applied_already():
    cluster = three_releases()
    cluster.fail(nth_write(3), 500)

    ran = rollback(cluster, RELEASE, FROM_3)

    assert "already written before it failed: configmap/api-config: re-applied" in str(ran.error)


def test_server_dry_run_sends_only_dry_runs():
    cluster = three_releases()

    ran = rollback(cluster, RELEASE, FROM_3, dry_run=DryRun.SERVER)

    assert ran.error is None
    assert ran.writes == ["PATCH configmaps/api-config (dry run)", "PATCH deployments/api (dry run)"]
    assert image_of(cluster, "api") == "registry.example/api:3"
