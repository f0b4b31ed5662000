"""The command line: the only folder that imports click.

The command line: click commands, the connection flags, completion and the fast path that answers
`--help` and `version` before click is imported. Only this folder imports click."""
