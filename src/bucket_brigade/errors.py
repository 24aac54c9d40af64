"""Errors that mean "the user asked for something invalid" (exit code 2 on the CLI)."""


class UsageError(ValueError):
    """Bad input from the user: the message names the value and the valid choices."""


class Terminated(BaseException):
    """SIGTERM, raised where a command runs so that its cleanup (``finally``) happens; the
    command line reports it with exit code 143."""
