"""Rollback strategies beyond restoring workloads: blue/green swaps and the canary delete.

How a rollback moves traffic besides restoring workloads: blue/green Service swaps and Harness's
canary delete."""
