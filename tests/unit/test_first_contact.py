"""First contact: what a new user meets when a command is mistyped or refused. Did-you-mean for
commands and release names, and the messages that used to mislead ("use --as" under --as)."""

from __future__ import annotations

import pytest

from kubectl_harness_rollback import reader
from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.cluster.rest import CONFIGMAPS, Rest
from kubectl_harness_rollback.did_you_mean import close_matches, suggestion
from tests.unit.test_rest import Server

COMMANDS = ["completion", "diff", "help", "history", "list", "options", "plan", "rbac", "record", "rollback",
            "status", "version"]


@pytest.mark.parametrize("typed, names, expected", [
    ("release-prd", ["release-prod", "release-infra-prod", "release-web"], ["release-prod"]),
    ("release-pr", ["release-prod", "release-web"], ["release-prod"]),  # what was typed begins it
    ("release-foo", ["release-bar"], []),  # a shared "release-" prefix alone is not alike
    ("rollbak", COMMANDS, ["rollback"]),
    ("stauts", COMMANDS, ["status"]),
    ("hist", COMMANDS, ["history"]),  # a name cut short wins over one a letter away ('list')
    ("rol", COMMANDS, ["rollback"]),
    ("re", COMMANDS, ["record"]),
    ("optoins", COMMANDS, ["options"]),
    ("x", COMMANDS, []),
    ("web", ["web"], []),  # the name itself is no suggestion
    ("a", [], []),
])
def test_close_matches(typed, names, expected):
    assert close_matches(typed, names) == expected


def test_suggestion_is_a_clause_of_the_message_or_nothing():
    assert suggestion("release-prd", ["release-prod"]) == "; did you mean release-prod?"
    assert suggestion("re", ["record", "release-x", "rbac"]) == "; did you mean record or release-x?"
    assert suggestion("zzz", COMMANDS) == ""


def _forbidden(message: str, **kwargs) -> str:
    server = Server((403, {"kind": "Status", "code": 403, "message": message}))
    with pytest.raises(apierrors.Forbidden) as caught:
        Rest("https://127.0.0.1:6443", server, **kwargs).get(CONFIGMAPS, "release-x", "shop")
    return str(caught.value)


def test_forbidden_without_as_suggests_as():
    text = _forbidden('configmaps "release-x" is forbidden: User "dev" cannot get resource "configmaps"')
    assert text.endswith("; ask for that permission or use --as")


def test_forbidden_under_as_does_not_suggest_as_again():
    text = _forbidden('configmaps "release-x" is forbidden: User "nobody" cannot get resource "configmaps"',
                      headers=[("Impersonate-User", "nobody")])
    assert text.startswith("forbidden: cannot get configmaps in namespace shop (")
    assert text.endswith("; ask for that permission for nobody (--as), or run as a user who has it")
    assert "use --as" not in text


def test_forbidden_to_impersonate_says_so():
    text = _forbidden('users "nobody" is forbidden: User "dev" cannot impersonate resource "users" in API group ""',
                      headers=[("Impersonate-User", "nobody")])
    assert text.startswith("forbidden: cannot impersonate nobody (--as) (")
    assert text.endswith("ask for the right to impersonate, or run without --as")


class _Kube:
    """Reads of a namespace holding workloads of releases other than the one asked for."""

    def __init__(self, labelled: dict[str, str]):
        self.labelled, self.requests = labelled, []

    def list(self, resource, namespace, **kwargs):
        self.requests.append(("list", resource.plural))
        if resource.plural != "deployments":
            return []
        return [{"metadata": {"name": name, "namespace": namespace, "uid": name,
                              "labels": {"harness.io/release-name": release}}, "spec": {}}
                for name, release in self.labelled.items()]

    def get_or_none(self, resource, name, namespace):
        self.requests.append(("get", resource.plural))
        return None

    def get(self, resource, name, namespace=None):
        self.requests.append(("get", resource.plural))
        return {"metadata": {"name": name}}


def test_an_unknown_release_suggests_one_the_workload_lists_named_at_no_extra_request():
    kube = _Kube({"web": "release-prod", "api": "release-infra-prod"})
    with pytest.raises(reader.NotFound) as caught:
        reader.read_release(kube, "shop", reader.Target(release_name="release-prd"))
    assert str(caught.value).startswith("release 'release-prd' not found in namespace shop; did you mean "
                                        "release-prod? (no release history")
    asked = list(kube.requests)
    with pytest.raises(reader.NotFound) as unlike:
        reader.read_release(kube, "shop", reader.Target(release_name="zzz"))
    assert "did you mean" not in str(unlike.value)
    assert kube.requests[len(asked):] == asked  # the suggestion costs no request


def test_an_unknown_workload_suggests_a_listed_one():
    kube = _Kube({"web": "release-prod"})
    with pytest.raises(reader.NotFound, match=r"^deployment/webb not found in namespace shop; did you mean web\?$"):
        reader.read_release(kube, "shop", reader.Target(kind="Deployment", name="webb"))


# -- the command line ---------------------------------------------------------------------------

def test_completion_descriptions_are_whole(capsys):
    from kubectl_harness_rollback.cli.app import kubectl_complete_main

    kubectl_complete_main(["p"])
    assert capsys.readouterr().out == "plan\tShow what a rollback of TARGET would do, and why; change nothing.\n:4\n"
    kubectl_complete_main(["help", "re"])
    assert capsys.readouterr().out.splitlines()[0] == (
        "record\tRecord a deploy step as a Harness release, for pipelines that are not Harness.")


@pytest.mark.parametrize("argv", [[], ["help"], ["--help"]])
def test_the_bare_command_and_help_print_the_root_help_and_exit_0(argv):
    import os
    import subprocess
    import sys

    from kubectl_harness_rollback.cli import fast_path

    for width in ("100", "60"):  # the quick answer, and click's own on a narrow terminal
        done = subprocess.run([sys.executable, "-m", "kubectl_harness_rollback", *argv], capture_output=True,
                              text=True, timeout=60, env={**os.environ, "COLUMNS": width})
        assert (done.returncode, done.stderr) == (0, ""), done
        assert done.stdout.startswith("Usage: kubectl harness-rollback [OPTIONS] COMMAND")
        assert "On call, a release is failing:" in done.stdout and done.stdout.count("\n") > 30
        assert done.stdout.endswith(fast_path.HELP.splitlines()[-1] + "\n")
        if width == "100":
            assert done.stdout == fast_path.HELP


@pytest.mark.parametrize("argv, message", [
    (["plan", "r", "--to-revision", "-1"], "invalid value for '--to-revision': -1 is less than 0"),
    (["plan", "r", "--to-release", "0"], "invalid value for '--to-release': 0 is less than 1"),
    (["history", "r", "-v", "-1"], "invalid value for '-v' / '--v': -1 is less than 0"),
    (["history", "r", "--contexts", "a", "--max-parallel", "0"], "invalid value for '--max-parallel': 0 is less than 1"),
])
def test_a_number_below_its_minimum_names_the_minimum(capsys, argv, message):
    from kubectl_harness_rollback.cli.app import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out == ""
    assert err.startswith(f"error: {message} (see 'kubectl harness-rollback ") and "range" not in err


def test_connection_flags_alone_print_the_help_as_bare_kubectl_does(capsys):
    from kubectl_harness_rollback.cli.app import main

    outputs = []
    for argv in ([], ["-n", "shop", "--context", "prod"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        out, err = capsys.readouterr()
        assert (exited.value.code, err) == (0, "")
        outputs.append(out)
    assert outputs[0] == outputs[1] and outputs[0].startswith("Usage: kubectl harness-rollback [OPTIONS] COMMAND [ARGS]")
