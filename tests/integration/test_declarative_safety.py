"""Declarative releases are read as Harness reads them, and recorded where they were read.

Harness lists a release name's declarative releases by label *and* by type: `getReleaseHistory`
asks for Secrets with `owner=harness,release=<name>` and the field `type=harness.io/release/v2`
(harness-core 930-delegate-tasks/src/main/java/io/harness/helpers/k8s/releasehistory/
K8sReleaseHandlerImpl.java:61-67, the type from 960-api-services/.../k8s/releasehistory/
K8sReleaseConstants.java:33,44). Each release is then saved back into its own Secret
(K8sReleaseHandlerImpl.java:95-99, saveRelease: createOrReplace of the Secret object it was read as).
Two Secrets of one release number are a deliberate difference: Harness takes whichever
`Stream.max` meets first (960-api-services/.../K8sReleaseHistory.java:67-68), which depends on the
API's list order; here they are refused as corrupt, as duplicate numbers in a legacy history are.
"""

import json

from kubernetes import client as k8s

from tests.integration.test_declarative_scope import deployment, run_image, settled_versions, versions
from tests.support.harness import write_declarative_release

RELEASE = "release-infra-prod"


def image(apps, namespace):
    return apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].image


def labels(core, namespace, name):
    return core.read_namespaced_secret(name, namespace).metadata.labels or {}


def test_a_secret_of_another_type_is_not_a_release(apps, core, namespace, plugin):
    """A Secret of another type carrying the release labels, with a higher number and status
    Succeeded, hid the failed release: "no failed release found", exit 0, nothing done."""
    run_image(apps, namespace, 1)
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded", [deployment(1)])
    run_image(apps, namespace, 2)
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", [deployment(2)])
    impostor = f"harness.release.{RELEASE}.3"
    write_declarative_release(core, namespace, RELEASE, 3, "Succeeded", [deployment(3)], secret_type="Opaque")
    note = (f"secret/{impostor} carries the labels of a release of {RELEASE} but is not of type harness.io/release/v2: "
            "it is not a release, and is ignored (as Harness ignores it)")

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert (view["current"]["number"], view["target"]["number"]) == (2, 1)
    assert note in view["notes"]
    assert f"Note: {note}\n" in plugin("plan", RELEASE, "-n", namespace, check_exit=0).stdout
    history = plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0)
    assert [row["number"] for row in json.loads(history.stdout)] == [2, 1]
    assert history.stderr == f"note: {note}\n"
    listed = json.loads(plugin("list", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(row["release"], row["latest"], row["status"]) for row in listed] == [(RELEASE, 2, "Failed")]

    before = core.read_namespaced_secret(impostor, namespace).metadata.resource_version
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert image(apps, namespace) == "registry.example/api:1"
    assert labels(core, namespace, f"harness.release.{RELEASE}.2")["status"] == "Failed"
    assert core.read_namespaced_secret(impostor, namespace).metadata.resource_version == before


def test_bookkeeping_labels_the_secret_the_release_was_read_from(apps, core, namespace, plugin):
    """Release 2 lives in harness.release.R.7; harness.release.R.2 is an unrelated Secret. The
    rollback labelled the unrelated one Failed, and every later run re-applied again ("did not
    record it yet")."""
    run_image(apps, namespace, 1)
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded", [deployment(1)])
    run_image(apps, namespace, 2)
    home = f"harness.release.{RELEASE}.7"
    # The deploy of release 2 never finished: Harness left it InProgress, and a rollback marks it Failed.
    write_declarative_release(core, namespace, RELEASE, 2, "InProgress", [deployment(2)], name=home)
    unrelated = f"harness.release.{RELEASE}.2"
    core.create_namespaced_secret(namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name=unrelated),
                                                          type="Opaque", string_data={"token": "not-a-release"}))
    unrelated_version = core.read_namespaced_secret(unrelated, namespace).metadata.resource_version

    first = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert image(apps, namespace) == "registry.example/api:1"
    assert labels(core, namespace, home)["status"] == "Failed"
    assert f"secret/{home}" in first.stderr + first.stdout
    unrelated_now = core.read_namespaced_secret(unrelated, namespace)
    assert unrelated_now.metadata.resource_version == unrelated_version
    assert not unrelated_now.metadata.labels

    again = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "did not record it yet" not in again.stderr and "re-applied" not in again.stderr
    assert core.read_namespaced_secret(unrelated, namespace).metadata.resource_version == unrelated_version


def test_two_secrets_claiming_one_release_number_are_refused_before_any_write(api_client, apps, core, namespace,
                                                                             plugin):
    """Duplicate declarative release numbers were accepted silently; the result depended on the
    API's list order. Legacy duplicates are refused as corrupt (exit 1): so are these."""
    run_image(apps, namespace, 1)
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded", [deployment(1)])
    run_image(apps, namespace, 2)
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", [deployment(2)])
    write_declarative_release(core, namespace, RELEASE, 2, "Succeeded", [deployment(3)],
                              name=f"harness.release.{RELEASE}.9")
    before = settled_versions(api_client, namespace)

    for command in (["plan", RELEASE], ["history", RELEASE], ["rollback", RELEASE]):
        done = plugin(*command, "-n", namespace, check_exit=1)
        assert done.stderr == (f"error: declarative release secret/harness.release.{RELEASE}.2 and "
                               f"secret/harness.release.{RELEASE}.9 in namespace {namespace} both say they are "
                               f"release 2 of {RELEASE}; nothing was changed: delete the one that is not the release\n")
    assert versions(api_client, namespace) == before
    assert image(apps, namespace) == "registry.example/api:2"
