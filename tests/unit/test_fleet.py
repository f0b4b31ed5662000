"""Many clusters without a cluster: which contexts --contexts/--all-contexts name, the order of
exit codes, the runner (parallel, errors per context, --fail-fast), the CONTEXT tables, and the
usage errors raised before any request."""

import _thread
import signal
import threading
import time

import pytest

from kubectl_harness_rollback.cli.app import main
from kubectl_harness_rollback.cluster import client
from kubectl_harness_rollback.errors import ClusterUnreachable, ConfigError, NoEligibleRelease, UsageError
from kubectl_harness_rollback.fleet import contexts as fleet
from kubectl_harness_rollback.fleet import render as fleet_render
from kubectl_harness_rollback.fleet.run import (
    INTERRUPTED,
    INTERRUPTED_BEFORE_WRITING,
    NOT_STARTED,
    NOT_STARTED_INTERRUPTED,
    ContextRun,
    Fleet,
)

KNOWN = ["dev", "prod-eu", "prod-us", "staging"]


@pytest.mark.parametrize("given, expected", [
    (["prod-us"], ["prod-us"]),
    (["prod-us,dev"], ["prod-us", "dev"]),
    (["prod-us", "dev, staging"], ["prod-us", "dev", "staging"]),
    (["prod-*"], ["prod-eu", "prod-us"]),
    (["prod-us,prod-*"], ["prod-us", "prod-eu"]),  # each once, in the order first named
    (["*-e?"], ["prod-eu"]),
    (["[ds]*"], ["dev", "staging"]),
])
def test_contexts_expand_names_lists_and_globs(given, expected):
    assert fleet.expand(given, False, KNOWN) == expected


def test_all_contexts_is_every_context_sorted():
    assert fleet.expand((), True, ["b", "a"]) == ["a", "b"]


@pytest.mark.parametrize("given, all_contexts, message", [
    (["prod"], False, 'context "prod" does not exist in kubeconfig (contexts: dev, prod-eu, prod-us, staging)'),
    (["dev,qa-*"], False, "no context matches 'qa-*'"),
    (["dev"], True, "--contexts and --all-contexts: give one of them"),
    ([","], False, "name at least one context"),
])
def test_unknown_contexts_are_usage_errors(given, all_contexts, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        fleet.expand(given, all_contexts, KNOWN)


def test_all_contexts_of_an_empty_kubeconfig():
    with pytest.raises(ConfigError):
        fleet.expand((), True, [])


@pytest.mark.parametrize("codes, expected", [
    ([], 0), ([0, 0], 0), ([0, 3], 3), ([3, 4], 4), ([4, 6], 6), ([6, 5], 5), ([5, 1], 1), ([0, 1, 3], 1),
    ([1, 130], 130), ([0, 77], 77),
])
def test_the_run_exits_with_the_worst_code(codes, expected):
    assert fleet.worst(codes) == expected


def test_exit_3_is_not_a_failure_for_fail_fast():
    assert [fleet.failed(code) for code in (0, 3, 4, 5, 6, 1)] == [False, False, True, True, True, True]


def test_the_fleet_error_names_the_contexts_and_carries_the_worst_code():
    error = fleet.FleetFailed({"a": 0, "b": 1, "c": 3})
    assert (str(error), error.exit_code) == ("2 of 3 contexts did not end with exit 0: b (1), c (3)", 1)


def test_contexts_run_in_parallel_up_to_max_parallel_and_come_back_in_order():
    running, peak, lock = [0], [0], threading.Lock()

    def job(name):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return name.upper()

    runs = Fleet([f"c{i}" for i in range(6)], max_parallel=3).run(job)
    assert [run.value for run in runs] == [f"C{i}" for i in range(6)]
    assert peak[0] == 3


def test_one_failing_context_is_its_row_and_the_others_finish():
    def job(name):
        if name == "b":
            raise ClusterUnreachable("cannot reach the API server")
        if name == "c":
            raise RuntimeError("unexpected")  # translated as cli.main translates it
        return name

    runs = Fleet(["a", "b", "c", "d"]).run(job,
                                           error_of=lambda v: NoEligibleRelease("none") if v == "d" else None)
    assert [(run.context, run.exit_code, run.message) for run in runs] == [
        ("a", 0, ""), ("b", 1, "cannot reach the API server"), ("c", 1, "unexpected RuntimeError: unexpected"), ("d", 3, "none")]


def test_fail_fast_starts_nothing_after_the_first_failure():
    started = []

    def job(name):
        started.append(name)
        if name == "b":
            raise ClusterUnreachable("down")
        return name

    contexts = Fleet(["a", "b", "c", "d"], max_parallel=1, fail_fast=True)
    runs = contexts.run(job)
    assert started == ["a", "b"]
    assert [(run.context, run.started, run.message) for run in runs][2:] == [
        ("c", False, NOT_STARTED), ("d", False, NOT_STARTED)]
    assert contexts.run(job, contexts=["a"])[0].started is False  # a later phase starts nothing either


@pytest.fixture(autouse=True)
def ctrl_c_raises():
    """_thread.interrupt_main() acts only where Python handles SIGINT: a shell starts a background
    job (`hack/test &`) with SIGINT ignored, and Python then installs no handler of its own."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def ctrl_c_during(name_pressed_in: str, fleet: Fleet, writes: bool, requests: dict):
    """Run `fleet` with Ctrl-C pressed (in the main thread, as the terminal does) while the job
    of `name_pressed_in` runs; each job then sends one more "request" through a connection that
    is interrupted with the run (rest.Rest.send checks its `cancel` the same way)."""
    started = []

    def job(name):
        started.append(name)
        if name == name_pressed_in:
            _thread.interrupt_main()
            time.sleep(0.3)  # the main thread sees it meanwhile
        if fleet.interrupted.is_set():
            raise KeyboardInterrupt  # the connection's next request
        requests[name] = "sent"
        return name

    return fleet.run(job, writes=writes), started


def test_ctrl_c_starts_no_other_context_and_interrupts_the_running_ones():
    fleet_ = Fleet(["a", "b", "c"], max_parallel=1)
    requests = {}
    runs, started = ctrl_c_during("a", fleet_, writes=True, requests=requests)
    assert started == ["a"] and requests == {}
    assert [(run.context, run.exit_code, run.message) for run in runs] == [
        ("a", 130, INTERRUPTED_BEFORE_WRITING), ("b", 130, NOT_STARTED_INTERRUPTED),
        ("c", 130, NOT_STARTED_INTERRUPTED)]
    assert fleet.worst(run.exit_code for run in runs) == 130


def test_ctrl_c_does_not_wait_for_reads_in_flight():
    release, b_started = threading.Event(), threading.Event()

    def job(name):
        if name == "a":
            b_started.wait(5)
            _thread.interrupt_main()
        else:
            b_started.set()
        release.wait(5)  # a read the server does not answer
        return name

    started = time.monotonic()
    runs = Fleet(["a", "b"]).run(job)
    assert time.monotonic() - started < 2
    release.set()
    assert [(run.context, run.exit_code, run.message) for run in runs] == [("a", 130, INTERRUPTED), ("b", 130, INTERRUPTED)]


def test_without_fail_fast_every_context_runs():
    runs = Fleet(["a", "b", "c"], max_parallel=1).run(lambda name: 1 / 0 if name == "a" else name)
    assert [run.started for run in runs] == [True, True, True]


def test_a_context_error_row_in_the_list_table():
    runs = [ContextRun("a", value=None), ContextRun("b", error=ClusterUnreachable("down"), exit_code=1)]
    rows = [{"namespace": "shop", "release": "web", "latest": 3, "status": "Failed", "workloads": ["deployment/web"],
             "source": "configmap/web", "liveReleases": [3], "lastRollback": None, "liveSince": None}]
    runs[0].value = rows
    from kubectl_harness_rollback.output import render

    table = render.list_table(fleet_render.flat_rows(runs, lambda value: value), False, contexts=True, wide=True)
    assert table == (
        "CONTEXT   RELEASE   LATEST   STATUS   WORKLOADS        SOURCE          LIVE   SINCE    STEADY      ACTION\n"
        "a         web       3        Failed   deployment/web   configmap/web   3      <none>   <unknown>   <unknown>\n"
        "b         error: down\n"
    )


def _plan_view(current, target, changes, reason, eligible=True):
    summary = lambda number, status: None if number is None else {"number": number, "status": status}
    return {"release": "web", "namespace": "shop", "current": summary(*current), "target": summary(*target),
            "eligible": eligible, "changes": changes, "reason": reason,
            "workloads": [{"kind": "Deployment", "name": "web", "fromRevision": 3, "toRevision": 2,
                           "unchanged": not changes}]}


class _Planned:
    def __init__(self, view):
        self.view = view


def test_the_combined_plan_has_a_row_per_context():
    runs = [
        ContextRun("a", _Planned(_plan_view((3, "Failed"), (2, "Succeeded"), True, "last succeeded release"))),
        ContextRun("b", _Planned(_plan_view((3, "Succeeded"), (None, None), False,
                                            "no failed release found: the latest release 3 succeeded; if a later"))),
        ContextRun("c", error=ClusterUnreachable("timed out"), exit_code=1),
    ]
    assert fleet_render.plan_table(runs) == (
        "CONTEXT   NAMESPACE   RELEASE   CURRENT         ROLLBACK TO     ACTION          CHANGES              WHY\n"
        "a         shop        web       3 (Failed)      2 (Succeeded)   roll back       deployment/web 3→2   "
        "last succeeded release\n"
        "b         shop        web       3 (Succeeded)   <none>          nothing to do   <none>               "
        "no failed release found: the latest release 3 succeeded\n"
        # The error follows the context's name: it widens no column.
        "c         error: timed out\n"
    )


def test_json_entries_carry_the_context_the_single_cluster_shape_and_the_exit_code():
    runs = [ContextRun("a", {"x": 1}), ContextRun("b", error=ClusterUnreachable("down"), exit_code=1),
            ContextRun("c", exit_code=1, started=False)]
    assert fleet_render.entries(runs, lambda value: {"status": value}) == [
        {"context": "a", "status": {"x": 1}, "exitCode": 0},
        {"context": "b", "error": "down", "exitCode": 1},
        {"context": "c", "error": NOT_STARTED, "exitCode": 1},
    ]


@pytest.fixture
def kubeconfig(tmp_path, monkeypatch):
    path = tmp_path / "config"
    path.write_text("contexts:\n- name: prod-eu\n  context: {cluster: c}\n- name: prod-us\n  context: {cluster: c}\n")
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.setattr(client, "connect", lambda *a, **k: pytest.fail("a request was sent"))
    return path


@pytest.mark.parametrize("args, message", [
    (["list", "--contexts", "prod-eu", "--context", "prod-us"], "--context names one context"),
    (["plan", "web", "--contexts", "prod"], 'context "prod" does not exist'),
    (["rollback", "web", "--contexts", "qa-*"], "no context matches 'qa-*'"),
    (["status", "web", "--all-contexts", "--watch"], "--watch follows one context"),
    (["history", "web", "--fail-fast"], "--fail-fast need --contexts"),
    (["list", "--all-contexts", "--max-parallel", "0"], "--max-parallel"),
])
def test_usage_errors_come_before_any_request(kubeconfig, capsys, args, message):
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_contexts_complete_names_also_after_a_comma(kubeconfig, capsys):
    from kubectl_harness_rollback.cli.app import kubectl_complete_main

    def complete(*args):
        kubectl_complete_main(list(args))
        *lines, directive = capsys.readouterr().out.splitlines()
        return lines, directive

    assert complete("list", "--contexts", "prod") == (["prod-eu", "prod-us"], ":4")
    assert complete("plan", "web", "--contexts", "prod-eu,") == (["prod-eu,prod-us"], ":4")
    assert complete("plan", "web", "--contexts", "prod-eu,prod-u") == (["prod-eu,prod-us"], ":4")
