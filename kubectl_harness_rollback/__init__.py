"""kubectl harness-rollback: Harness-style rollback computed from what is in the cluster alone."""

import sys

__version__ = "0.1.0"


def version_line() -> str:
    """What `version` prints (cli/fast_path.py answers it before click is imported; cli/app.py when it is)."""
    return f"kubectl-harness_rollback v{__version__} (python {sys.version.split()[0]})"
