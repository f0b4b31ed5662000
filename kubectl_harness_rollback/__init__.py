"""kubectl harness-rollback: Harness-style rollback computed from what is in the cluster alone."""

__version__ = "0.1.0"
