"""CLI hygiene (issue 10): usage errors are one line and exit 2, TARGET is checked as kubectl would
before any request, and a lost race has an exit code of its own."""

from __future__ import annotations

import re

import pytest

from kubectl_harness_rollback.cli import app as cli
from kubectl_harness_rollback.cli import reads
from kubectl_harness_rollback.errors import Conflict, UsageError
from kubectl_harness_rollback.reader import Target

ONE_USAGE_LINE = re.compile(r"error: [^\n]+ \(see 'kubectl harness-rollback( [a-z]+)? --help'\)\n")


def run_main(argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    out, err = capsys.readouterr()
    return exited.value.code, out, err


@pytest.fixture
def no_cluster(monkeypatch):
    """Any attempt to reach the cluster fails the test: usage errors come before any request."""
    from kubectl_harness_rollback.cluster import client

    def connect(flags, env=None):
        raise AssertionError("a usage error must be found before connecting")

    monkeypatch.setattr(client, "connect", connect)


@pytest.mark.parametrize("argv, expected", [
    (["plan", "release-x", "--bogus"],
     "error: no such option '--bogus'. Did you mean '--user'? (see 'kubectl harness-rollback plan --help')\n"),
    (["plan", "release-x", "--match", "nope"],
     "error: invalid value for '--match': 'nope' is not one of 'workflow', 'infra' "
     "(see 'kubectl harness-rollback plan --help')\n"),
    (["history"], "error: missing argument 'TARGET' (see 'kubectl harness-rollback history --help')\n"),
    (["undo"], "error: no such command 'undo'; did you mean rollback? (see 'kubectl harness-rollback --help')\n"),
    (["stauts"], "error: no such command 'stauts'; did you mean status? (see 'kubectl harness-rollback --help')\n"),
    (["frobnicate"], "error: no such command 'frobnicate' (see 'kubectl harness-rollback --help')\n"),
    (["rollback", "r", "--to-release", "1", "--to-revision", "2"],
     "error: --to-release and --to-revision cannot be used together "
     "(see 'kubectl harness-rollback rollback --help')\n"),
])
def test_usage_errors_are_exactly_one_line_and_exit_2(no_cluster, capsys, argv, expected):
    code, out, err = run_main(argv, capsys)
    assert (code, out, err) == (2, "", expected)


@pytest.mark.parametrize("argv", [
    ["list", "-o", "xml"],
    ["plan", "r", "--to-release", "zero"],
    ["plan", "r", "--to-release", "0"],
    ["rollback", "r", "--timeout", "soon"],
    ["record", "deployment/web"],  # --status is required
    ["record", "deployment/web", "--status", "Done"],
    ["completion", "tcsh"],
    ["history", "r", "extra"],
    ["history", "r", "--as-group", "ops"],
    ["history", "release infra"],
    ["history", "deployment.example.com/web"],
    ["--bogus", "version"],
])
def test_every_kind_of_usage_error_has_the_same_one_line_shape(no_cluster, capsys, argv):
    code, out, err = run_main(argv, capsys)
    assert code == 2 and out == ""
    assert ONE_USAGE_LINE.fullmatch(err), err


def test_help_still_prints_and_exits_0(capsys):
    code, out, _ = run_main(["plan", "--help"], capsys)
    assert code == 0 and "Usage: kubectl harness-rollback plan" in out


# -- KIND/NAME: only what kubectl accepts -----------------------------------------------------

@pytest.mark.parametrize("kind, expected", [
    (spelling, api_kind)
    for api_kind, names in {
        "Deployment": ("deployment", "deployments", "deploy"),
        "StatefulSet": ("statefulset", "statefulsets", "sts"),
        "DaemonSet": ("daemonset", "daemonsets", "ds"),
        "ReplicaSet": ("replicaset", "replicasets", "rs"),
    }.items()
    for name in names
    for spelling in (name, name + ".apps", name + ".v1.apps", name.upper())
] + [("Deployment", "Deployment"), ("StatefulSet.apps", "StatefulSet"), ("Deployments.V1.Apps", "Deployment")])
def test_kinds_and_aliases_kubectl_accepts(kind, expected):
    assert Target.parse(f"{kind}/web") == Target(kind=expected, name="web")


@pytest.mark.parametrize("kind", [
    "deployment.example.com", "deployments.extensions", "deployment.v2.apps", "deployment.apps.v1", "deploy.",
    "deployment.", ".apps", "deployment.v1", "cronjob", "pods", "dep", "deployment.apps.example.com",
])
def test_other_kinds_are_usage_errors(kind):
    with pytest.raises(UsageError, match=f"unsupported workload kind {re.escape(repr(kind))}: use one of"):
        Target.parse(f"{kind}/web")


@pytest.mark.parametrize("name", ["Web", "web_1", "web/", "-web", "web-", "we b", "a" * 254, "web..x"])
def test_a_workload_name_must_be_an_object_name(name):
    with pytest.raises(UsageError):
        Target.parse(f"deployment/{name}")


# -- release names: an object name that is also a label value ------------------------------------

@pytest.mark.parametrize("name", ["release-infra-prod", "a", "0", "release.1-x", "r" * 63,
                                  "release-3f2a1c7e-0b1d-4c2e-9a55-77e1b2c3d4e5"])
def test_valid_release_names(name):
    assert Target.parse(name) == Target(release_name=name)


@pytest.mark.parametrize("name", ["release infra", "Release-Infra", "release_infra", "-release", "release-",
                                  ".release", "release..x", "r" * 64, "rélease", "release\ninfra", "release:1"])
def test_invalid_release_names_are_usage_errors_of_one_line(name):
    with pytest.raises(UsageError) as caught:
        Target.parse(name)
    message = str(caught.value)
    assert message.startswith(f"{name!r} is not a valid release name: ") and "\n" not in message


def test_an_invalid_release_name_through_main_is_one_line(no_cluster, capsys):
    code, out, err = run_main(["plan", "release infra"], capsys)
    assert code == 2 and out == ""
    assert err == ("error: 'release infra' is not a valid release name: a release name is a Kubernetes object name "
                   "and a label value: lowercase letters, digits, '-' and '.', starting and ending with a letter "
                   "or digit, at most 63 characters (see 'kubectl harness-rollback plan --help')\n")


# -- a lost race exits 5 ------------------------------------------------------------------------

def test_conflict_has_exit_code_5():
    assert Conflict("x").exit_code == 5


def test_a_conflict_exits_5_with_one_line(monkeypatch, capsys):
    def cluster(connection):
        raise Conflict("deployment/web was changed by someone else after it was read; nothing of it was "
                       "overwritten: run the command again to re-plan from its current state")

    monkeypatch.setattr(reads, "cluster", cluster)
    code, out, err = run_main(["rollback", "release-x"], capsys)
    assert (code, out) == (5, "")
    assert err.startswith("error: deployment/web was changed by someone else") and err.count("\n") == 1
