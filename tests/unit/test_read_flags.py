"""The reads' short route (cli/read_flags.py, cli/fast_path.py): the same options, output and exit
codes as click's route, without click.

Its tables are derived here from click's declarations and must equal them; on generated command
lines, every line it accepts must be one click parses into the same options; the golden lines of
list, history, plan and status print the same bytes either way; and kubectl's completion of a
read's TARGET and -n gives the same answer either way.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import click
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kubectl_harness_rollback.cli import app, completion, fast_path, read_flags, reads, short_completion
from kubectl_harness_rollback.cli.connection_flags import CONNECTION_FIELDS, Count
from kubectl_harness_rollback.errors import Conflict, UsageError
from tests.support.profiles import examples
from tests.unit import test_completion
from tests.unit.test_completion import cluster  # noqa: F401  (a fixture)
from tests.unit.test_golden_output import CASES, fake_cluster  # noqa: F401  (a fixture)

READS = sorted(read_flags.COMMANDS)


def _kind(option: click.Option):
    if option.is_bool_flag and not option.secondary_opts:
        return read_flags.FLAG
    if isinstance(option.type, Count):
        return ("count", option.type.min)
    if isinstance(option.type, click.Choice):
        return ("choice", tuple(option.type.choices))
    assert option.type is click.STRING, f"{option.name}: a type the short route does not know"
    return read_flags.TEXT


def _table(command: click.Command) -> dict:
    """flag -> (parameter, kind) for the options the short route reads: all but the repeatable."""
    table = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in ("help", "version") and not param.multiple:
            assert param.envvar is None, param.name
            if param.secondary_opts:  # --wait/--no-wait
                assert param.is_bool_flag, param.name
                table.update({flag: (param.name, read_flags.ON) for flag in param.opts})
                table.update({flag: (param.name, read_flags.OFF) for flag in param.secondary_opts})
                continue
            table.update({flag: (param.name, _kind(param)) for flag in param.opts})
    return table


def test_the_connection_flags_are_clicks():
    assert read_flags.CONNECTION == _table(app.cli)
    assert {name for name, _ in read_flags.CONNECTION.values()} == CONNECTION_FIELDS - {"impersonate_groups"}


@pytest.mark.parametrize("name", READS)
def test_each_commands_flags_defaults_and_target_are_clicks(name):
    command = app.cli.commands[name]
    table = read_flags.COMMANDS[name]
    own = {flag: entry for flag, entry in _table(command).items() if entry[0] not in CONNECTION_FIELDS}
    assert set(table.to_click) <= set(own)
    assert table.options == {flag: entry for flag, entry in own.items() if flag not in table.to_click}
    assert {flag: entry for flag, entry in _table(command).items() if entry[0] in CONNECTION_FIELDS} == \
        read_flags.CONNECTION
    arguments = [param for param in command.params if isinstance(param, click.Argument)]
    assert [param.name for param in arguments] == ([] if table.target is None else ["target"])
    assert table.target is None or arguments[0].required is table.target
    ctx = command.make_context(name, ["x"] if table.target else [])
    assert table.defaults == {key: value for key, value in ctx.params.items()
                              if key not in CONNECTION_FIELDS and key != "target"}


# -- generated lines: what the short route accepts, click reads the same -------------------------

VALUES = ["shop", "", "x y", "5s", "0", "1", "2", "-1", "07", "1_0", "\u0663", "table", "wide", "json", "name",
          "yaml", "jsonpath={.a}", "workflow", "infra", "auto", "canary", "app=web", "https://127.0.0.1:1", "-A"]
TARGETS = ["release-x", "deployment/web", "r", "Release", "a b", "release-x", "r", "-"]


def _flags() -> list[str]:
    flags = set(read_flags.CONNECTION) | {"--as-group", "--contexts", "--version", "-h", "--help", "--bogus", "--"}
    for command in read_flags.COMMANDS.values():
        flags |= set(command.options)
    for name in ("list", "history", "plan", "status", "rollback", "diff"):
        flags |= {flag for param in app.cli.commands[name].params if isinstance(param, click.Option)
                  for flag in param.opts + param.secondary_opts}
    return sorted(flags)


FLAGS = _flags()


def _value(draw, kind) -> str:
    if kind == read_flags.TEXT or kind in (read_flags.ON, read_flags.OFF):
        return draw(st.sampled_from(VALUES))
    if kind[0] == "count":
        return draw(st.one_of(st.integers(0, 300).map(str), st.sampled_from(VALUES)))
    return draw(st.one_of(st.sampled_from(kind[1]), st.sampled_from(kind[1]), st.sampled_from(VALUES)))


@st.composite
def words(draw) -> list[str]:
    """Mostly lines of a read's own flags (every spelling, before and after the command, with
    fitting and unfitting values), with now and then a flag or word the short route must leave."""
    name = draw(st.sampled_from(READS + ["diff", "ls"]))
    table = {**read_flags.CONNECTION, **read_flags.COMMANDS.get(name, read_flags.COMMANDS["list"]).options}

    def some_flags(known: dict) -> list[str]:
        out = []
        for _ in range(draw(st.integers(0, 3))):
            if draw(st.integers(0, 9)) == 0:
                flag, kind = draw(st.sampled_from(FLAGS)), read_flags.TEXT
            else:
                flag = draw(st.sampled_from(sorted(known)))
                kind = known[flag][1]
            value = _value(draw, kind)
            if draw(st.integers(0, 4)):  # as people type it
                form = "alone" if kind in (read_flags.FLAG, read_flags.ON, read_flags.OFF) else draw(st.sampled_from(
                    ["value", "equals"] if flag.startswith("--") else ["value"]))
            else:
                form = draw(st.sampled_from(["alone", "value", "equals", "joined"]))
            out += {"alone": [flag], "value": [flag, value], "equals": [f"{flag}={value}"],
                    "joined": [flag + value]}[form]
        return out

    line = some_flags(read_flags.CONNECTION) + [name]
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        line += some_flags(table) + [draw(st.sampled_from(TARGETS))]
    return line + some_flags(table)


class Reached(Exception):
    pass


def _clicks_reading(argv: list[str], monkeypatch) -> tuple[str, dict, dict] | None:
    """(command, connection flags, options) click's route hands to the read's body, or None."""
    seen = []

    def recorder(name, real):
        def body(*args, **kwargs):
            bound = inspect.signature(real).bind(*args, **kwargs)
            values = dict(bound.arguments)
            values.update(values.pop("given", {}))
            connection = values.pop("connection")
            values.pop("echo")
            seen.append((name, dict(connection), values))
            raise Reached
        return body

    for name, function in (("list", "list_releases"), ("history", "history"), ("plan", "plan"), ("status", "status"),
                           ("rollback", "rollback")):
        monkeypatch.setattr(reads, function, recorder(name, getattr(reads, function)))
    try:
        app._click_run(list(argv))
    except Reached:
        return seen[0]
    return None


@settings(max_examples=examples(dev=600, ci=3000, env="KHR_READ_FLAGS_EXAMPLES"), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=words())
def test_a_line_the_short_route_reads_is_read_by_click_the_same(capsys, argv):
    line = read_flags.parse(argv)
    if line is None:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        clicks = _clicks_reading(argv, monkeypatch)
    capsys.readouterr()  # click's usage error, if it refused the line
    assert clicks == (line.command, line.connection, line.params), argv


@pytest.mark.parametrize("argv", [
    ["history", "release-x", "-n", "shop"], ["-n", "shop", "history", "release-x"], ["list", "-n", "shop"],
    ["list", "-A", "-o", "wide"], ["status", "release-x", "--timeout=5m", "-w"], ["status"],
    ["plan", "deployment/web", "--match", "infra", "--to-release", "2", "-o", "json"],
    ["--context", "prod", "plan", "r", "--kubeconfig", "/k", "-v", "6", "--request-timeout", "3s", "--diff"],
    ["history", "r", "--max", "5", "--all-contexts", "--fail-fast", "--no-headers", "--timeline"],
    ["rollback", "release-x", "-n", "shop"], ["rollback", "r", "--no-wait", "--timeout", "10m", "-o", "json"],
    ["rollback", "r", "--match", "infra", "--to-release", "2", "--reason", "INC-1: 5xx", "-y", "--ignore-owner"],
])
def test_the_usual_reads_take_the_short_route(argv):
    assert read_flags.parse(argv) is not None


@pytest.mark.parametrize("argv", [
    ["history"], ["history", "a", "b"], ["list", "r"], ["history", "r", "--bogus"], ["history", "r", "-h"],
    ["history", "r", "-o", "jsonpath={.a}"], ["history", "r", "--max", "0"], ["history", "r", "-nshop"],
    ["list", "-Ao", "wide"], ["list", "--contexts", "a"], ["list", "--as-group", "g"], ["diff", "r", "1", "2"],
    ["rollback", "r", "--dry-run"], ["rollback", "r", "--dry-run=client"], ["rollback", "r", "--all-contexts"],
    ["rollback", "r", "--wait=1"], ["rollback", "r", "-o", "wide"],
    ["ls"], ["list", "--", "x"], ["list", "-n"], ["list", "-n", "-A"], ["--version"], ["list", "--no-headers=1"],
])
def test_what_the_short_route_is_not_sure_of_goes_to_click(argv):
    assert read_flags.parse(argv) is None


# -- the same bytes and exit codes ---------------------------------------------------------------

def _run(entry, argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        entry(argv)
    out, err = capsys.readouterr()
    return exited.value.code, out, _request_lines_in_order(err)


TOOK = re.compile(r" in [0-9]+ milliseconds$", re.M)


def _request_lines_in_order(err: str) -> str:
    """stderr with -v 6's request lines sorted and without their times: list sends its first lists
    at once, and they are answered in any order and time."""
    if not TOOK.search(err):
        return err
    return "\n".join(sorted(TOOK.sub(" in N milliseconds", err).splitlines()))


@pytest.mark.parametrize("group", ["list", "history", "plan", "status", "names", "rollback"])
def test_the_golden_lines_print_the_same_either_way(fake_cluster, capsys, monkeypatch, group):  # noqa: F811
    monkeypatch.setenv("COLUMNS", "100")
    shorts = 0
    for argv in CASES[group] + [argv + ["-v", "0"] for argv in CASES[group]]:
        shorts += read_flags.parse(argv) is not None
        assert _run(fast_path.main, argv, capsys) == _run(app.main, argv, capsys), argv
    assert shorts >= len(CASES[group]) // 2  # the short route took most of them


# -- completion ------------------------------------------------------------------------------------

def _clicks_answer(words: list[str], incomplete: str, capsys) -> str:
    app.kubectl_complete_main(words + [incomplete])
    return capsys.readouterr().out


@pytest.mark.parametrize("words, incomplete", [
    (["history"], ""), (["history"], "rel"), (["plan", "-n", "shop"], "r"), (["--context", "prod", "status"], ""),
    (["history"], "d"), (["history"], "sts"), (["history"], "deployment/"), (["history"], "deployment/w"),
    (["history", "-n"], ""), (["-n"], "sh"), (["list", "-A", "--namespace"], "s"), (["plan", "r", "-n"], ""),
    (["history", "--server", "%%%"], ""), (["history", "--token", "a\nb", "-n"], ""),
    (["-n", "a", "--request-timeout", "2s", "status", "-n", "b"], "o"), (["rollback"], "r"),
    (["rollback", "--no-wait", "-n"], "s"),
])
def test_completion_of_a_reads_target_and_namespace_answers_as_click(capsys, cluster, monkeypatch, tmp_path,  # noqa: F811
                                                                      words, incomplete):
    # No kubeconfig, so no completion cache: each route asks the stand-in cluster itself.
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(test_completion.FakeKube, "list", lambda kube, resource, metadata_only=False: [
        {"metadata": {"name": name}} for name in ("staging", "shop", "other")], raising=False)
    short = short_completion.kubectl_answer(list(words), incomplete)
    assert short is not None, (words, incomplete)
    flags_seen = list(cluster)
    del cluster[:]
    assert short == _clicks_answer(list(words), incomplete, capsys)
    assert flags_seen == list(cluster)  # the same connection flags reached the cluster


@pytest.mark.parametrize("words, incomplete", [
    ([], ""), (["hi"], ""), (["rollback", "--dry-run"], ""), (["list"], ""), (["history", "x"], ""), (["history"], "-"),
    (["history", "x", "-o"], ""), (["history", "--context"], ""), (["history", "--"], ""), (["diff"], ""),
    (["history"], "="),
])
def test_other_completions_are_clicks(words, incomplete):
    assert short_completion.kubectl_answer(list(words), incomplete) is None


def test_kubectls_completion_of_a_release_loads_no_click(tmp_path):
    config = tmp_path / "config"
    from tests.unit.test_startup_imports import KUBECONFIG

    config.write_text(KUBECONFIG)
    probe = ("import sys\n"
             "from kubectl_harness_rollback.cli.fast_path import kubectl_complete_main\n"
             "kubectl_complete_main(sys.argv[1:])\n"
             "print(sorted(m for m in sys.modules if m == 'click' or m.endswith('cli.app')))\n")
    env = {"KUBECONFIG": str(config), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", probe, "plan", "-n", "shop", "--request-timeout", "1s", ""],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert done.stdout.splitlines()[-2] == ":6"  # the cluster is not there: the kinds alone, as click's route


# -- whole runs, on generated lines, against an API server on 127.0.0.1 ----------------------------

@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    from tests.support.fake_api import FakeApi, empty_cluster

    with FakeApi(answer=empty_cluster) as api:
        yield api, api.kubeconfig(tmp_path_factory.mktemp("short-route"), {"token": "short-route-token"})


def test_generated_reads_end_the_same_either_way(fuzz_server, capsys, monkeypatch):
    """The flag fuzz's lines (tests/unit/test_flag_fuzz.py) of the four reads, run whole through
    both entries: the same exit code, stdout and stderr."""
    from tests.unit.test_flag_fuzz import command_lines, talk_only_to

    api, kubeconfig = fuzz_server
    port = int(api.url.rsplit(":", 1)[1])
    talk_only_to(kubeconfig, monkeypatch)
    shorts = []

    @settings(max_examples=examples(dev=60, ci=600, env="KHR_READ_FLAGS_EXAMPLES"), deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(command_lines(kubeconfig, port).filter(lambda argv: argv[0] in READS))
    @example(["list", "-v", "6"])  # its first lists are answered in any order
    def case(argv):
        shorts.append(read_flags.parse(argv) is not None)
        assert _run(fast_path.main, argv, capsys) == _run(app.main, argv, capsys), argv

    case()
    print(f"\nshort route: {sum(shorts)} of {len(shorts)} generated reads")
    assert sum(shorts) >= len(shorts) // 4, (sum(shorts), len(shorts))  # the short route took a fair share


@pytest.mark.parametrize("line, cword", [
    ("kubectl-harness_rollback history ", 2), ("kubectl-harness_rollback history rel", 2),
    ("kubectl-harness_rollback --context prod plan -n shop d", 5), ("kubectl-harness_rollback status -n ", 3),
    ("kubectl-harness_rollback -n", 2), ("kubectl-harness_rollback list --namespace s", 3),
    ("kubectl-harness_rollback history deployment/w", 2), ("kubectl-harness_rollback history\tsts", 2),
    ("kubectl-harness_rollback rollback ", 2),
])
def test_clicks_bash_protocol_answers_a_reads_target_and_namespace_as_click(capsys, cluster, monkeypatch,  # noqa: F811
                                                                            tmp_path, line, cword):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setattr(test_completion.FakeKube, "list", lambda kube, resource, metadata_only=False: [
        {"metadata": {"name": name}} for name in ("staging", "shop", "other")], raising=False)
    env = {"COMP_WORDS": line, "COMP_CWORD": str(cword), completion.COMPLETE_VAR: "bash_complete"}
    short = short_completion.bash_answer(env)
    assert short is not None
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        app.main([])
    assert exited.value.code == 0
    assert short == capsys.readouterr().out


@pytest.mark.parametrize("words, cword", [
    ("kubectl-harness_rollback history 'rel", 2), ("kubectl-harness_rollback plan -n sh\\ op", 3),
    ("kubectl-harness_rollback history ", "x"), ("kubectl-harness_rollback history\u00a0", 2),
    ("kubectl-harness_rollback rollback --all-contexts ", 3), ("kubectl-harness_rollback history -", 2),
])
def test_clicks_bash_protocol_leaves_other_lines_to_click(words, cword):
    assert short_completion.bash_answer({"COMP_WORDS": words, "COMP_CWORD": str(cword)}) is None


@pytest.mark.parametrize("raised", [KeyboardInterrupt(), EOFError(), BrokenPipeError(32, "Broken pipe"),
                                    OSError(5, "Input/output error"), RuntimeError("boom"), UsageError("Bad value."),
                                    Conflict("changed")], ids=lambda exc: type(exc).__name__)
def test_a_read_that_raises_ends_the_same_either_way(capsys, monkeypatch, raised):
    """Ctrl-C (click's blank line first), end of input, a closed pipe (click's quiet exit 1), the
    plugin's errors and any other exception: the same lines and exit code from both entries."""
    import sys as sys_module

    def body(*args, **kwargs):
        raise raised

    monkeypatch.setattr(reads, "history", body)
    ends = []
    for entry in (fast_path.main, app.main):
        monkeypatch.setattr(sys_module, "stdout", sys_module.stdout)  # click swaps it on a closed pipe
        monkeypatch.setattr(sys_module, "stderr", sys_module.stderr)
        ends.append(_run(entry, ["history", "r"], capsys))
    assert ends[0] == ends[1]
    assert ends[0][0] == {KeyboardInterrupt: 130, EOFError: 1, BrokenPipeError: 1}.get(type(raised), ends[0][0])
