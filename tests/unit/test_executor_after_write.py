"""After the first write, any error says what was written and what was recorded, keeps its own
type (and exit code), and carries the outcome for `-o json` (executor._after_first_write).

Every API error after the first write used to end in `unexpected TypeError: ApiError.__init__()
missing 4 required positional arguments`: the message was rebuilt with type(error)(message)."""

import pytest

from kubectl_harness_rollback import outcome as items
from kubectl_harness_rollback.apply.object_diff import only_status_moved
from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.errors import ClusterUnreachable, Conflict, CorruptHistory, PluginError
from kubectl_harness_rollback.executor import _after_first_write
from kubectl_harness_rollback.model import WorkloadRef
from kubectl_harness_rollback.outcome import Outcome

WEB = WorkloadRef("Deployment", "web", "shop")


def written_not_recorded() -> Outcome:
    done = Outcome()
    done.written.append(items.restored(WEB, 2, ["web:2"]))
    return done


@pytest.mark.parametrize("code, exit_code", [(403, 1), (404, 1), (422, 1), (429, 1), (500, 1), (503, 1), (409, 5)])
def test_every_api_error_after_the_first_write_keeps_its_type_and_says_what_was_written(code, exit_code):
    body = b'{"kind":"Status","message":"denied by the test"}'
    error = apierrors.from_response(code, body, "patch", "configmaps", "shop", "release-x")
    done = written_not_recorded()
    after = _after_first_write(error, done)
    assert type(after) is type(error) and after.exit_code == exit_code
    assert after.status == code and after.outcome is done
    text = str(after)
    assert "\n" not in text
    assert "already written before it failed: deployment/web: restored the template of revision 2" in text
    assert "recorded: nothing" in text and "run the same command again" in text


def test_what_was_recorded_before_the_failure_is_named():
    done = written_not_recorded()
    done.recorded.append(items.history_updated("ConfigMap", "release-x", [{"release": 3, "status": "Failed"}]))
    after = _after_first_write(apierrors.from_response(403, b"{}", "create", "events", "shop"), done)
    assert "recorded: configmap/release-x" in str(after)


@pytest.mark.parametrize("error", [CorruptHistory("bad", reason="r"), ClusterUnreachable("gone"), Conflict("raced"),
                                   RuntimeError("boom")])
def test_other_errors_too(error):
    after = _after_first_write(error, written_not_recorded())
    assert isinstance(after, PluginError) and "already written before it failed" in str(after)
    if isinstance(error, CorruptHistory):
        assert after.reason == "r"


def test_nothing_written_leaves_the_error_as_it_is():
    error = apierrors.from_response(403, b"{}", "patch", "deployments", "shop", "web")
    assert str(_after_first_write(error, Outcome())) == str(error)


READ = {"metadata": {"name": "web", "uid": "u1", "generation": 4, "resourceVersion": "100", "labels": {"a": "b"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": "web:3"}]}}}}


def test_an_autoscaler_changing_replicas_is_not_someone_elses_change_for_a_template_restore():
    """An HPA or KEDA scaled between plan and PATCH: exit 5 in 2 of 6 runs, although a restored
    template leaves spec.replicas as it is (kubectl rollout undo does the same)."""
    scaled = {"metadata": {**READ["metadata"], "generation": 5, "resourceVersion": "101"},
              "spec": {**READ["spec"], "replicas": 7}}
    assert only_status_moved(READ, scaled, replicas_may_move=True)
    assert not only_status_moved(READ, scaled)  # a planned scale (bare ReplicaSet) it does change
    image = {**scaled, "spec": {**scaled["spec"], "template": {"spec": {"containers": [{"name": "web",
                                                                                     "image": "web:4"}]}}}}
    assert not only_status_moved(READ, image, replicas_may_move=True)
