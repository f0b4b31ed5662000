"""Why a workload is not steady: pods and Events counted into reasons (pure), read only when needed."""

from kubectl_harness_rollback import diagnosis
from kubectl_harness_rollback.errors import NoEligibleRelease, NotSteady, RolloutFailed
from kubectl_harness_rollback.model import Revision, WorkloadRef
from kubectl_harness_rollback.workloads import pod_reasons

WEB = WorkloadRef("Deployment", "web", "shop")


def pod(name, waiting=None, restarts=0, ready=False, phase="Running", last_exit=None, scheduled=True):
    status = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"},
                                             {"type": "PodScheduled", "status": "True" if scheduled else "False",
                                              "reason": None if scheduled else "Unschedulable"}]}
    container = {"name": "web", "restartCount": restarts,
                 "state": {"waiting": {"reason": waiting}} if waiting else {"running": {}}}
    if last_exit is not None:
        container["lastState"] = {"terminated": {"exitCode": last_exit, "reason": "Error"}}
    if scheduled:
        status["containerStatuses"] = [container]
    return {"metadata": {"name": name}, "status": status}


def event(reason, message, count=1, kind="Warning", at="2026-12-04T10:00:00Z"):
    return {"type": kind, "reason": reason, "message": message, "count": count, "lastTimestamp": at}


def test_waiting_reasons_are_counted_most_frequent_first_with_restarts_and_the_last_exit():
    view = pod_reasons.reasons(
        [pod("web-b", "CrashLoopBackOff", 7, last_exit=1), pod("web-a", "CrashLoopBackOff", 5, last_exit=1),
         pod("web-c", "ImagePullBackOff"), pod("web-d", ready=True)], [])
    assert view["reasons"] == [{"reason": "CrashLoopBackOff", "count": 2}, {"reason": "ImagePullBackOff", "count": 1}]
    assert (view["pods"], view["ready"], view["restarts"], view["lastExit"]) == (4, 1, 12, "exit 1 (Error)")
    assert view["logsPod"] == "web-a"  # a restarted one: its previous container has the logs
    assert pod_reasons.summary(view) == ("3 of 4 pods not ready: 2× CrashLoopBackOff, 1× ImagePullBackOff; "
                                         "12 restarts, last exit 1 (Error)")


def test_unschedulable_not_ready_and_config_errors_are_named_as_kubectl_get_pods_names_them():
    view = pod_reasons.reasons([pod("a", scheduled=False, phase="Pending"), pod("b"),
                                pod("c", "CreateContainerConfigError")], [])
    assert [r["reason"] for r in view["reasons"]] == ["CreateContainerConfigError", "Running, not ready",
                                                      "Unschedulable"]


def test_warning_events_are_counted_by_reason_with_the_latest_message_and_normal_ones_left_out():
    view = pod_reasons.reasons([], [
        event("FailedCreate", 'pods "web-1" is forbidden: exceeded quota: pods, requested: pods=1', 3,
              at="2026-12-04T10:00:00Z"),
        event("FailedCreate", "admission webhook denied the request", 2, at="2026-12-04T10:05:00Z"),
        event("SuccessfulCreate", "Created pod: web-1", kind="Normal")])
    assert view["events"] == [{"reason": "FailedCreate", "count": 5, "message": "admission webhook denied the request"}]
    assert pod_reasons.summary(view) == "no pods; 5× FailedCreate: admission webhook denied the request"


class Kube:
    """Counts the requests; answers pods and events."""

    def __init__(self, pods=(), events=(), workload=None):
        self.sent, self.pods, self.events, self.workload = [], list(pods), list(events), workload

    def list(self, resource, namespace=None, label_selector=None, field_selector=None, metadata_only=False):
        self.sent.append((resource.plural, label_selector, field_selector))
        return self.pods if resource.plural == "pods" else self.events

    def get(self, resource, name, namespace=None):
        self.sent.append((resource.plural, name, None))
        return self.workload


DEPLOYMENT = {"metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"matchLabels": {"app": "web"}}},
              "status": {"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                         "message": 'ReplicaSet "web-2" has timed out progressing.'}]}}
RS = Revision(WEB, 2, (), "ReplicaSet", "web-2", ("web:2",),
              raw={"metadata": {"name": "web-2", "labels": {"app": "web", "pod-template-hash": "abc"}}})


def test_one_pod_list_of_the_revision_and_one_event_list_of_its_replica_set():
    kube = Kube([pod("web-2-x", "CrashLoopBackOff", 3, last_exit=1)])
    view = diagnosis.read_reasons(kube, WEB, DEPLOYMENT, RS)
    assert kube.sent == [("pods", "app=web,pod-template-hash=abc", None),
                         ("events", None, "involvedObject.kind=ReplicaSet,involvedObject.name=web-2,type=Warning")]
    assert diagnosis.logs_command(WEB, view) == "kubectl logs -n shop web-2-x --previous"
    assert diagnosis.logs_command(WEB, None) == "kubectl logs -n shop deployment/web"


def test_exit_4_when_the_controller_gave_up_advises_no_longer_timeout():
    kube = Kube([pod("web-2-x", "CrashLoopBackOff", 3, last_exit=1)], workload=DEPLOYMENT)
    timed_out = NotSteady("deployment/web not steady within the timeout; the rollback was written: watch it with "
                          "'kubectl rollout status' or run again with a longer --timeout")
    error = diagnosis.explain_exit_4(kube, timed_out, "release-x", "shop", {WEB: (None, RS)})
    assert isinstance(error, NotSteady) and error.exit_code == 4
    assert str(error) == ("deployment/web not steady within the timeout; the controller gave up on the rollout "
                          "(progress deadline exceeded); deployment/web: 1 of 1 pods not ready: 1× CrashLoopBackOff; "
                          "3 restarts, last exit 1 (Error); logs: kubectl logs -n shop web-2-x --previous; more time "
                          "will not help: roll back further or fix the release; next: kubectl harness-rollback plan "
                          "release-x -n shop")
    gave_up = diagnosis.explain_exit_4(kube, RolloutFailed('deployment "web" exceeded its progress deadline'),
                                       "release-x", "shop", {WEB: (DEPLOYMENT, RS)})
    assert "longer --timeout" not in str(gave_up) and str(gave_up).endswith("plan release-x -n shop")


def test_exit_4_while_the_controller_still_progresses_advises_watching():
    progressing = dict(DEPLOYMENT, status={"conditions": [{"type": "Progressing", "status": "True",
                                                            "reason": "ReplicaSetUpdated"}]})
    kube = Kube([pod("web-2-x")], workload=progressing)
    error = diagnosis.explain_exit_4(kube, NotSteady("deployment/web not steady within the timeout; the rollback "
                                                     "was written: run again with a longer --timeout"),
                                     "release-x", "shop", {WEB: (None, RS)})
    assert str(error).startswith("deployment/web not steady within the timeout; the rollback was written: run "
                                 "again with a longer --timeout; the controller is still rolling out; deployment/web: "
                                 "1 of 1 pods not ready: 1× Running, not ready")
    assert str(error).endswith("next: kubectl harness-rollback status release-x -n shop --watch")


def test_a_left_over_deadline_of_the_rolled_back_from_replica_set_is_not_giving_up():
    other = Revision(WEB, 1, (), "ReplicaSet", "web-1", ("web:1",), raw={"metadata": {"labels": {}}})
    assert not diagnosis._deadline_exceeded(DEPLOYMENT, other)
    assert diagnosis._deadline_exceeded(DEPLOYMENT, RS)


def test_exit_3_names_the_next_command():
    error = diagnosis.no_eligible("release 1 failed and there is nothing to roll back to", "release-x", "shop")
    assert isinstance(error, NoEligibleRelease) and error.exit_code == 3
    assert str(error) == ("release 1 failed and there is nothing to roll back to; next: kubectl harness-rollback "
                          "history release-x -n shop (then: kubectl harness-rollback plan release-x -n shop "
                          "--to-release N)")
