"""kubectl apply, re-done: re-apply, compare, annotate and prune as `kubectl apply` would.

kubectl apply, re-done: what a declarative rollback re-applies, how it compares objects, how it
leaves the annotations and managedFields `kubectl apply` leaves, and what `--prune` deletes."""
