"""A command's options: one dataclass per command, the one home of every default and help text.

A command's options are a frozen dataclass whose fields are declared with `option`:

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class SampleOptions:
        temperature: float = option(1.0, "Below 1: safer and more repetitive; above 1: wilder.")

The Python API takes the fields as keyword arguments; the apps define their absl flags from the
same fields (`define_flags`) and read them back (`from_flags`), so a flag, its default, its help
text and its aliases are written once, here, and ``docs/flags.md`` is generated from them. This
module imports nothing heavy: the apps read it before TensorFlow loads.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Iterable

from absl import flags

from lstm_core.errors import UsageError


def option(default: Any, help: str, *, aliases: Iterable[str] = (),
           choices: Iterable[str] | None = None) -> Any:
    """A field of an options dataclass: its default, its help text (the flag's), the flag's
    older names, and for a string the values it may take."""
    return dataclasses.field(default=default, metadata={
        "help": help, "aliases": tuple(aliases),
        "choices": None if choices is None else tuple(choices)})


def _base_type(annotation: Any) -> Any:
    """`int` of `int`, of `int | None` and of `Optional[int]`; `list` of `list[str]`."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return typing.get_origin(annotation) or annotation


def define_flags(options_class: type, flag_values: flags.FlagValues = flags.FLAGS,
                 skip: Iterable[str] = ()) -> None:
    """Defines an absl flag for every field of `options_class` (but those in `skip`), of the
    field's name, type, default and help, and its aliases."""
    hints = typing.get_type_hints(options_class)
    for field in dataclasses.fields(options_class):
        if field.name in skip:
            continue
        kind, help_text = _base_type(hints[field.name]), field.metadata["help"]
        name, default, values = field.name, field.default, field.metadata["choices"]
        if values is not None:
            flags.DEFINE_enum(name, default, list(values), help_text, flag_values=flag_values)
        elif kind is bool:
            flags.DEFINE_bool(name, default, help_text, flag_values=flag_values)
        elif kind is int:
            flags.DEFINE_integer(name, default, help_text, flag_values=flag_values)
        elif kind is float:
            flags.DEFINE_float(name, default, help_text, flag_values=flag_values)
        elif kind is list:
            flags.DEFINE_list(name, default, help_text, flag_values=flag_values)
        else:
            flags.DEFINE_string(name, default, help_text, flag_values=flag_values)
        for alias in field.metadata["aliases"]:
            flags.DEFINE_alias(alias, name, flag_values=flag_values)


def from_flags(options_class: type, flag_values: flags.FlagValues = flags.FLAGS):
    """The options the parsed flags give, and the names of those the user gave on the command
    line (an alias counts for its flag; giving both is a `UsageError` naming them)."""
    values, given = {}, set()
    for field in dataclasses.fields(options_class):
        if field.name not in flag_values:
            continue
        flag = flag_values[field.name]
        values[field.name] = flag.value
        # absl counts an alias given on the command line for its flag too: the flag's own name
        # was given as well when it counts more than its aliases.
        aliases = [name for name in field.metadata["aliases"] if flag_values[name].present]
        if aliases and flag.present > sum(flag_values[name].present for name in aliases):
            raise UsageError(f"--{field.name} and --{aliases[0]} are the same flag; give one "
                             "of them")
        if flag.present:
            given.add(field.name)
    return options_class(**values), frozenset(given)


def replace(options, **values):
    """`options` with `values` for some fields: a `UsageError` naming a keyword that is not one
    of its options (the Python API's keyword arguments are the flags' names)."""
    names = {field.name for field in dataclasses.fields(options)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UsageError(f"{', '.join(unknown)}: not an option of {type(options).__name__}; "
                         f"the options are {', '.join(sorted(names))}")
    return dataclasses.replace(options, **values)
