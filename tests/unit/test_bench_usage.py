"""hack/bench's usage and its import-time figures, without a cluster."""

import os
import subprocess
import sys

REPO = os.path.join(os.path.dirname(__file__), "..", "..")


def test_help_prints_the_usage_and_starts_nothing():
    done = subprocess.run([os.path.join(REPO, "hack", "bench"), "--help"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "KHR_CLUSTER_NAME": "khr-bench-help-must-not-start"})
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("Print what reading and planning a release costs")
    assert "hack/bench --side-by-side [--plugin PATH]" in done.stdout


def test_an_unknown_argument_is_refused_with_the_usage():
    done = subprocess.run([os.path.join(REPO, "hack", "bench"), "--side-by-sid"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("hack/bench: unknown argument '--side-by-sid'\n")


def test_the_import_profile_charges_each_import_to_its_top_level_module():
    sys.path.insert(0, os.path.join(REPO, "hack"))
    try:
        import bench_side_by_side as bench
    finally:
        sys.path.pop(0)
    assert bench.import_group("kubectl_harness_rollback.cli.reads") == "kubectl_harness_rollback.cli"
    assert bench.import_group("yaml.reader") == "yaml"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    profile = bench.import_profile([sys.executable, "-c", "import kubectl_harness_rollback.cli.read_flags"], env,
                                   runs=1)
    assert profile["kubectl_harness_rollback.cli"] > 0 and "click" not in profile
    assert profile["total"] >= sum(ms for name, ms in profile.items() if name != "total") - 0.01
    text = bench.import_profiles_text({"history": profile}, top=len(profile))  # the plugin's may not be in the top 12
    assert "- `history`: " in text and "kubectl_harness_rollback.cli" in text
