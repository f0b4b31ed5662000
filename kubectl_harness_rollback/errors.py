"""Typed errors, each with its exit code.

Typed errors. Each carries its exit code (README: Exit codes); cli.main() is the one
place that turns them into a message on stderr and a process exit status."""


class PluginError(Exception):
    """Something the user must act on. The message is one line that says what to do."""

    exit_code = 1


class UsageError(PluginError):
    """The command line itself is wrong (bad flag value, missing argument)."""

    exit_code = 2


class ConfigError(PluginError):
    """The kubeconfig cannot be used: no file, no context, an unknown context or cluster."""

    exit_code = 1


class ClusterUnreachable(PluginError):
    """The API server did not answer."""

    exit_code = 1


class CorruptHistory(PluginError):
    """A release record (history ConfigMap/Secret, declarative release Secret) cannot be read."""

    exit_code = 1

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        # What is wrong, without the object's name (`list` shows it in the object's row).
        self.reason = reason or message


class NoEligibleRelease(PluginError):
    """There is no release to roll back to; nothing was changed."""

    exit_code = 3


class NotSteady(PluginError):
    """The rollback was written but the workload was not steady within --timeout."""

    exit_code = 4


class RolloutFailed(PluginError):
    """The controller gave up on the rollout (e.g. its progress deadline passed)."""

    exit_code = 4


class Conflict(PluginError):
    """An object changed between reading it and writing it; nothing of it was overwritten. A race
    lost, not a mistake: running the command again re-plans from what is there now."""

    exit_code = 5


class ChangedDuringWait(PluginError):
    """Someone else changed a workload while the rollback waited for it to be steady: what became
    steady is not what the rollback restored. The rollback itself is recorded."""

    exit_code = 6


class Interrupted(PluginError):
    """Ctrl-C after the first write: the rollback is written and goes on rolling out."""

    exit_code = 130


class NotConfirmed(PluginError):
    """The person asked to confirm a rollback across contexts answered no; nothing was written."""

    exit_code = 1


def reworded(error: PluginError, message: str) -> PluginError:
    """A copy of `error` (same type, exit code and attributes) with another message. Not
    type(error)(message): ApiError and CorruptHistory take more than a message."""
    copied = type(error).__new__(type(error), message)
    copied.__dict__.update(error.__dict__)
    copied.args = (message,)
    return copied
