"""Many clusters, and one as a fleet of one: `--contexts`/`--all-contexts`, each command run per context, one table."""
