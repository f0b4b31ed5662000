"""Whole-object comparison (object_diff) and what kubectl apply leaves (last_applied): pure, table-driven."""

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_harness_rollback.apply import last_applied
from kubectl_harness_rollback.apply.object_diff import apply_differences, template_differences

NS = "shop"


def config_map(**data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}


def applied(manifest, **extra_meta):
    """`manifest` as `kubectl apply -n NS` leaves it."""
    live = copy.deepcopy(manifest)
    live["metadata"].update(namespace=NS, uid="u", resourceVersion="7", **extra_meta)
    live["metadata"]["annotations"] = {**(manifest["metadata"].get("annotations") or {}),
                                       last_applied.ANNOTATION: last_applied.value(manifest, NS)}
    return live


def texts(manifest, live):
    return [d.text() for d in apply_differences(manifest, live, NS)]


# --- the last-applied annotation, byte for byte as kubectl writes it ----------------------------------------

def test_last_applied_is_kubectls_encoding():
    manifest = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}, "data": {"b": "<&>", "a": "é"}}
    # Go's encoder: keys sorted, compact, HTML characters escaped, UTF-8 kept, a final newline; kubectl
    # sets the namespace and an empty annotations map (GetModifiedConfiguration).
    assert last_applied.value(manifest, NS) == (
        '{"apiVersion":"v1","data":{"a":"é","b":"\\u003c\\u0026\\u003e"},"kind":"ConfigMap",'
        '"metadata":{"annotations":{},"name":"c","namespace":"shop"}}\n')


def test_last_applied_leaves_out_its_own_annotation_and_keeps_the_others():
    manifest = config_map(a="1")
    manifest["metadata"]["annotations"] = {"team": "x", last_applied.ANNOTATION: "old"}
    assert last_applied.expected(manifest, NS)["metadata"]["annotations"] == {"team": "x"}


# --- kubectl apply's three-way rule -------------------------------------------------------------------------

def test_an_object_as_applied_has_no_difference():
    assert texts(config_map(a="1"), applied(config_map(a="1"))) == []


def test_a_missing_object_is_created():
    assert texts(config_map(a="1"), None) == ["created from the stored manifest"]


def test_a_changed_and_an_added_key_are_named():
    live = applied(config_map(a="2", extra="x"))
    assert texts(config_map(a="1"), live) == ["data.a: 2 → 1", "data.extra: x → <none>",
                                              f"metadata.annotations[{last_applied.ANNOTATION}]: changed"]


def test_fields_nobody_applied_are_left_alone():
    live = applied(config_map(a="1"))
    live["metadata"]["labels"] = {"added-by": "someone-else"}  # not in any last-applied: apply keeps it
    assert texts(config_map(a="1"), live) == []


def test_an_object_never_applied_gets_the_annotation():
    live = copy.deepcopy(config_map(a="1"))
    live["metadata"]["namespace"] = NS
    assert texts(config_map(a="1"), live) == [f"metadata.annotations[{last_applied.ANNOTATION}]: added"]


def deployment(containers):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
            "spec": {"template": {"spec": {"containers": containers}}}}


def test_lists_are_matched_by_their_merge_key_not_their_order():
    want = deployment([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}])
    live = applied(deployment([{"name": "b", "image": "b:1"}, {"name": "a", "image": "a:1"}]))
    live["metadata"]["annotations"][last_applied.ANNOTATION] = last_applied.value(want, NS)
    assert texts(want, live) == []


def test_an_added_container_env_and_port_are_removed():
    want = deployment([{"name": "api", "image": "api:1", "env": [{"name": "MODE", "value": "safe"}]}])
    failed = deployment([{"name": "api", "image": "api:1", "ports": [{"containerPort": 9090}],
                          "env": [{"name": "MODE", "value": "BROKEN"}, {"name": "EXTRA", "value": "1"}]},
                         {"name": "sidecar", "image": "proxy:1"}])
    found = texts(want, applied(failed))
    assert found[:4] == [
        "spec.template.spec.containers[api].env[MODE].value: BROKEN → safe",
        'spec.template.spec.containers[api].env[EXTRA]: {"name":"EXTRA","value":"1"} → <none>',
        'spec.template.spec.containers[api].ports: [{"containerPort":9090}] → <none>',
        'spec.template.spec.containers[sidecar]: {"image":"proxy:1","name":"sidecar"} → <none>',
    ]


def test_a_zero_value_the_server_does_not_store_is_no_difference():
    want = deployment([{"name": "api", "env": [{"name": "LEVEL", "value": ""}], "stdin": False}])
    live = applied(deployment([{"name": "api", "env": [{"name": "LEVEL"}]}]))
    live["metadata"]["annotations"][last_applied.ANNOTATION] = last_applied.value(want, NS)
    assert texts(want, live) == []


def test_quantities_are_compared_as_quantities():
    want = deployment([{"name": "api", "resources": {"limits": {"cpu": 0.5, "memory": "1Gi"}}}])
    live = applied(deployment([{"name": "api", "resources": {"limits": {"cpu": "500m", "memory": "1024Mi"}}}]))
    live["metadata"]["annotations"][last_applied.ANNOTATION] = last_applied.value(want, NS)
    assert texts(want, live) == []


def test_a_secrets_values_are_never_shown():
    want = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "bmV3"}}
    live = applied({**want, "data": {"password": "b2xk"}})
    found = [d.text(hide_values=True) for d in apply_differences(want, live, NS)]
    assert found[0] == "data.password: changed" and "bmV3" not in json.dumps(found) and "b2xk" not in json.dumps(found)


def test_string_data_is_compared_with_what_the_server_stores():
    want = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}
    live = applied(want)
    live["data"] = {"k": "dg=="}
    del live["stringData"]
    assert texts(want, live) == []


def test_an_apply_cut_short_before_handing_ownership_back_is_a_change():
    live = applied(config_map(a="1"), managedFields=[{"manager": last_applied.CSA_MANAGER, "operation": "Apply"}])
    assert texts(config_map(a="1"), live) == [f"metadata.managedFields[{last_applied.CSA_MANAGER}]: Apply → Update"]


# --- EqualIgnoreHash ----------------------------------------------------------------------------------------

def template(env=None, hash_label="abc"):
    container = {"name": "web", "image": "web:1", **({"env": env} if env else {})}
    return {"metadata": {"labels": {"app": "web", "pod-template-hash": hash_label}}, "spec": {"containers": [container]}}


def test_templates_equal_but_for_the_hash_are_equal():
    assert template_differences(template(hash_label="a"), template(hash_label="b")) == []


def test_a_controller_revisions_patch_directive_is_not_a_difference():
    assert template_differences(template(), {**template(), "$patch": "replace"}) == []


def test_an_env_only_change_is_a_difference():
    found = [d.text() for d in template_differences(template([{"name": "MODE", "value": "BROKEN"}]),
                                                    template([{"name": "MODE", "value": "safe"}]))]
    assert found == ["spec.template.spec.containers[web].env[MODE].value: BROKEN → safe"]


# --- client-go's csaupgrade, and back -----------------------------------------------------------------------

CSA = {"manager": last_applied.CSA_MANAGER, "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1",
       "fieldsV1": {"f:data": {"f:a": {}}, "f:metadata": {"f:annotations": {f"f:{last_applied.ANNOTATION}": {}}}}}
CONTROLLER = {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
              "subresource": "status", "fieldsV1": {"f:status": {}}}


def test_the_client_side_appliers_fields_go_to_an_apply_entry_and_come_back():
    upgraded = last_applied.upgraded([CSA, CONTROLLER])
    assert upgraded == [{**CSA, "operation": "Apply"}, CONTROLLER]
    assert last_applied.downgraded(upgraded) == [CSA, CONTROLLER]
    assert last_applied.upgraded(upgraded) is None  # nothing left to hand over
    assert last_applied.downgraded([CSA, CONTROLLER]) is None


def test_an_existing_apply_entry_takes_the_union():
    apply = {**CSA, "operation": "Apply", "fieldsV1": {"f:data": {"f:b": {}}}}
    upgraded = last_applied.upgraded([apply, CSA])
    assert upgraded == [{**apply, "fieldsV1": {"f:data": {"f:b": {}, "f:a": {}},
                                               "f:metadata": CSA["fieldsV1"]["f:metadata"]}}]


def test_another_owner_of_the_annotation_is_handed_over_too():
    other = {**CSA, "manager": "old-kubectl"}
    upgraded = last_applied.upgraded([other])
    assert upgraded == [{**other, "manager": last_applied.CSA_MANAGER, "operation": "Apply"}]


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=5), max_size=4))
def test_every_configmap_as_applied_compares_equal(data):
    manifest = config_map(**data) if all(k.isidentifier() for k in data) else {**config_map(), "data": data}
    assert apply_differences(manifest, applied(manifest), NS) == []


@pytest.mark.parametrize("value", ["1", "", "x" * 100])
def test_values_are_shown_short_and_on_one_line(value):
    live = applied(config_map(a=value + "\n"))
    line = texts(config_map(a="z"), live)[0]
    assert "\n" not in line and len(line) < 140


class ConflictingKube:
    """A controller writes status between each read and write, `losses` times."""

    def __init__(self, losses):
        self.losses, self.patches = losses, []

    def patch(self, resource, name, namespace, body, patch_type, **kwargs):
        from kubectl_harness_rollback.errors import Conflict
        self.patches.append(body)
        if len(self.patches) <= self.losses:
            raise Conflict("409")

    def get_or_none(self, resource, name, namespace):
        return {"metadata": {"resourceVersion": str(100 + len(self.patches)),
                             "managedFields": [{**CSA, "operation": "Apply"}]}}


def test_handing_ownership_back_outlasts_a_controllers_status_writes():
    from kubectl_harness_rollback.apply.manifests import _hand_back
    from kubectl_harness_rollback.cluster.rest import DEPLOYMENTS

    kube = ConflictingKube(losses=8)
    _hand_back(kube, DEPLOYMENTS, "api", NS, kube.get_or_none(None, None, None), sleep=lambda _: None)
    assert len(kube.patches) == 9 and kube.patches[-1][0]["value"] == [CSA]  # Update again, from a fresh read
    assert kube.patches[-1][1] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "108"}


def test_handing_ownership_back_gives_up_with_a_conflict_that_says_what_to_do():
    from kubectl_harness_rollback.apply.manifests import HAND_BACK_ATTEMPTS, _hand_back
    from kubectl_harness_rollback.cluster.rest import DEPLOYMENTS
    from kubectl_harness_rollback.errors import Conflict

    kube = ConflictingKube(losses=10**6)
    with pytest.raises(Conflict, match="run the same command again"):
        _hand_back(kube, DEPLOYMENTS, "api", NS, kube.get_or_none(None, None, None), sleep=lambda _: None)
    assert len(kube.patches) == HAND_BACK_ATTEMPTS
