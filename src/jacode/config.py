"""Stage configs declared once: a dataclass per stage kind, whose fields (types, defaults, help) give the recipe
validation, the command-line options and the documentation.

A config is a dataclass whose fields carry their help text as `Annotated[type, "help"]`; `Literal[...]` types
are enums; `__pydantic_config__ = STRICT` makes unknown keys an error. pydantic (TypeAdapter) validates a mapping
against it, so recipes get types, enums and required keys checked with the key's path, and a did-you-mean for
typos; `options()` turns the same fields into Typer options, so the CLI cannot drift from the recipe schema.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, Literal

from pydantic import ConfigDict, TypeAdapter, ValidationError

STRICT = ConfigDict(extra="forbid")  # on each config dataclass: unknown keys are errors


@dataclasses.dataclass
class Problem:
    loc: tuple[Any, ...]  # the key's path in the config mapping
    message: str


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{'.'.join(map(str, p.loc)) or '(config)'}: {p.message}" for p in problems))
        self.problems = problems


@cache
def _adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)


def field_names(cls: type) -> list[str]:
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    return list(cls.model_fields)  # a pydantic model


def validate(cls: type, raw: Any) -> Any:
    """An instance of `cls` from a mapping, or ConfigError listing every problem (with did-you-mean for typos)."""
    try:
        return _adapter(cls).validate_python(raw)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = tuple(err["loc"])
            msg = err["msg"]
            if err["type"] in ("unexpected_keyword_argument", "extra_forbidden") and loc:
                known = _known_at(cls, loc[:-1])
                close = difflib.get_close_matches(str(loc[-1]), known, n=1)
                msg = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else
                                       f" (known: {', '.join(known)})" if known else "")
            elif err["type"] == "missing":
                msg = "required key missing"
            elif err["type"] == "literal_error":
                msg = f"{err['input']!r}: {msg}"
            elif "input" in err and not isinstance(err["input"], dict):
                msg = f"{msg} (got {err['input']!r})"
            problems.append(Problem(loc, msg))
        raise ConfigError(problems) from None


def _known_at(cls: type, loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) config type at `loc`, where a typo was found."""
    tp: Any = cls
    for key in loc:
        if isinstance(key, int):
            args = typing.get_args(tp)
            tp = args[0] if args else None
        else:
            hints = _hints(tp) if isinstance(tp, type) else {}
            tp = _strip(hints.get(key)) if key in hints else None
        tp = _strip(tp)
        if tp is None:
            return []
    return field_names(tp) if isinstance(tp, type) and (dataclasses.is_dataclass(tp) or
                                                         hasattr(tp, "model_fields")) else []


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _strip(tp: Any) -> Any:
    """The type without Annotated and Optional wrappers."""
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _strip(args[0])
    return tp


@dataclasses.dataclass(frozen=True)
class FieldDoc:
    name: str
    type: str
    default: str
    help: str
    required: bool


def describe(cls: type) -> list[FieldDoc]:
    """One line per field, for help texts and the README's table of stage kinds."""
    if hasattr(cls, "model_fields"):  # a pydantic model (the data stage's nested settings)
        def default(f):
            value = f.get_default(call_default_factory=True)
            return repr(value.model_dump() if hasattr(value, "model_dump") else value)

        return [FieldDoc(name, _type_name(_strip(f.annotation)), "" if f.is_required() else default(f),
                         f.description or "", f.is_required()) for name, f in cls.model_fields.items()]
    hints = _hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        help_text = ""
        if typing.get_origin(tp) is typing.Annotated:
            help_text = next((m for m in typing.get_args(tp)[1:] if isinstance(m, str)), "")
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = "" if required else repr(f.default if f.default is not dataclasses.MISSING
                                            else f.default_factory())
        out.append(FieldDoc(f.name, _type_name(_strip(tp)), default, help_text, required))
    return out


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        names = [_type_name(_strip(a)) for a in typing.get_args(tp) if a is not type(None)]
        return " | ".join(dict.fromkeys(names))
    if typing.get_origin(tp) is Literal:
        return " | ".join(str(a) for a in typing.get_args(tp))
    if typing.get_origin(tp) in (list, tuple):
        args = typing.get_args(tp)
        return f"list of {_type_name(_strip(args[0]))}" if args else "list"
    if typing.get_origin(tp) is dict:
        return "mapping"
    if isinstance(tp, type) and (hasattr(tp, "model_fields") or dataclasses.is_dataclass(tp)):
        return "mapping"
    return getattr(tp, "__name__", str(tp))


# ---- command-line options from the same fields ----------------------------------------------------------
def options(cls: type, *, positional: tuple[str, ...] = (), exclude: tuple[str, ...] = (),
            rename: dict[str, str] | None = None) -> list[inspect.Parameter]:
    """Typer parameters for the config's fields: `--seq-len` for seq_len, `--x/--no-x` for booleans, repeatable
    options for lists, a choice check for Literal fields (in `validate`)."""
    import typer

    hints = _hints(cls)
    params = []
    for f in dataclasses.fields(cls):
        if f.name in exclude:
            continue
        tp = hints[f.name]
        help_text = next((m for m in typing.get_args(tp)[1:] if isinstance(m, str)), "") \
            if typing.get_origin(tp) is typing.Annotated else ""
        base = _strip(tp)
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = ... if required else (f.default if f.default is not dataclasses.MISSING else f.default_factory())
        if typing.get_origin(base) is Literal:
            choices = typing.get_args(base)
            help_text = f"{help_text} ({', '.join(map(str, choices))})".strip()
            annotation: Any = str
        elif typing.get_origin(base) in (list, tuple):
            annotation = list[str] if not typing.get_args(base) or typing.get_args(base)[0] is not float \
                else list[float]
            default = ... if required else list(default or [])
        elif base in (int, float, str, bool):
            annotation = base
        elif base is dict or typing.get_origin(base) is dict:
            continue  # structured settings: recipes only
        else:
            annotation = str
        optional = f.default is None
        if optional and annotation in (int, float, str):
            annotation = typing.Optional[annotation]  # noqa: UP007 - Typer reads Optional
        name = (rename or {}).get(f.name, f.name.replace("_", "-"))
        if f.name in positional:
            info = typer.Argument(default, help=help_text, show_default=False)
        elif base is bool:
            info = typer.Option(default, f"--{name}/--no-{name}", help=help_text)
        else:
            info = typer.Option(default, f"--{name}", help=help_text)
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=info,
                                        annotation=annotation))
    return params


def command(cls: type, body: Callable[..., Any], *, extra: list[inspect.Parameter] = (), doc: str = "",
            positional: tuple[str, ...] = (), exclude: tuple[str, ...] = (),
            rename: dict[str, str] | None = None) -> Callable[..., Any]:
    """A Typer command whose options are the config's fields (plus `extra`); it validates the values into a
    config and calls body(config, **extra_values)."""
    fields = options(cls, positional=positional, exclude=exclude, rename=rename)
    extra_names = [p.name for p in extra]

    def run(**kwargs):
        extras = {k: kwargs.pop(k) for k in extra_names}
        raw = {}
        for k, v in kwargs.items():
            raw[k] = [x for item in v for x in str(item).split(",") if x] if isinstance(v, list) and v and \
                all(isinstance(x, str) for x in v) and _is_name_list(cls, k) else v
        return body(validate(cls, raw), **extras)

    run.__signature__ = inspect.Signature([*fields, *extra])  # type: ignore[attr-defined]
    run.__doc__ = doc
    return run


def _is_name_list(cls: type, name: str) -> bool:
    """Lists of names (LoRA targets) accept `a,b,c` as well as repeated options; paths are never split."""
    tp = _hints(cls)[name]
    return typing.get_origin(tp) is typing.Annotated and "comma" in typing.get_args(tp)[1:]
