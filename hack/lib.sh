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
    export PATH="$venv/bin:$PATH"
}
