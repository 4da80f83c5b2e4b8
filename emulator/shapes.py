"""Strict request bodies, beyond the loose OpenAPI spec.

The spec lets ``PATCH /channels/{id}`` take any of four shapes (DM, group DM, guild channel, thread),
and the DM shape accepts any object, so a misspelt or wrong-typed thread field passes it. Real Discord
ignores unknown keys silently, which hides the bug. Here the body must fit the channel it edits: thread
fields only on threads, forum fields only on forums, the right type for every value, no unknown key.
Creating a thread is checked the same way against its parent. Each check returns Discord-style form
errors (empty when the body is fine).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.limits import Errors, add_error
from emulator.state import CATEGORY, FORUM, PRIVATE_THREAD, PUBLIC_THREAD, TEXT

ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
APPLIED_TAGS_MAX = 5


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_snowflake(value: Any) -> bool:
    return (_is_int(value) and value >= 0) or (isinstance(value, str) and value.isdigit())


def _is_name(value: Any) -> bool:
    return isinstance(value, str)  # its length is Discord's name limit, checked with the others


def _is_optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_archive_duration(value: Any) -> bool:
    return value in ARCHIVE_DURATIONS and _is_int(value)


def _is_slowmode(value: Any) -> bool:
    return value is None or (_is_int(value) and 0 <= value <= 21600)


def _is_applied_tags(value: Any) -> bool:
    return isinstance(value, list) and len(value) <= APPLIED_TAGS_MAX and all(_is_snowflake(v) for v in value)


def _is_tag_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _is_overwrites(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


Check = Callable[[Any], bool]
_COMMON: dict[str, Check] = {"name": _is_name, "flags": _is_int}
_GUILD: dict[str, Check] = {
    **_COMMON,
    "position": _is_int,
    "permission_overwrites": _is_overwrites,
    "parent_id": lambda v: v is None or _is_snowflake(v),
}
_THREAD: dict[str, Check] = {
    **_COMMON,
    "archived": _is_bool,
    "locked": _is_bool,
    "invitable": _is_bool,
    "auto_archive_duration": _is_archive_duration,
    "rate_limit_per_user": _is_slowmode,
    "applied_tags": _is_applied_tags,
}
_TEXT: dict[str, Check] = {
    **_GUILD,
    "topic": _is_optional_text,
    "nsfw": _is_bool,
    "rate_limit_per_user": _is_slowmode,
    "default_auto_archive_duration": _is_archive_duration,
    "default_thread_rate_limit_per_user": _is_slowmode,
}
_FORUM: dict[str, Check] = {
    **_TEXT,
    "available_tags": _is_tag_list,
    "default_reaction_emoji": lambda v: v is None or isinstance(v, dict),
    "default_sort_order": lambda v: v is None or v in (0, 1),
    "default_forum_layout": lambda v: v in (0, 1, 2),
}
CHANNEL_PATCH: dict[int, dict[str, Check]] = {
    TEXT: _TEXT,
    CATEGORY: _GUILD,
    FORUM: _FORUM,
    PUBLIC_THREAD: {k: v for k, v in _THREAD.items() if k != "invitable"},
    PRIVATE_THREAD: _THREAD,
}


def check_channel_patch(channel_type: int, body: Any) -> Errors:
    """The body of ``PATCH /channels/{id}`` against the fields of that channel type."""
    return _check_fields(CHANNEL_PATCH.get(channel_type, _COMMON), body, channel_type)


def _check_fields(fields: dict[str, Check], body: Any, channel_type: int) -> Errors:
    errors: Errors = {}
    if not isinstance(body, dict):
        add_error(errors, [], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return errors
    for key, value in body.items():
        check = fields.get(key)
        if check is None:
            message = f"{key!r} is not a field of channel type {channel_type}"
            add_error(errors, [key], "UNKNOWN_FIELD", message)
        elif not check(value):
            add_error(errors, [key], "BASE_TYPE_INVALID", f"Invalid value {value!r} for {key!r}")
    return errors


_THREAD_CREATE: dict[str, Check] = {
    "name": _is_name,
    "auto_archive_duration": _is_archive_duration,
    "rate_limit_per_user": _is_slowmode,
}
THREAD_CREATE: dict[int, dict[str, Check]] = {
    TEXT: {**_THREAD_CREATE, "type": lambda v: v in (PUBLIC_THREAD, PRIVATE_THREAD), "invitable": _is_bool},
    # discord.py sends ``type`` for a forum post too; Discord ignores it there.
    FORUM: {
        **_THREAD_CREATE,
        "type": lambda v: v is None or v == PUBLIC_THREAD,
        "applied_tags": _is_applied_tags,
        "message": lambda v: isinstance(v, dict),
    },
}


def check_thread_create(parent_type: int, body: Any) -> Errors:
    """The body of ``POST /channels/{id}/threads``: a forum post has a starter ``message`` and may
    carry tags; a text channel's thread has neither."""
    errors = _check_fields(THREAD_CREATE.get(parent_type, _THREAD_CREATE), body, parent_type)
    if parent_type == FORUM and isinstance(body, dict) and "message" not in body:
        add_error(errors, ["message"], "BASE_TYPE_REQUIRED", "This field is required")
    return errors
