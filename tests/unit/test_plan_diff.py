"""`plan --diff` and `diff REL A B`: unified diffs, plain and coloured, Secret values never shown."""

import copy
import sys

from click.testing import CliRunner

from kubectl_harness_rollback.cli.app import cli
from kubectl_harness_rollback.model import (
    Identity,
    InfraMapping,
    Release,
    ReleaseModel,
    ReleaseWorkload,
    Revision,
    Source,
    Status,
    WorkloadRef,
    WorkloadState,
)
from kubectl_harness_rollback.output import diff
from kubectl_harness_rollback.planner import PlanOptions, plan

NS = "shop"
WEB = WorkloadRef("Deployment", "web", NS)
WHO = Identity("w1", InfraMapping("svc", "infra", "prod", NS))


def template(version, command=None, label=None, pod_hash=None):
    labels = {"app": "web", **({"pod-template-hash": pod_hash} if pod_hash else {}), **(label or {})}
    container = {"name": "web", "image": f"registry.example/web:{version}",
                 "env": [{"name": "MODE", "value": "safe"}]}
    if command:
        container["command"] = command
    return {"metadata": {"labels": labels}, "spec": {"containers": [container]}}


def legacy_model():
    """Release 2 (failed) set a command that exits 1 and a label; release 1 is the good one."""
    good, bad = template("1", pod_hash="aaa"), template("2", ["sh", "-c", "exit 1"], {"track": "canary"}, "bbb")
    revisions = [Revision(WEB, n, (), "ReplicaSet", f"web-{n}", (f"registry.example/web:{n}",),
                          raw={"metadata": {"name": f"web-{n}"}, "spec": {"template": t}})
                 for n, t in ((1, good), (2, bad))]
    live = {"metadata": {"name": "web", "namespace": NS}, "spec": {"template": copy.deepcopy(bad)}}
    live["spec"]["template"]["metadata"]["labels"].pop("pod-template-hash")
    state = WorkloadState(WEB, "100", 2, ("registry.example/web:2",), revisions, raw=live)
    releases = [Release(n, s, [ReleaseWorkload(WEB, n)], Source.LEGACY, WHO, store="configmap/r")
                for n, s in ((2, Status.FAILED), (1, Status.SUCCEEDED))]
    return ReleaseModel("release-x", NS, releases, {WEB: state})


LEGACY_DIFF = """\
--- live/deployment/web/spec.template
+++ release-1/deployment/web/spec.template
@@ -1,15 +1,10 @@
 metadata:
   labels:
     app: web
-    track: canary
 spec:
   containers:
-  - command:
-    - sh
-    - -c
-    - exit 1
-    env:
+  - env:
     - name: MODE
       value: safe
-    image: registry.example/web:2
+    image: registry.example/web:1
     name: web
"""


def test_the_default_plan_names_every_changed_field_not_only_the_image():
    decided = plan(legacy_model(), PlanOptions())
    assert decided.workloads[0].differences == [
        "spec.template.metadata.labels.track: canary → <none>",
        "spec.template.spec.containers[web].image: registry.example/web:2 → registry.example/web:1",
        'spec.template.spec.containers[web].command: ["sh","-c","exit 1"] → <none>',
    ]


def test_legacy_diff_is_the_whole_pod_template_live_against_the_restored_revision_golden():
    model = legacy_model()
    lines = diff.plan_diff(model, plan(model, PlanOptions()))
    assert diff.colored(lines, color=False) == LEGACY_DIFF


def test_coloured_diff_golden():
    model = legacy_model()
    text = diff.colored(diff.plan_diff(model, plan(model, PlanOptions())), color=True)
    lines = text.splitlines()
    assert lines[0] == "\x1b[1m--- live/deployment/web/spec.template\x1b[0m"
    assert lines[1] == "\x1b[1m+++ release-1/deployment/web/spec.template\x1b[0m"
    assert lines[2] == "\x1b[36m@@ -1,15 +1,10 @@\x1b[0m"
    assert lines[3] == " metadata:"
    assert "\x1b[31m-    track: canary\x1b[0m" in lines
    assert "\x1b[32m+    image: registry.example/web:1\x1b[0m" in lines
    # Without the escapes it is the plain diff, line for line.
    assert text.replace("\x1b[1m", "").replace("\x1b[36m", "").replace("\x1b[31m", "").replace(
        "\x1b[32m", "").replace("\x1b[0m", "") == LEGACY_DIFF


def test_nothing_to_change_is_no_diff():
    model = legacy_model()
    model.workloads[WEB].raw["spec"]["template"] = copy.deepcopy(model.workloads[WEB].revisions[0].template)
    model.workloads[WEB].current_revision = 1
    assert diff.plan_diff(model, plan(model, PlanOptions(to_release=1))) == []


def test_two_releases_are_compared_by_their_stored_templates():
    model = legacy_model()
    by = {r.number: r for r in model.releases}
    text = diff.colored(diff.releases_diff(model, by[1], by[2]), color=False)
    assert text.startswith("--- release-1/deployment/web/spec.template\n+++ release-2/deployment/web/spec.template\n")
    assert "+    track: canary\n" in text and "+    - exit 1\n" in text and "pod-template-hash" not in text


SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
          "data": {"password": "c2VjcmV0LTE=", "user": "YWRtaW4="}}


def test_secret_values_are_masked_as_kubectl_diff_masks_them():
    live = copy.deepcopy(SECRET)
    live["metadata"]["namespace"] = NS
    live["data"]["password"] = "c2VjcmV0LTI="
    before, after = diff.applied_pair(SECRET, live, NS)
    text = "\n".join(diff.unified("secret/creds", "live", "release-1", before, after, secret=True))
    assert "c2Vj" not in text and "YWRt" not in text
    assert "-  password: '*** (before)'" in text and "+  password: '*** (after)'" in text
    assert "   user: '***'" in text


def test_declarative_pair_covers_the_manifests_fields_and_those_the_last_apply_set():
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}
    live = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": NS, "uid": "u", "resourceVersion": "9", "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration":
                    '{"apiVersion":"v1","data":{"a":"2","b":"x"},"kind":"ConfigMap","metadata":{"name":"cfg"}}'}},
            "data": {"a": "2", "b": "x", "c": "someone else's"}}
    before, after = diff.applied_pair(manifest, live, NS)
    assert before["data"] == {"a": "2", "b": "x"}  # c: nobody applied it, the apply leaves it
    assert after["data"] == {"a": "1"} and after["metadata"] == {"name": "cfg", "namespace": NS}
    assert "uid" not in before["metadata"]


def test_diff_with_json_output_or_contexts_is_a_usage_error():
    done = CliRunner().invoke(cli, ["plan", "r", "--diff", "-o", "json"])
    assert done.exit_code == 2 and "--diff prints text for people" in done.output


def test_the_last_applied_note_is_grammatical():
    model = legacy_model()
    model.workloads[WEB].annotations["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    [note] = [n for n in plan(model, PlanOptions()).notes if "last-applied" in n]
    assert note.startswith("deployment/web keeps kubectl's last-applied-configuration, which still describes")


class Terminal:
    def __init__(self, tty):
        self.tty, self.written = tty, []

    def isatty(self):
        return self.tty

    def write(self, text):
        self.written.append(text.decode() if isinstance(text, bytes) else text)

    def flush(self):
        pass


def test_colour_on_a_terminal_unless_no_color_and_never_on_a_pipe(monkeypatch):
    from kubectl_harness_rollback.cli import app

    lines = ["--- live/x", "+++ release-1/x", "@@ -1 +1 @@", "-a: 1", "+a: 2"]
    for tty, no_color, coloured in ((True, None, True), (True, "1", False), (False, None, False)):
        terminal = Terminal(tty)
        monkeypatch.setattr(sys, "stdout", terminal)
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("TERM", "xterm")
        if no_color:
            monkeypatch.setenv("NO_COLOR", no_color)
        app._echo_diff(lines)
        assert ("\x1b[31m-a: 1\x1b[0m" in "".join(terminal.written)) is coloured
        assert "-a: 1" in "".join(terminal.written)
