"""The error hierarchy. One boundary (cli.main) turns these into exit codes; nothing else exits."""

from __future__ import annotations

# Exit codes: 0 every host ok (changed or unchanged; a dry-run with pending changes included), 1 some host
# not ok, 2 bad input detected before any host is touched, 3 (audit) some host drifted from the
# playbook, 130 interrupted.
EXIT_OK, EXIT_HOST_FAILED, EXIT_BAD_INPUT, EXIT_DRIFT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class RemediateError(Exception):
    """Base of every error the tool raises on purpose."""

    exit_code = 1


class UserError(RemediateError):
    """Bad input detected before any host is touched: one clear line, exit 2.

    The message names the file, the key path and the problem, e.g.
    ``playbooks/fix.yml: steps[2].line_patch.regex: invalid regex: ...``.
    """

    exit_code = 2


class HostError(RemediateError):
    """Something went wrong on one host. Caught per host and reported as that host's status."""

    def __init__(self, message: str, status: str = "failed") -> None:
        super().__init__(message)
        self.status = status


class UnreachableError(HostError):
    """The host could not be connected to or authenticated against."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status="unreachable")
