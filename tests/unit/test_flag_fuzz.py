"""A flag fuzz over every command and every flag (hypothesis), against an empty fake API server on
127.0.0.1 that counts the requests (tests/support/fake_api.py).

Values are drawn from the classes that escaped before: newlines and control characters, non-Latin-1
and look-alike letters, huge numbers, empty strings, odd URLs, negative and NaN-ish durations. Each
run must end with exit 0 or a code of the README's table, at most one `error:` line (exactly one on
failure), no "unexpected", no traceback, no Python warning, and no request at all when it is a
usage error (exit 2).

Examples: a hundred locally, 1200 under CI=true (tests/support/profiles.py; each example is one
in-process run, a few milliseconds to a few tens of them). KHR_FLAG_FUZZ_EXAMPLES overrides both.
"""

from __future__ import annotations

import re

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_harness_rollback.cli import app as cli
from tests.support.fake_api import FakeApi, empty_cluster
from tests.support.profiles import examples

DOCUMENTED_EXIT_CODES = {0, 1, 2, 3, 4, 5, 6, 129, 130, 143}
PYTHON_WARNING = re.compile(r"\b[A-Z]\w*Warning\b|warnings\.warn|Traceback|unexpected ", re.IGNORECASE)

# About 30 ms an example (one in-process run): a hundred locally, 1200 under CI.
PROFILE = settings(max_examples=examples(dev=100, ci=1200, env="KHR_FLAG_FUZZ_EXAMPLES"))

# The value classes. No NUL: a command line cannot carry one.
NEWLINES = ["a\nb", "web\r\n", "\n", "x\rX-Injected: 1", "tab\there", "\x1b[31mred"]
NON_LATIN1 = ["w\u0435b", "\u4e2d\u6587", "\U0001f600", "\u200bweb", "release-\u0445", "\uff11s", "\u0663s"]
LATIN1 = ["caf\u00e9", "\u00b5s", "1\u00b5s"]
HUGE = ["9" * 400, str(2**64), str(2**63), "1e400", "3000000h", "2562048h", "9" * 30 + "h", "1" * 400 + "s"]
EMPTY = ["", " ", "  \t"]
NEGATIVE = ["-1", "-5s", "-0", "-0s", "+5s", "-9" * 3]
NAN_ISH = ["nan", "NaN", "inf", "-inf", "1e3s", "5m\n", "0x10", "1.2.3s", "5 m", ".s", "s", "1h-1s"]
PLAIN = ["5m", "30s", "0", "1", "2", "10", "web", "shop", "release-x", "default"]
VALUES = NEWLINES + NON_LATIN1 + LATIN1 + HUGE + EMPTY + NEGATIVE + NAN_ISH + PLAIN
TARGETS = ["release-x", "deployment/web", "sts/db", "ds/agent", "rs/web-1", "deployment/", "/web", "pod/web",
           "deployment/w\u0435b", "Release-X", "a" * 64, "deployment.apps/web", "deployment/web/extra"]

# Odd -s values, none of which may send a packet anywhere but 127.0.0.1 (nothing is resolved).
def odd_servers(port: int) -> list[str]:
    here = f"127.0.0.1:{port}"
    return [f"http://{here}", here, f"http://{here}/prefix", f"http://{here}?q=1", f"http://{here}#f",
            f"http://user:pw@{here}", f"ftp://{here}", "http://[::1", "http://127.0.0.1:99999", "http://127.0.0.1:-1",
            "https://127.0.0.1:0", "%%%", "ht!tp://x", "http://", "//", "http://x y", "http://127.0.0.1:\u0661",
            "http://w\u0435b", "http://a\nb", "", "127.0.0.1:notaport", "unix:///var/run/x.sock"]


def paths(kubeconfig: str) -> list[str]:
    return [kubeconfig, "", "/", ".", "/dev/null", "/nonexistent/kubeconfig", "/etc/hostname", "a\nb", "w\u0435b"]


def text() -> st.SearchStrategy[str]:
    return st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12)


def values() -> st.SearchStrategy[str]:
    """Mostly the classes above, sometimes any text or integer."""
    classes = st.sampled_from(VALUES)
    return st.one_of(classes, classes, classes, classes, text(), st.integers(-2**70, 2**70).map(str))


def _option_values(option: click.Option, kubeconfig: str, port: int) -> st.SearchStrategy[list[str]]:
    """The words one use of `option` adds to the command line."""
    flag = st.sampled_from(option.opts + option.secondary_opts)
    if option.is_flag and not option.is_bool_flag and option.flag_value is not None and option.name == "dry_run":
        # --dry-run takes a value, or none (=client)
        return st.one_of(flag.map(lambda f: [f]), st.tuples(flag, _choices(["none", "client", "server"])).map(
            lambda p: [f"{p[0]}={p[1]}"]))
    if option.is_flag:
        return flag.map(lambda f: [f])
    name = option.name
    if name == "server":
        value = st.sampled_from(odd_servers(port))
    elif name in ("kubeconfig", "certificate_authority"):
        value = st.sampled_from(paths(kubeconfig))
    elif isinstance(option.type, click.Choice):
        value = _choices(list(option.type.choices))
    else:
        value = values()
    return st.tuples(flag, value).map(list)


def _choices(choices: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(choices), values())


@st.composite
def command_lines(draw, kubeconfig: str, port: int) -> list[str]:
    name = draw(st.sampled_from(sorted(cli.cli.commands)))
    command = cli.cli.commands[name]
    argv = [name]
    for param in command.params:
        if isinstance(param, click.Argument):
            choices = list(param.type.choices) if isinstance(param.type, click.Choice) else TARGETS
            usual = st.sampled_from(choices)
            argv.append(draw(st.one_of(usual, usual, usual, values())))
    options = [p for p in command.params if isinstance(p, click.Option) and p.name != "help"]
    for option in draw(st.lists(st.sampled_from(options), max_size=3)):
        argv += draw(_option_values(option, kubeconfig, port))
    if name == "record" and "--status" not in argv:
        argv += ["--status", draw(st.sampled_from(["Succeeded", "Failed", "InProgress"]))]
    if name in ("status",) and "--timeout" not in argv:
        argv += ["--timeout", "0"]  # `status --watch` with no timeout follows until steady: forever here
    if name == "rollback" and not any(a.startswith("--timeout") for a in argv):
        argv += ["--timeout", "5s"]
    return argv


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with FakeApi(answer=empty_cluster) as api:
        yield api, api.kubeconfig(tmp_path_factory.mktemp("fuzz"), {"token": "fuzz-token"})


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        cli.main(argv)
    except SystemExit as exited:
        code = exited.code
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


TALLY = {"tried": 0, "passed": 0}


def talk_only_to(kubeconfig: str, monkeypatch) -> None:
    """The plugin in this process reads `kubeconfig` and reaches its server directly: no in-cluster
    account, no proxy from the environment."""
    monkeypatch.setenv("KUBECONFIG", kubeconfig)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


def test_every_command_and_flag_ends_in_a_documented_way(server, capsys, monkeypatch):
    api, kubeconfig = server
    port = int(api.url.rsplit(":", 1)[1])
    talk_only_to(kubeconfig, monkeypatch)

    @PROFILE
    @given(command_lines(kubeconfig, port))
    def case(argv):
        TALLY["tried"] += 1
        before = len(api.requests)
        code, out, err = _run(argv, capsys)
        # Many contexts: each context's own error is prefixed with its name, then one summary line.
        errors = [line for line in err.splitlines() if line.startswith("error:") and not line.startswith("error: [")]
        assert code in DOCUMENTED_EXIT_CODES, (argv, code, err)
        assert not PYTHON_WARNING.search(err), (argv, err)
        assert len(errors) == (0 if code == 0 else 1), (argv, code, err)
        if code == 2:
            assert len(api.requests) == before, (argv, err, api.requests[before:])
            assert err.count("\n") == 1, (argv, err)
        TALLY["passed"] += 1

    try:
        case()
    finally:
        print(f"\nflag fuzz: tried {TALLY['tried']}, passed {TALLY['passed']}, "
              f"failed {TALLY['tried'] - TALLY['passed']}")
