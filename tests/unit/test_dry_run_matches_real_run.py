"""A dry run lists exactly the writes the real run sends, for generated histories.

Each history is deployed into the in-memory API server (tests/support/fake_rest.py), the
rollback is planned once, its client dry run lists what it would write, and the real run is
carried out on the same plan: the requests it sends, in order, are the dry run's list. The record
writes are moreover the very edits the record stores imply (records/registry.py), body for body.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kubectl_harness_rollback import commands, executor
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.planner import PlanOptions
from kubectl_harness_rollback.reader import Target
from kubectl_harness_rollback.records import registry
from tests.support.fake_harness import (
    FakeBlueGreenDeployer,
    FakeRollingDeployer,
    declarative_release,
    deployment,
    deployment_controller,
    set_template,
)
from tests.support.fake_rest import FakeCluster

STATUSES = st.sampled_from(["Succeeded", "Failed", "InProgress"])
# The newest release fails more often than not, so that most examples roll something back.
LAST = st.sampled_from(["Failed", "Failed", "InProgress", "Succeeded"])
EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PLURALS = {"Deployment": "deployments", "ConfigMap": "configmaps", "Secret": "secrets", "Service": "services"}


def listed_as_requests(items: list[dict]) -> list[str]:
    """The dry run's items as the requests they stand for (the last-rollback annotation rides on
    its workload's or Service's patch: no request of its own)."""
    verbs = {"restored": "PATCH", "scaled": "PATCH", "routed": "PATCH", "historyUpdated": "PATCH",
             "labelled": "PATCH", "deleted": "DELETE", "releaseCreated": "POST", "reapplied": "PATCH"}
    requests = []
    for item in items:
        if item["action"] == "eventRecorded":
            requests.append(f"POST events about {item['kind']}/{item['name']}")
        elif item["action"] != "annotated":
            plural = PLURALS[item["kind"]] if item["action"] != "routed" else "services"
            # A create is sent to the collection: its name is in the body.
            requests.append(f"{verbs[item['action']]} {plural}" + ("" if item["action"] == "releaseCreated"
                                                                   else f"/{item['name']}"))
    return requests


def _hands_back_ownership(request) -> bool:
    """The JSON patch that follows a re-apply and hands its field ownership back, as kubectl apply
    leaves it: part of that one re-apply write."""
    paths = {op.get("path") for op in request.body} if request.patch_type == "json" else set()
    return "/metadata/managedFields" in paths and paths <= {"/metadata/managedFields", "/metadata/resourceVersion"}


def sent_as_requests(requests) -> list[str]:
    """The writes sent; a re-apply's dry-run check before any write and its ownership hand-back
    are parts of its one listed write."""
    shown = []
    for request in requests:
        if not request.is_write or request.dry_run or _hands_back_ownership(request):
            continue
        if request.short.startswith("POST events"):
            about = request.body["involvedObject"]
            shown.append(f"POST events about {about['kind']}/{about['name']}")
        elif not request.short.startswith("POST selfsubjectreviews"):
            shown.append(request.short)
    return shown


def dry_run_then_real_run(cluster: FakeCluster, release_name: str, options: PlanOptions = PlanOptions()) -> list[dict]:
    """Plan once, list the dry run's writes, carry out the real run; assert they agree. The list."""
    kube = cluster.kube()
    first = len(cluster.requests)
    try:
        planned = commands.run_plan(kube, Target(release_name=release_name), options)
    except PluginError:  # a history no rollback can be planned from: neither run writes anything
        assert sent_as_requests(cluster.requests[first:]) == []
        return []
    dry = commands.run_rollback(kube, planned, executor.RollbackOptions(DryRun.CLIENT), lambda _: None)
    assert sent_as_requests(cluster.requests[first:]) == []
    listed = dry.view.get("wouldWrite") or []

    first = len(cluster.requests)
    outcome = executor.carry_out(kube, planned.model, planned.plan, executor.RollbackOptions(DryRun.NONE, timeout=60),
                                 lambda _: None, clock=executor.Clock(cluster.clock.now, cluster.clock.monotonic))
    sent = cluster.requests[first:]
    assert sent_as_requests(sent) == listed_as_requests(listed)

    if planned.plan.target is not None and planned.plan.has_changes:
        revisions = {} if planned.plan.traffic is not None else outcome.new_revisions
        edits = registry.edits(planned.model, planned.plan, revisions)
        record_writes = [r for r in sent if r.is_write and r.short.split(" ")[1].split("/")[0] in ("configmaps",
                                                                                                   "secrets")]
        assert [(r.short, r.body) for r in record_writes] == [
            (f"POST {PLURALS[e.kind]}" if e.verb == "create" else f"PATCH {PLURALS[e.kind]}/{e.name}", e.patch)
            for e in edits]
        assert [item for item in outcome.recorded if item["action"] != "eventRecorded"] == [e.item for e in edits]
    return listed


def described(listed: list[dict]) -> None:
    """How many writes an example made, for --hypothesis-show-statistics."""
    event(f"{len(listed_as_requests(listed))} writes" + (", records" if any(
        i["action"] in ("historyUpdated", "labelled", "releaseCreated") for i in listed) else ""))


@EXAMPLES
@given(earlier=st.lists(STATUSES, min_size=0, max_size=4), last=LAST, store=st.sampled_from(["configmap", "secret"]),
       compressed=st.booleans())
def test_rolling_legacy_history(earlier, last, store, compressed):
    statuses = earlier + [last]
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeRollingDeployer(cluster, store=store, compressed=compressed)
    for number, status in enumerate(statuses, start=1):
        deployer.deploy(f"registry.example/web:{number}", status)
    described(dry_run_then_real_run(cluster, deployer.release_name))


@EXAMPLES
@given(statuses=st.lists(STATUSES, min_size=1, max_size=4), declarative_status=LAST)
def test_a_declarative_release_on_top_of_a_legacy_history(statuses, declarative_status):
    """The current release is a declarative release Secret: the legacy history records the
    rollback-to release's new revision, the Secret's label says Failed."""
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeRollingDeployer(cluster)
    for number, status in enumerate(statuses, start=1):
        deployer.deploy(f"registry.example/web:{number}", status)
    number = len(statuses) + 1
    image = f"registry.example/web:{number}"
    set_template(cluster, "web", image)
    cluster.settle()
    manifest = deployment("web", deployer.release_name, image, release_number=number)
    cluster.put(declarative_release(deployer.release_name, number, declarative_status, [manifest]))
    described(dry_run_then_real_run(cluster, deployer.release_name))


@EXAMPLES
@given(earlier=st.lists(STATUSES, min_size=1, max_size=3), last=LAST)
def test_blue_green_swaps(earlier, last):
    statuses = earlier + [last]
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeBlueGreenDeployer(cluster)
    deployer.create_services(primary_color="blue", stage_color="green")  # the first deploy swaps to green
    for number, status in enumerate(statuses, start=1):
        deployer.deploy("green" if number % 2 else "blue", f"registry.example/shop:{number}", status)
    described(dry_run_then_real_run(cluster, deployer.release_name))


@EXAMPLES
@given(earlier=st.lists(STATUSES, min_size=1, max_size=3), last=LAST, back_first=st.booleans())
def test_rolling_a_declarative_release_forward(earlier, last, back_first):
    """`--to-release` of the newest declarative release, after a rollback (or, still running, as it
    is): re-applied where it does not run, and recorded as a new release Secret the dry run lists."""
    statuses = earlier + [last]
    cluster = FakeCluster(controllers=[deployment_controller])
    release_name = "release-infra-prod"
    for number, status in enumerate(statuses, start=1):
        manifest = deployment("web", release_name, f"registry.example/web:{number}", release_number=number)
        live = cluster.find("Deployment", "web")
        if live is None:
            cluster.put(manifest)
        else:
            set_template(cluster, "web", f"registry.example/web:{number}")
        cluster.settle()
        cluster.put(declarative_release(release_name, number, status, [manifest]))
    if back_first:
        dry_run_then_real_run(cluster, release_name)
    described(dry_run_then_real_run(cluster, release_name, PlanOptions(to_release=len(statuses))))
