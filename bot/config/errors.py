"""Turning configuration problems into short lines people can act on.

Pydantic's own error text is written for developers ("Input should be a valid
integer, unable to parse string as an integer [type=int_parsing, ...]" plus a
URL).  Admins editing ``config.toml`` or using ``/config`` need one line per
problem, ``<dotted.key.path>: <reason>``, in plain words.  This module does
that translation in one place, for the file checker and for slash commands.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.config.types import printable

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` holds one ``<path>: <reason>`` line per issue.

    ``str(error)`` joins the lines, so printing the exception explains everything
    without a traceback or pydantic noise.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))


def _items(count: object) -> str:
    """``"1 item"`` / ``"3 items"``, for list length messages."""
    return "1 item" if count == 1 else f"{count} items"


def _text_length(ctx: Mapping[str, Any], bound: str) -> str:
    """Describe a string length limit, treating a minimum of one as "must not be empty"."""
    if bound == "min_length" and ctx.get("min_length") == 1:
        return "must not be empty"
    if bound == "min_length":
        return f"must be at least {ctx.get(bound)} characters"
    return f"must be at most {ctx.get(bound)} characters"


def _error_detail(ctx: Mapping[str, Any]) -> str:
    """The message inside a plain ``ValueError`` raised by a validator."""
    return str(ctx.get("error", "")).strip() or "is not valid"


_REASONS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: "is required",
    "extra_forbidden": lambda ctx: "unknown setting",
    "int_type": lambda ctx: "must be a whole number",
    "int_parsing": lambda ctx: "must be a whole number",
    "int_from_float": lambda ctx: "must be a whole number",
    "int_parsing_size": lambda ctx: "is far too large",
    "float_type": lambda ctx: "must be a number",
    "float_parsing": lambda ctx: "must be a number",
    "finite_number": lambda ctx: "must be a finite number",
    "bool_type": lambda ctx: "must be true or false",
    "bool_parsing": lambda ctx: "must be true or false",
    "string_type": lambda ctx: "must be text",
    "string_unicode": lambda ctx: "must be text",
    "string_too_short": lambda ctx: _text_length(ctx, "min_length"),
    "string_too_long": lambda ctx: _text_length(ctx, "max_length"),
    "list_type": lambda ctx: "must be a list",
    "tuple_type": lambda ctx: "must be a list",
    "model_type": lambda ctx: "must be a table of settings",
    "model_attributes_type": lambda ctx: "must be a table of settings",
    "dict_type": lambda ctx: "must be a table of settings",
    "too_short": lambda ctx: f"must have at least {_items(ctx.get('min_length'))}",
    "too_long": lambda ctx: f"must have at most {_items(ctx.get('max_length'))}",
    "greater_than_equal": lambda ctx: f"must be at least {ctx.get('ge')}",
    "greater_than": lambda ctx: f"must be greater than {ctx.get('gt')}",
    "less_than_equal": lambda ctx: f"must be at most {ctx.get('le')}",
    "less_than": lambda ctx: f"must be less than {ctx.get('lt')}",
    "literal_error": lambda ctx: f"must be {ctx.get('expected')}",
    "value_error": _error_detail,
    "assertion_error": _error_detail,
}


def _fallback_reason(message: str) -> str:
    """Soften a pydantic message we have no translation for (``Input should be`` → ``must be``)."""
    text = message.replace("Input should be", "must be").replace("Value error, ", "").strip()
    text = text.split("[type=", 1)[0].strip()
    return (text[:1].lower() + text[1:]) if text else "is not valid"


def reason_for(error: Mapping[str, Any]) -> str:
    """One short, polite reason for a single entry of ``ValidationError.errors()``."""
    translate = _REASONS.get(str(error.get("type", "")))
    if translate is not None:
        return translate(error.get("ctx") or {})
    return _fallback_reason(str(error.get("msg", "")))


def _key_text(key: str) -> str:
    """A key as TOML would write it: bare when possible, quoted otherwise, and never huge."""
    if len(key) > 40:
        key = key[:39] + "…"
    if _BARE_KEY_RE.fullmatch(key):
        return key
    return '"' + printable(key.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def format_location(location: Iterable[int | str], prefix: str = "") -> str:
    """Write an error location as a dotted key path: ``('escalation', 'tiers', 1, 'after')`` →
    ``escalation.tiers[1].after``, optionally below ``prefix``."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + _key_text(part)
    return path


def format_validation_error(err: ValidationError, prefix: str = "") -> list[str]:
    """Explain a pydantic ``ValidationError`` as ``<dotted.key.path>: <reason>`` lines.

    ``prefix`` is prepended to every path, for validating a part of the settings
    (e.g. ``prefix="points"`` when only the ``points`` table was checked).  Lines
    keep pydantic's order (which follows the settings' layout) without duplicates;
    input values are never echoed except through our own short messages.
    """
    lines: list[str] = []
    for error in err.errors(include_url=False, include_input=False):
        path = format_location(error.get("loc", ()), prefix)
        reason = printable(reason_for(error))
        line = f"{path}: {reason}" if path else reason
        if line not in lines:
            lines.append(line)
    return lines


def located_errors(title: str, problems: Sequence[tuple[tuple[int | str, ...], str]]) -> ValidationError:
    """Build a ``ValidationError`` whose entries sit at given locations inside the model being checked.

    Raised from a validator, pydantic re-roots these locations under the field
    or model being validated, so a cross-field check can blame exactly the
    right key (``tiers[1].after``) rather than the whole list or section.
    """
    details = [
        InitErrorDetails(
            type=PydanticCustomError("config_rule", "{message}", {"message": message}),
            loc=location,
            input=None,
        )
        for location, message in problems
    ]
    return ValidationError.from_exception_data(title, details)
