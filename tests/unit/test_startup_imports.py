"""What a read or a rollback loads before its first request: the start-up every `plan`, `history`,
`status`, `list` and `rollback` pays. Each command runs in a fresh interpreter whose first socket connect records
sys.modules and exits, so nothing after the first request is counted and no cluster is needed."""

import json
import subprocess
import sys

import pytest

PROBE = """
import json, os, socket, sys, threading

FIRST = threading.Lock()  # list connects from several threads at once: one of them reports

def first_request(sock, address):
    FIRST.acquire()
    print(json.dumps(sorted(sys.modules)))
    sys.stdout.flush()
    os._exit(0)

socket.socket.connect = first_request
sys.argv = ["kubectl-harness_rollback"] + sys.argv[1:]
from kubectl_harness_rollback.cli.fast_path import main
main()
"""

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: not-a-secret}
contexts:
- name: c
  context: {cluster: c, user: u, namespace: shop}
current-context: c
"""

READS = [["history", "release-infra-prod"], ["status", "release-infra-prod"], ["list", "-n", "shop"]]


_LOADED: dict[tuple[str, ...], frozenset[str]] = {}  # by command line: the tests below ask the same few


def loaded_before_first_request(tmp_path, argv: list[str]) -> frozenset[str]:
    """The modules a fresh interpreter running `argv` holds at its first connect (one run per
    command line in this process: the probe's answer depends on nothing else)."""
    if tuple(argv) not in _LOADED:
        _LOADED[tuple(argv)] = frozenset(_probe(tmp_path, argv))
    return _LOADED[tuple(argv)]


def _probe(tmp_path, argv: list[str], probe: str = PROBE):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG)
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith(("[", '"')), (done.stdout, done.stderr)
    return json.loads(done.stdout)


@pytest.mark.parametrize("argv", READS[:2] + [["plan", "release-infra-prod"], ["rollback", "release-infra-prod"],
                                  ["history", "deployment/web"]], ids=lambda argv: " ".join(argv[:2]))
def test_a_release_is_read_in_a_thread_of_its_own_while_the_command_loads_the_rest(tmp_path, argv):
    # reader.read_ahead: the command connects once its line is valid and reads the release in a
    # thread; what it runs next (the planner, the executor, the output) loads meanwhile.
    thread_probe = PROBE.replace("json.dumps(sorted(sys.modules))", "json.dumps(threading.current_thread().name)")
    assert _probe(tmp_path, argv, thread_probe) == "read-ahead"


@pytest.mark.parametrize("argv", READS[:2] + [["plan", "release-infra-prod"], ["rollback", "release-infra-prod"]],
                         ids=lambda argv: argv[0])
def test_tabulate_is_loaded_before_the_read_ahead_starts(tmp_path, argv):
    # output/cells.py imports tabulate with a stand-in for importlib.metadata in sys.modules: in
    # place while no other thread runs, and gone by the read's first request.
    loaded = loaded_before_first_request(tmp_path, argv)
    assert "tabulate" in loaded and "importlib.metadata" not in loaded


@pytest.mark.parametrize("argv", READS, ids=lambda argv: argv[0])
def test_a_read_loads_no_planner_before_its_first_request(tmp_path, argv):
    loaded = loaded_before_first_request(tmp_path, argv)
    plugin = "kubectl_harness_rollback."
    assert {m for m in loaded if m.startswith(plugin)} & {
        plugin + "planner", plugin + "roll_forward", plugin + "apply", plugin + "executor"} == set()


@pytest.mark.parametrize("argv", READS + [["plan", "release-infra-prod"], ["rollback", "release-infra-prod"]],
                         ids=lambda argv: argv[0])
def test_a_read_or_a_rollback_loads_no_click_before_its_first_request(tmp_path, argv):
    # click and the command tree (cli/app.py) are for the lines the short route leaves to them.
    loaded = loaded_before_first_request(tmp_path, argv)
    assert {"click", "kubectl_harness_rollback.cli.app"} & loaded == set()


@pytest.mark.parametrize("argv", READS + [["plan", "release-infra-prod"]], ids=lambda argv: argv[0])
def test_a_read_loads_neither_importlib_metadata_nor_the_kubernetes_client_before_its_first_request(tmp_path, argv):
    # importlib.metadata scans every installed distribution (tabulate asks it for its own version);
    # the kubernetes client and urllib3 are for the kubeconfig forms the stdlib path does not take.
    loaded = loaded_before_first_request(tmp_path, argv)
    assert {"importlib.metadata", "kubernetes", "urllib3"} & loaded == set()


@pytest.mark.parametrize("argv", READS + [["plan", "release-infra-prod"]], ids=lambda argv: argv[0])
def test_a_read_loads_what_only_a_mistake_a_timeout_or_a_write_needs_after_its_first_request(tmp_path, argv):
    # difflib suggests a name for one that matched nothing, durationpy parses --timeout and
    # --request-timeout, gzip compresses a record being written (a read inflates with zlib).
    loaded = loaded_before_first_request(tmp_path, argv)
    assert {"difflib", "durationpy", "gzip"} & loaded == set()


@pytest.mark.parametrize("argv", READS + [["plan", "release-infra-prod"], ["rollback", "release-infra-prod"]],
                         ids=lambda argv: argv[0])
def test_a_read_or_a_rollback_loads_neither_inspect_nor_logging_before_its_first_request(tmp_path, argv):
    # inspect (ast, dis, tokenize) only writes the __doc__ of a class without one, when it is read
    # (stand_ins.py, data_class.py); logging only a library that logs (exits.quiet_library_logs),
    # and concurrent.futures only the rights check of a far API server (rest.NEAR_SECONDS).
    loaded = loaded_before_first_request(tmp_path, argv)
    assert {"inspect", "logging", "concurrent.futures"} & loaded == set()


@pytest.mark.parametrize("argv", READS + [["plan", "release-infra-prod"]], ids=lambda argv: argv[0])
def test_a_read_loads_what_only_a_terminal_or_a_quantity_needs_after_its_first_request(tmp_path, argv):
    # shutil measures a terminal that os.get_terminal_size cannot (status's live frame); decimal
    # compares resource quantities written differently (`cpu: 0.5` and `500m`) in a plan's diff.
    loaded = loaded_before_first_request(tmp_path, argv)
    assert {"shutil", "decimal"} & loaded == set()


@pytest.mark.parametrize("argv", READS + [["plan", "release-infra-prod"]], ids=lambda argv: argv[0])
def test_a_read_loads_what_only_a_mistyped_name_o_name_or_an_unsteady_release_needs_after_its_first_request(
        tmp_path, argv):
    # did_you_mean suggests a name for one that matched nothing, output/names.py prints -o name,
    # diagnosis.py and workloads/pod_reasons.py say why a release is not steady, label_selector
    # parses -l.
    plugin = "kubectl_harness_rollback."
    loaded = loaded_before_first_request(tmp_path, argv)
    assert {plugin + name for name in ("did_you_mean", "output.names", "diagnosis", "workloads.pod_reasons",
                                       "label_selector")} & loaded == set()


# dataclasses compiles every method it writes for a class from source, each apart (about 0.1 ms
# each, six for a frozen class); data_class compiles __init__ alone. The probe lists the methods
# of the plugin's dataclasses loaded at the first request that were compiled from source.
COMPILED_METHODS = """
import sys

def compiled_methods():
    compiled = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("kubectl_harness_rollback.") or name in LEFT_TO_DATACLASSES:
            continue
        for cls in list(vars(module).values()):
            if isinstance(cls, type) and cls.__module__ == name and "__dataclass_fields__" in vars(cls):
                compiled += [f"{name}.{cls.__qualname__}.{method}" for method in ("__eq__", "__hash__", "__setattr__")
                             if getattr(getattr(cls, method), "__code__", None) is not None
                             and getattr(cls, method).__code__.co_filename == "<string>"]
    return sorted(compiled)
"""
LEFT_TO_DATACLASSES: set[str] = set()  # modules whose classes a read may build with dataclasses


@pytest.mark.parametrize("argv", READS + [["plan", "release-infra-prod"]], ids=lambda argv: argv[0])
def test_a_read_builds_its_classes_without_compiling_their_comparisons_before_its_first_request(tmp_path, argv):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG)
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    probe = (f"LEFT_TO_DATACLASSES = {sorted(LEFT_TO_DATACLASSES)!r}\n" + COMPILED_METHODS
             + PROBE.replace("print(json.dumps(sorted(sys.modules)))", "print(json.dumps(compiled_methods()))"))
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("["), (done.stdout, done.stderr)
    assert json.loads(done.stdout) == []


# The same kubeconfig in the block style kubectl writes (`kubectl config view --raw`).
BLOCK_KUBECONFIG = """\
apiVersion: v1
clusters:
- cluster:
    insecure-skip-tls-verify: true
    server: https://127.0.0.1:1
  name: c
contexts:
- context:
    cluster: c
    namespace: shop
    user: u
  name: c
current-context: c
kind: Config
users:
- name: u
  user:
    token: not-a-secret
"""


@pytest.mark.parametrize("argv", READS + [["plan", "release-infra-prod"], ["rollback", "release-infra-prod"]],
                         ids=lambda argv: argv[0])
def test_a_read_with_a_kubeconfig_in_block_style_loads_no_pyyaml_before_its_first_request(tmp_path, argv):
    # block_yaml reads the kubeconfig and the histories in Harness's block style; PyYAML is for
    # any other style, -o yaml and the records a rollback writes (after its reads).
    import yaml

    assert yaml.safe_load(BLOCK_KUBECONFIG) == yaml.safe_load(KUBECONFIG)
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(BLOCK_KUBECONFIG)
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("["), (done.stdout, done.stderr)
    assert "yaml" not in set(json.loads(done.stdout))


# -- which kubeconfig forms load the kubernetes client ---------------------------------------------

def loaded_at_first_request(directory, user: dict, cluster: dict, env: dict | None = None, prelude: str = "",
                            argv: tuple[str, ...] = ("history", "release-infra-prod")) -> set[str]:
    """sys.modules when `argv` opens its first connection, the kubeconfig's user and cluster as
    given (no kubeconfig at all when `user` is None: the in-cluster service account)."""
    import yaml

    run_env = {"HOME": str(directory), "PATH": "/usr/bin:/bin", **(env or {})}
    if user is not None:
        kubeconfig = directory / "config"
        kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1", **cluster}}],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "shop"}}]}))
        run_env["KUBECONFIG"] = str(kubeconfig)
    done = subprocess.run([sys.executable, "-c", prelude + PROBE, *argv], capture_output=True, text=True,
                          env=run_env, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("["), (done.stdout, done.stderr)
    return frozenset(json.loads(done.stdout))


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    from tests.support.fake_api import pki

    return pki(tmp_path_factory.mktemp("pki"))


def _data(path) -> str:
    import base64

    return base64.b64encode(path.read_bytes()).decode()


COMMON_FORMS = {
    "client certificate and key files, CA file": lambda pki, d: (
        {"client-certificate": str(pki.client_cert), "client-key": str(pki.client_key)},
        {"certificate-authority": str(pki.ca)}),
    "client certificate and key data, CA data": lambda pki, d: (
        {"client-certificate-data": _data(pki.client_cert), "client-key-data": _data(pki.client_key)},
        {"certificate-authority-data": _data(pki.ca), "tls-server-name": "kubernetes"}),
    "token, CA file": lambda pki, d: ({"token": "not-a-secret"}, {"certificate-authority": str(pki.ca)}),
    "token file, insecure-skip-tls-verify": lambda pki, d: (
        (d / "token").write_text("not-a-secret\n") and {"tokenFile": str(d / "token")},
        {"insecure-skip-tls-verify": True}),
    "basic auth, http proxy": lambda pki, d: (
        {"username": "u", "password": "p"}, {"certificate-authority": str(pki.ca), "proxy-url": "http://127.0.0.1:2"}),
}


@pytest.mark.parametrize("form", COMMON_FORMS)
def test_a_common_kubeconfig_form_reaches_the_first_request_without_the_kubernetes_client(tmp_path, certificates,
                                                                                         form):
    user, cluster = COMMON_FORMS[form](certificates, tmp_path)
    loaded = loaded_at_first_request(tmp_path, user, cluster)
    assert {"kubernetes", "urllib3"} & loaded == set()


def test_the_pods_service_account_reaches_the_first_request_without_the_kubernetes_client(tmp_path, certificates):
    (tmp_path / "token").write_text("not-a-secret")
    prelude = (f"from kubectl_harness_rollback.cluster import credentials\n"
               f"credentials.SERVICE_ACCOUNT_TOKEN = {str(tmp_path / 'token')!r}\n"
               f"credentials.SERVICE_ACCOUNT_CA = {str(certificates.ca)!r}\n")
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "1"}
    loaded = loaded_at_first_request(tmp_path, None, {}, env=env, prelude=prelude)
    assert {"kubernetes", "urllib3"} & loaded == set()


def test_an_exec_credential_plugin_goes_through_the_kubernetes_client(tmp_path, certificates):
    plugin = tmp_path / "plugin"
    credential = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": "not-a-secret"}}
    plugin.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(credential)}\nEOF\n")
    plugin.chmod(0o755)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                     "interactiveMode": "Never"}}
    loaded = loaded_at_first_request(tmp_path, user, {"certificate-authority": str(certificates.ca)})
    assert "kubernetes.config.exec_provider" in loaded


# -- what an unreachable API server costs ----------------------------------------------------------

UNREACHABLE = """
import atexit, sys
if sys.argv[1] == "preload":
    import urllib3
atexit.register(lambda: print("urllib3 loaded" if "urllib3" in sys.modules else "urllib3 not loaded"))
sys.argv = ["kubectl-harness_rollback"] + sys.argv[2:]
from kubectl_harness_rollback.cli.fast_path import main
main()
"""


@pytest.mark.parametrize("server", ["refusing", "silent"])
def test_an_unreachable_api_server_is_reported_alike_without_loading_urllib3(tmp_path, server):
    """A refused connection and a read timeout read the same whether urllib3 is loaded (an https or
    SOCKS proxy, an exec plugin) or not; and it is not loaded just to say so."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if server == "silent":
        listener.listen(8)  # connections are queued and never answered
    else:
        listener.close()
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG.replace("https://127.0.0.1:1", f"http://127.0.0.1:{port}"))
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    argv = ["history", "release-infra-prod", "--request-timeout", "0.5s"]
    try:
        runs = {mode: subprocess.run([sys.executable, "-c", UNREACHABLE, mode, *argv], capture_output=True,
                                     text=True, env=env, timeout=60) for mode in ("lean", "preload")}
    finally:
        listener.close()

    lean, preloaded = runs["lean"], runs["preload"]
    assert (lean.stdout, preloaded.stdout) == ("urllib3 not loaded\n", "urllib3 loaded\n")
    assert lean.returncode == preloaded.returncode != 0 and lean.stderr == preloaded.stderr
    assert len(lean.stderr.splitlines()) == 1 and ("timed out" in lean.stderr) == (server == "silent"), lean.stderr


@pytest.mark.parametrize("form", ["client certificate and key files, CA file", "token, CA file"])
def test_a_kubeconfig_without_certificate_or_key_data_makes_no_private_directory(tmp_path, certificates, form):
    # tempfile (and shutil, which removes the directory) is loaded only to write data to files.
    user, cluster = COMMON_FORMS[form](certificates, tmp_path)
    assert {"tempfile", "shutil"} & loaded_at_first_request(tmp_path, user, cluster) == set()


def test_many_contexts_reach_their_first_request_without_the_kubernetes_client(tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG.replace("contexts:\n", "contexts:\n- name: d\n  context: {cluster: c, user: u}\n"))
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE, "list", "-n", "shop", "--all-contexts"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("["), (done.stdout, done.stderr)
    assert {"kubernetes", "urllib3"} & set(json.loads(done.stdout)) == set()


EXEC_CONTEXTS_AT_ONCE = """
import sys
from concurrent.futures import ThreadPoolExecutor
from kubectl_harness_rollback.cluster.client import connect, import_client
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags

import_client()
assert "kubernetes" not in sys.modules
with ThreadPoolExecutor(max_workers=8) as pool:
    kubes = list(pool.map(lambda _: connect(ConnectionFlags(kubeconfig=sys.argv[1])), range(16)))
print(sorted({kube.auth_headers()["authorization"] for kube in kubes}))
"""


def test_exec_plugin_contexts_connecting_at_once_import_the_kubernetes_client_once(tmp_path):
    # The first connection that needs the client imports it while others connect: none sees the
    # stand-in modules its import puts in sys.modules for a moment.
    plugin = tmp_path / "plugin"
    credential = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": "not-a-secret"}}
    plugin.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(credential)}\nEOF\n")
    plugin.chmod(0o755)
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG.replace(
        "user: {token: not-a-secret}",
        "user: {exec: {apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never, command: %s}}" % plugin))
    done = subprocess.run([sys.executable, "-c", EXEC_CONTEXTS_AT_ONCE, str(kubeconfig)], capture_output=True,
                          text=True, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "['Bearer not-a-secret']\n", "")


def test_the_console_script_loads_no_click_for_a_read(tmp_path):
    """A read's line takes the short route (cli/read_flags.py): no click, no command tree."""
    for argv in (["history", "r", "-n", "shop"], ["list"], ["status", "r"], ["plan", "r", "-o", "json"]):
        loaded = loaded_before_first_request(tmp_path, argv)
        assert {"click", "kubectl_harness_rollback.cli.app"} & loaded == set(), argv
