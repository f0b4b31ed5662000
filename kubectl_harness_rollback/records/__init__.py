"""The records Harness keeps of its releases, and what a rollback writes into them.

The records Harness keeps of its releases: legacy histories, declarative release Secrets, and
what a rollback writes into them. Adding a record format starts here."""
