"""One exception type for problems the user can fix; the CLI prints it without a traceback."""


class JacodeError(Exception):
    """Bad input or configuration. The message names the file, line, field or tensor."""
