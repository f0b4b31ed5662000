"""The records Harness keeps of its releases, and what a rollback writes into them.

One store per record format (legacy.py, declarative.py, annotations.py), each implementing
store.ReleaseStore; registry.py lists them in precedence order. Adding a record format starts there."""
