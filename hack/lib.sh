# Shared by hack/test and hack/demo: a virtualenv with the plugin installed from this tree.
# shellcheck shell=bash
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${KHR_VENV:-$repo/.venv}"

ensure_venv() {
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    # Editable install: the console script kubectl-harness_rollback runs this tree's code.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$repo[test]"
    if [ -n "${KHR_KUBERNETES:-}" ]; then
        # Another kubernetes client than pip's newest, e.g. "kubernetes>=35,<36": the one the
        # release archive vendors (hack/release). Use it with a KHR_VENV of its own.
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$KHR_KUBERNETES"
    fi
    export PATH="$venv/bin:$PATH"
}
