"""Many clusters: `--contexts`/`--all-contexts`, each command run per context, one table."""
