"""Fixtures of the tests that need a cluster (integration and adversarial): one real cluster per
session, a fresh namespace per test. Unit tests ask for none of them and start nothing.

The cluster never silently goes missing: if it cannot be started, every integration test
fails with the reason (CI must not pass without them). To run only the unit tests, say so:
`pytest -m "not integration"`.
"""

import os
import re
import tempfile
import uuid

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tests.support import cluster, profiles

profiles.load()

# The processes the tests start (the plugin, kubectl's plugin runner, import probes) keep compiled
# bytecode as a user's machine does: this machine's PYTHONDONTWRITEBYTECODE=1 would make each of
# them compile every module it imports from source again.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Tests in these folders need the real control plane.
CLUSTER_TEST_DIRS = ("/integration/", "/adversarial/")


def pytest_collection_modifyitems(items):
    for item in items:
        if any(folder in str(item.fspath) for folder in CLUSTER_TEST_DIRS):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def grouped_on_one_worker(request):
    """A test marked xdist_group must run on its group's worker: the group builds what its tests
    share once (the krew archive, the extra clusters, the RBAC matrix's releases), and those built
    by several workers at once collide. pytest-xdist sends it there by renaming the test
    "...@group"; if a pytest release makes that renaming ineffective, fail here with the reason."""
    config = request.config
    if getattr(config, "workerinput", None) is not None and config.getvalue("loadgroup") \
            and request.node.get_closest_marker("xdist_group") and "@" not in request.node.nodeid:
        pytest.fail("pytest-xdist did not keep this xdist_group on one worker: this pytest and "
                    "pytest-xdist do not work together (see pyproject.toml)", pytrace=False)


@pytest.fixture(autouse=True)
def own_cache_directory(tmp_path_factory, monkeypatch):
    """Each test its own XDG cache (completion remembers candidates there for a few seconds), for
    itself and the plugin processes it starts: no test sees what another one completed."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI an integration test that skipped (for whatever reason) counts as failed."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail") \
            and item.get_closest_marker("integration"):
        report.outcome = "failed"
        report.longrepr = f"integration test skipped under CI, which is not allowed: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Under pytest-xdist, an integration test holds the cluster shared with the other workers' tests,
    or alone if it is marked `exclusive` (it stops a process of the control plane). The hook wraps
    the whole test, its module's fixtures included, which its first and last tests set up and tear down."""
    workerinput = getattr(item.config, "workerinput", None)
    if workerinput is None or not item.get_closest_marker("integration"):
        yield
        return
    lock_dir = os.path.join(tempfile.gettempdir(), f"khr-tests-{workerinput['testrunuid']}")
    with cluster.sharing(lock_dir, exclusive=item.get_closest_marker("exclusive") is not None):
        yield


@pytest.fixture(scope="session")
def test_cluster():
    try:
        started = cluster.start()
    except cluster.ClusterUnavailable as exc:
        pytest.fail(f"the test cluster is unavailable: {exc}", pytrace=False)
    yield started
    cluster.stop(started)


@pytest.fixture(scope="session")
def three_clusters(test_cluster):
    """The session's cluster and two more (tests/integration/test_many_clusters.py only)."""
    try:
        extra = cluster.start_extra()
    except cluster.ClusterUnavailable as exc:
        pytest.fail(f"the extra test clusters are unavailable: {exc}", pytrace=False)
    yield [test_cluster, *extra]
    for started in extra:
        cluster.stop(started)


@pytest.fixture(scope="session")
def api_client(test_cluster):
    return k8s_config.new_client_from_config(config_file=test_cluster.kubeconfig)


@pytest.fixture
def core(api_client):
    return k8s.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client):
    return k8s.AppsV1Api(api_client)


@pytest.fixture
def namespace(api_client, request):
    """A namespace of this test's own, deleted afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"khr-{slug}-{uuid.uuid4().hex[:5]}"
    core = k8s.CoreV1Api(api_client)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def module_namespace(api_client, request):
    """A namespace shared by the tests of one module, which only read what it holds (their
    module's fixtures deploy it once); deleted after the module."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.module.__name__.rsplit(".", 1)[-1].lower()).strip("-")[:40].strip("-")
    name = f"khr-{slug}-{uuid.uuid4().hex[:5]}"
    core = k8s.CoreV1Api(api_client)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def failure_stages(api_client):
    """For modules whose pods must fail like real ones (tests/support/pod_behavior.py): fail every
    test of the module at once, with the fix, on a cluster without the failure stages."""
    from tests.support.pod_behavior import failure_stages_problem

    problem = failure_stages_problem(k8s.CoreV1Api(api_client))
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture
def plugin(test_cluster):
    """Run the plugin against the test cluster: plugin("history", "x", "-n", ns). In this process,
    through the console script's entry point (tests/support/run_plugin.py); the console script
    as a process is what plugin_process runs."""
    from tests.support.run_plugin import run_plugin

    def run(*args, check_exit=None, env=None):
        done = run_plugin(list(args), {**test_cluster.env(), **(env or {})})
        if check_exit is not None:
            assert done.returncode == check_exit, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        return done

    return run


@pytest.fixture
def plugin_process(test_cluster):
    """Run the installed console script as a process against the test cluster, as plugin() does."""
    import shutil
    import subprocess

    executable = shutil.which("kubectl-harness_rollback")
    assert executable, "the console script kubectl-harness_rollback is not installed (pip install -e .)"

    def run(*args, check_exit=None, env=None):
        done = subprocess.run([executable, *args], capture_output=True, text=True, timeout=120,
                              env={**test_cluster.env(), **(env or {})})
        if check_exit is not None:
            assert done.returncode == check_exit, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        return done

    return run
