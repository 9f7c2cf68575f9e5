"""The exit codes of every ``mynacard`` command, and the error that carries one (one convention for all)."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """What a ``mynacard`` command's exit status means."""

    OK = 0
    """The command did what it was asked."""
    FAILED = 1
    """It ran and the result is a failure: a card answered an error, a check or a test failed."""
    USAGE = 2
    """It could not start: bad arguments or input (unknown profile or persona, damaged or foreign state
    directory, a slot already served)."""
    NO_READER = 3
    """The reader named does not exist or holds no card."""


EPILOG = """exit status: 0 success; 1 the command ran and failed (a card error, a failed check or test);
2 usage or input error (bad arguments, unknown profile or persona, unusable state directory, occupied
slot); 3 reader not found or empty."""


class CliError(Exception):
    """Stop the command with ``message`` on stderr and exit status ``code``."""

    def __init__(self, message: str, code: Exit = Exit.USAGE) -> None:
        super().__init__(message)
        self.code = code
