"""Shell completion: Cobra's protocol for kubectl, click's scripts, TARGET candidates.

No cluster: where candidates come from the cluster, the connection and the reads are replaced.
"""

import pytest
from click.shell_completion import CompletionItem

from kubectl_harness_rollback import kinds, listing
from kubectl_harness_rollback.cli import completion
from kubectl_harness_rollback.cli.app import cli, kubectl_complete_main, main
from kubectl_harness_rollback.cluster import client
from kubectl_harness_rollback.errors import ConfigError, UsageError
from kubectl_harness_rollback.workloads import deployment


def complete(capsys, *args):
    """Run the kubectl_complete-harness_rollback entry point: (candidates, directive line)."""
    kubectl_complete_main(list(args))
    out = capsys.readouterr()
    assert out.err == ""
    *lines, directive = out.out.splitlines()
    return [line.split("\t")[0] for line in lines], directive


@pytest.mark.parametrize("items, directive, expected", [
    ([], 4, ":4\n"),
    ([CompletionItem("a"), CompletionItem("b", help="the b")], 4, "a\nb\tthe b\n:4\n"),
    ([CompletionItem("x", help="two\n  lines\there")], 4, "x\ttwo lines here\n:4\n"),
    ([CompletionItem("", type="file")], 0, ":0\n"),
    ([CompletionItem("", type="dir")], 16, ":16\n"),
])
def test_cobra_output(items, directive, expected):
    assert completion.cobra_output(items, directive) == expected


@pytest.mark.parametrize("prefix", [[], ["__complete"]])
def test_subcommands_with_or_without_cobras_complete_word(capsys, prefix):
    assert complete(capsys, *prefix, "hi") == (["history"], ":4")
    names, directive = complete(capsys, *prefix, "")
    assert {"history", "plan", "rollback", "list", "version", "completion"} <= set(names)
    assert directive == ":4"


def test_descriptions_follow_a_tab(capsys):
    kubectl_complete_main(["hi"])
    assert capsys.readouterr().out.startswith("history\tShow the releases of TARGET")


@pytest.mark.parametrize("args, expected", [
    (["history", "x", "-o", ""], (["table", "wide", "name", "json", "yaml"], ":4")),
    (["history", "x", "--out"], (["--output"], ":4")),
    (["plan", "x", "--match", "w"], (["workflow"], ":4")),
    (["history", "x", "--kubeconfig", ""], ([], ":0")),  # a path: the shell completes files
    (["-n", "shop", "--certificate-authority", ""], ([], ":0")),
    (["completion", ""], (["bash", "zsh", "fish"], ":4")),
])
def test_options_and_choices(capsys, args, expected):
    assert complete(capsys, *args) == expected


class FakeKube:
    def __init__(self, flags):
        self.flags, self.namespace = flags, flags.namespace or "default"


@pytest.fixture
def cluster(monkeypatch):
    """A stand-in cluster with three releases and three Deployments; records the flags used."""
    seen = []

    def connect(flags, env=None):
        seen.append(flags)
        return FakeKube(flags)

    def read_catalog(kube, namespace, live=True):
        assert namespace == kube.namespace and not live  # names and statuses only: no list of revisions
        rows = [{"release": name, "latest": latest, "status": status}
                for name, latest, status in [("release-a", 3, "Failed"), ("release-b", None, None), ("other", 1, None)]]
        return rows, []

    monkeypatch.setattr(client, "connect", connect)
    monkeypatch.setattr(listing, "read_catalog", read_catalog)
    monkeypatch.setattr(deployment, "list_workloads", lambda kube, namespace: [
        {"metadata": {"name": name}} for name in ("worker", "api", "web")])
    return seen


def test_target_offers_release_names_from_the_namespace_on_the_line(capsys, cluster):
    assert complete(capsys, "--context", "prod", "history", "-n", "shop", "rel") == (["release-a", "release-b"], ":4")
    assert (cluster[0].context, cluster[0].namespace) == ("prod", "shop")
    assert cluster[0].request_timeout == completion.REQUEST_TIMEOUT


def test_a_flag_after_the_command_wins_and_request_timeout_is_kept(capsys, cluster):
    complete(capsys, "-n", "a", "--request-timeout", "2s", "rollback", "-n", "b", "")
    assert (cluster[0].namespace, cluster[0].request_timeout) == ("b", 2)


def test_release_descriptions(capsys, cluster):
    kubectl_complete_main(["plan", "release-"])
    assert capsys.readouterr().out == "release-a\trelease 3, Failed\nrelease-b\trelease\n:4\n"


@pytest.mark.parametrize("typed, expected", [
    ("deploy/w", ["deploy/web", "deploy/worker"]),
    ("deployment/", ["deployment/api", "deployment/web", "deployment/worker"]),
    ("pod/w", []),  # not a kind the plugin rolls back
])
def test_kind_slash_name_offers_workloads(capsys, cluster, typed, expected):
    assert complete(capsys, "rollback", typed) == (expected, ":4")


# Every workload kind of the kinds table, by its kind name.
KINDS = sorted(f"{kind.singular}/" for kind in kinds.WORKLOADS)


def test_a_cluster_error_gives_no_candidates_and_no_traceback(capsys, monkeypatch):
    def broken(flags, env=None):
        raise ConfigError("no kubeconfig")

    monkeypatch.setattr(client, "connect", broken)
    assert complete(capsys, "history", "") == (KINDS, ":6")  # the kinds need no cluster
    assert complete(capsys, "history", "-n", "") == ([], ":4")
    assert completion.complete_release_names(None, None, "x") == []


@pytest.mark.parametrize("typed, expected", [
    ("d", ["daemonset/", "deployment/"]),
    ("", KINDS),
    ("sts", ["sts/"]),
    ("stat", ["statefulset/"]),
    ("release-", []),
])
def test_kind_prefixes_go_on_without_a_space(capsys, cluster, typed, expected):
    names, directive = complete(capsys, "rollback", typed)
    assert [name for name in names if name.endswith("/")] == expected
    assert directive == (":6" if expected else ":4")  # 2: no space after `deployment/`


@pytest.mark.parametrize("args, expected", [
    (["rollback", "r", "--dry-run="], ["none", "client", "server"]),
    (["rollback", "r", "--dry-run=c"], ["client"]),
    (["record", "r", "--dry-run", "s"], ["server"]),
])
def test_dry_run_values(capsys, args, expected):
    assert complete(capsys, *args) == (expected, ":4")


def test_context_comes_from_the_kubeconfig_files_without_a_request(capsys, monkeypatch, tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("contexts:\n- name: prod\n  context: {cluster: c}\n- name: staging\n  context: {}\n")
    second.write_text("contexts:\n- name: dev\n  context: {}\n- name: prod\n  context: {}\n")
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}:{tmp_path / 'missing.yaml'}")
    monkeypatch.setattr(client, "connect", lambda *a, **k: pytest.fail("--context completion sent a request"))
    assert complete(capsys, "--context", "") == (["dev", "prod", "staging"], ":4")
    assert complete(capsys, "history", "--context", "p") == (["prod"], ":4")
    assert complete(capsys, "--kubeconfig", str(second), "plan", "--context", "") == (["dev", "prod"], ":4")


def test_an_unexpected_error_is_cobras_error_directive(capsys, monkeypatch):
    def broken(root, args, incomplete):
        raise RuntimeError("boom")

    monkeypatch.setattr(completion, "complete", broken)
    kubectl_complete_main(["history", ""])
    out = capsys.readouterr()
    assert (out.out, out.err) == (":1\n", "")


@pytest.mark.parametrize("shell, line", [
    ("bash", "complete -o nosort -F _kubectl_harness_rollback_completion kubectl-harness_rollback"),
    ("zsh", "#compdef kubectl-harness_rollback"),
    ("fish", "complete --no-files --command kubectl-harness_rollback"),
])
def test_scripts_for_the_three_shells(shell, line):
    script = completion.completion_script(cli, shell)
    assert line in script
    assert completion.COMPLETE_VAR in script


def test_an_unknown_shell_is_a_usage_error():
    with pytest.raises(UsageError, match="bash, zsh, fish"):
        completion.completion_script(cli, "powershell")


def test_the_completion_command_prints_the_script(capsys):
    with pytest.raises(SystemExit) as done:
        main(["completion", "zsh"])
    assert done.value.code == 0
    assert capsys.readouterr().out == completion.completion_script(cli, "zsh")


def test_the_scripts_call_the_program_back_through_the_complete_var(capsys, monkeypatch):
    # What the bash script does on TAB: run the program with the variable set.
    monkeypatch.setenv(completion.COMPLETE_VAR, "bash_complete")
    monkeypatch.setenv("COMP_WORDS", "kubectl-harness_rollback hi")
    monkeypatch.setenv("COMP_CWORD", "1")
    with pytest.raises(SystemExit) as done:
        main([])
    assert done.value.code == 0
    assert capsys.readouterr().out == "plain,history\n"
