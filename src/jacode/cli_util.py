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


def plain(x) -> str:
    """A value as a person reads it in a table or a line: floats to 4 significant digits, mappings as "key value,
    key value", lists comma-separated, None as "–" — never a raw Python or JSON dict."""
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, dict):
        return ", ".join(f"{k} {plain(v)}" for k, v in x.items()) or "none"
    if isinstance(x, (list, tuple)):
        return ", ".join(plain(v) for v in x)
    return str(x)
