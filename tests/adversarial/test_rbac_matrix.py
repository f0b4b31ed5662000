"""Least privilege, one right at a time: the pipeline's Role (`kubectl harness-rollback rbac`) with a
single (resource, verb) taken away, for a rolling release.

Property, for every right taken away: the rollback succeeds (that right was not needed here), or it
fails and either nothing changed, or the error says what was already written — and the same command
run with the whole Role then finishes the job: the workload restored, the history recorded.

A missing right is found before the first write (SelfSubjectAccessReviews), so a rollback is not
left half-done by RBAC. A server that dies half-way still can: blue/green (the swap written, its
bookkeeping not) and a declarative release (re-applied, not yet marked Failed) are finished by the
next run, as Harness would have left them.

The matrix is built from the declared rights (rbac.role) and sampled on the cluster: one rollback
with the whole Role, through a relay that sees every request, tells which rights this release's
rollback uses (requests made, SelfSubjectAccessReviews asked). Each of those is taken away in a
cluster run of its own. A right that no request needed and no review asked about cannot change
the run (RBAC authorizes request by request): that the run with the whole Role got along without
it is the proof, and its case checks that run's outcome instead of deploying again.
"""

import json
import uuid
from dataclasses import dataclass

import pytest
from kubernetes import client as k8s

from kubectl_harness_rollback.rbac import role
from tests.adversarial.state import changed, versions
from tests.adversarial.test_interrupted import cut_short, good_good_bad, history, image
from tests.support.accounts import answers, pipeline_account
from tests.support.harness import HarnessBlueGreenDeployer
from tests.support.relay import RELAY, Relay, dies_at
from tests.support.rights import rights_used
from tests.support.run_plugin import run_plugin

# One worker: the module's releases are deployed once.
pytestmark = pytest.mark.xdist_group("rbac-matrix")

RELEASE = "release-infra-prod"
RIGHTS = sorted({(resource, verb) for rule in role("x")["rules"] for resource in rule["resources"]
                 for verb in rule["verbs"]})


def without(api_client, namespace, taken: set[tuple[str, str]]):
    """Take rights away from the pipeline's Role: one rule per resource, so that taking `patch
    statefulsets` leaves `patch deployments` alone."""
    rules = []
    for rule in role(namespace)["rules"]:
        for resource in rule["resources"]:
            verbs = [v for v in rule["verbs"] if (resource, v) not in taken]
            if verbs:
                rules.append({**rule, "resources": [resource], "verbs": verbs})
    k8s.RbacAuthorizationV1Api(api_client).replace_namespaced_role(
        "kubectl-harness-rollback", namespace, {**role(namespace), "rules": rules})
    settled(api_client, namespace, taken, allowed=False)


def give_back(api_client, namespace, taken: set[tuple[str, str]]):
    k8s.RbacAuthorizationV1Api(api_client).replace_namespaced_role("kubectl-harness-rollback", namespace,
                                                                   role(namespace))
    settled(api_client, namespace, taken, allowed=True)


def settled(api_client, namespace, taken: set[tuple[str, str]], allowed: bool):
    """Once the authorizer has seen the Role's change (it learns of it by a watch)."""
    groups = {resource: (rule.get("apiGroups") or [""])[0] for rule in role(namespace)["rules"]
              for resource in rule["resources"]}
    for resource, verb in taken:
        answers(api_client, namespace, "deployer", verb, groups[resource], resource, allowed)


@dataclass
class WholeRoleRun:
    """The rollback of the matrix's release as the pipeline's account with the whole Role."""
    used: set[tuple[str, str]]  # (resource, verb) its requests needed or its reviews asked about
    done: object  # the plugin's CompletedProcess
    image: str  # the Deployment's image afterwards
    history: list[tuple[int, str, int]]


@pytest.fixture(scope="module")
def whole_role_run(api_client, test_cluster, tmp_path_factory):
    core, apps = k8s.CoreV1Api(api_client), k8s.AppsV1Api(api_client)
    namespace = f"khr-rbac-matrix-whole-role-{uuid.uuid4().hex[:5]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))

    def plugin(*args, check_exit=None, kubeconfig=test_cluster.kubeconfig):
        done = run_plugin(list(args), {**test_cluster.env(), "KUBECONFIG": kubeconfig})
        assert check_exit is None or done.returncode == check_exit, done.stderr
        return done

    try:
        good_good_bad(apps, core, namespace)
        account = pipeline_account(api_client, namespace, plugin)
        seen: list[tuple[str, str, bytes]] = []
        relay = Relay(test_cluster.kubeconfig, lambda method, path: RELAY, with_query=True, seen=seen)
        try:
            through = relay.kubeconfig(tmp_path_factory.mktemp("whole-role") / "kubeconfig", namespace)
            done = plugin("rollback", RELEASE, "-n", namespace, "--as", account, "--timeout", "60s",
                          kubeconfig=through)
        finally:
            relay.close()
        yield WholeRoleRun(rights_used(seen), done, image(apps, namespace), history(plugin, namespace))
    finally:
        core.delete_namespace(namespace)


def test_the_rollback_uses_only_rights_the_role_declares(whole_role_run):
    assert whole_role_run.done.returncode == 0, whole_role_run.done.stderr
    assert whole_role_run.used <= set(RIGHTS), sorted(whole_role_run.used - set(RIGHTS))


@pytest.mark.parametrize("resource, verb", RIGHTS, ids=[f"{v} {r}" for r, v in RIGHTS])
def test_one_right_missing_never_makes_it_worse(api_client, apps, core, request, plugin, resource, verb,
                                                whole_role_run):
    if (resource, verb) not in whole_role_run.used:
        done = whole_role_run.done
        assert "Traceback" not in done.stderr
        assert done.returncode == 0, done.stderr
        print(f"without {verb} {resource}: not needed here (never requested nor reviewed)")
        assert whole_role_run.image == "registry.example/web:2"
        assert whole_role_run.history[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]
        return
    namespace = request.getfixturevalue("namespace")
    good_good_bad(apps, core, namespace)
    account = pipeline_account(api_client, namespace, plugin)
    without(api_client, namespace, {(resource, verb)})
    before = versions(api_client, namespace)

    done = plugin("rollback", RELEASE, "-n", namespace, "--as", account, "--timeout", "60s")
    assert "Traceback" not in done.stderr
    outcome = "not needed here"
    if done.returncode != 0:
        assert done.returncode not in (2, 3), done.stderr
        written = changed(before, versions(api_client, namespace))
        assert not written or "already written before it failed" in done.stderr, (written, done.stderr)
        outcome = "cut short, finished by the next run" if written else "refused before any write"
        give_back(api_client, namespace, {(resource, verb)})
        plugin("rollback", RELEASE, "-n", namespace, "--as", account, check_exit=0)
    print(f"without {verb} {resource}: {outcome}")  # the table in the closing note (pytest -s)
    assert image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]


def test_a_swap_whose_bookkeeping_died_is_recorded_by_the_next_run(apps, core, namespace, plugin, test_cluster,
                                                                   tmp_path):
    deployer = HarnessBlueGreenDeployer(apps, core, namespace)
    deployer.create_services()
    for color, tag in (("blue", 1), ("green", 2)):
        deployer.deploy_stage(color, f"registry.example/shop:{tag}")
        deployer.swap_step()
    cut = cut_short(test_cluster, tmp_path, namespace, dies_at("PATCH", "/configmaps/release-bg"), "rollback",
                    "release-bg", "--from-release", "2")
    assert cut.returncode == 1, cut.stderr
    assert "already written before it failed: service/shop: routes blue" in cut.stderr
    assert deployer.selectors()[0]["harness.io/color"] == "blue"

    done = plugin("rollback", "release-bg", "-n", namespace, "--from-release", "2", check_exit=0)
    assert "traffic is already back on blue, but configmap/release-bg did not record it yet" in done.stderr
    rows = json.loads(plugin("history", "release-bg", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"], r["bgEnvironment"]) for r in rows] == [(2, "Succeeded", "stage"),
                                                                             (1, "Succeeded", "primary")]


def test_a_declarative_rollback_not_yet_marked_failed_is_finished_by_the_next_run(apps, core, namespace, plugin,
                                                                                  test_cluster, tmp_path):
    from tests.adversarial.test_rerun import declarative

    target, restored = declarative(apps, core, namespace, latest_status="InProgress")
    secret = f"harness.release.{RELEASE}.2"

    cut = cut_short(test_cluster, tmp_path, namespace, dies_at("PATCH", f"/secrets/{secret}"), "rollback", target)
    assert cut.returncode == 1, cut.stderr
    assert "already written before it failed: deployment/web" in cut.stderr and restored()
    assert core.read_namespaced_secret(secret, namespace).metadata.labels["status"] == "InProgress"

    done = plugin("rollback", target, "-n", namespace, check_exit=0)
    assert "did not record it yet: recording it now" in done.stderr
    assert core.read_namespaced_secret(secret, namespace).metadata.labels["status"] == "Failed"
    assert restored()
