"""Helpers shared by the command modules."""

from __future__ import annotations

import functools

import typer

from jacode.config import ConfigError
from jacode.errors import JacodeError


def friendly(fn):
    """Print user errors as one line (exit 2) instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (JacodeError, ConfigError) as e:
            typer.secho(f"error: {e}", fg="red", err=True)
            raise typer.Exit(2) from None

    return wrapper
