"""Discord's own size limits on messages, embeds, components and names.

Each check returns Discord-style form errors (``{"field": {"_errors": [...]}}`` nested by path) so the
REST layer can answer 400 / code 50035 exactly like Discord.
"""

from __future__ import annotations

from typing import Any

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_NAME_MAX = 256
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
CUSTOM_ID_MAX = 100
LABEL_MAX = 80
NAME_MIN, NAME_MAX = 1, 100
FORUM_TAGS_MAX = 20
TAG_NAME_MAX = 20
BUTTON, LINK_STYLE, ACTION_ROW = 2, 5, 1

Errors = dict[str, Any]


def add_error(errors: Errors, path: list[str | int], code: str, message: str) -> None:
    """Add one error at ``path`` (nested as Discord nests them; ``[]`` is the body itself)."""
    node = errors
    for part in path:
        node = node.setdefault(str(part), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def _too_long(errors: Errors, path: list[str | int], value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        add_error(errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def check_name(name: Any, errors: Errors | None = None, key: str = "name") -> Errors:
    """Channel and thread names: 1..100 characters."""
    errors = {} if errors is None else errors
    if not isinstance(name, str) or not NAME_MIN <= len(name) <= NAME_MAX:
        add_error(
            errors, [key], "BASE_TYPE_BAD_LENGTH", f"Must be between {NAME_MIN} and {NAME_MAX} in length."
        )
    return errors


def check_forum_tags(tags: Any) -> Errors:
    """A forum's ``available_tags``: at most 20, each named with 1..20 characters."""
    errors: Errors = {}
    if not isinstance(tags, list):
        add_error(errors, ["available_tags"], "BASE_TYPE_ARRAY", "Must be an array.")
        return errors
    if len(tags) > FORUM_TAGS_MAX:
        message = f"Must be {FORUM_TAGS_MAX} or fewer in length."
        add_error(errors, ["available_tags"], "BASE_TYPE_MAX_LENGTH", message)
    for index, tag in enumerate(tags):
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= TAG_NAME_MAX:
            message = f"Must be between 1 and {TAG_NAME_MAX} in length."
            add_error(errors, ["available_tags", index, "name"], "BASE_TYPE_BAD_LENGTH", message)
    return errors


def check_message(body: dict[str, Any], *, require_body: bool = True) -> Errors:
    """Content, embeds and components of a message create/edit body."""
    errors: Errors = {}
    content = body.get("content")
    _too_long(errors, ["content"], content, CONTENT_MAX)
    embeds = body.get("embeds") or []
    components = body.get("components") or []
    if len(embeds) > EMBEDS_MAX:
        add_error(errors, ["embeds"], "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        total += _check_embed(errors, ["embeds", i], embed)
    if total > EMBED_TOTAL_MAX:
        add_error(errors, ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    _check_components(errors, components)
    _check_allowed_mentions(errors, body.get("allowed_mentions"))
    has_files = bool(body.get("attachments")) or bool(body.get("_files"))
    if require_body and not content and not embeds and not components and not has_files:
        add_error(errors, ["content"], "MESSAGE_EMPTY", "Cannot send an empty message")
    return errors


def _check_allowed_mentions(errors: Errors, allowed: Any) -> None:
    """``parse: ["users"]`` with a ``users`` list (or the same for roles) is refused by Discord."""
    if not isinstance(allowed, dict):
        return
    parse = allowed.get("parse") or []
    for kind in ("users", "roles"):
        if kind in parse and allowed.get(kind):
            message = f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.'
            add_error(errors, ["allowed_mentions"], "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", message)


def _check_embed(errors: Errors, path: list[str | int], embed: dict[str, Any]) -> int:
    """Check one embed; return its character count toward the 6000 total."""
    title, description = embed.get("title") or "", embed.get("description") or ""
    _too_long(errors, [*path, "title"], title, EMBED_TITLE_MAX)
    _too_long(errors, [*path, "description"], description, EMBED_DESCRIPTION_MAX)
    total = len(title) + len(description)
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        add_error(errors, [*path, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for j, item in enumerate(fields):
        name, value = item.get("name") or "", item.get("value") or ""
        _too_long(errors, [*path, "fields", j, "name"], name, FIELD_NAME_MAX)
        _too_long(errors, [*path, "fields", j, "value"], value, FIELD_VALUE_MAX)
        total += len(name) + len(value)
    footer = (embed.get("footer") or {}).get("text") or ""
    _too_long(errors, [*path, "footer", "text"], footer, FOOTER_MAX)
    author = (embed.get("author") or {}).get("name") or ""
    _too_long(errors, [*path, "author", "name"], author, AUTHOR_NAME_MAX)
    return total + len(footer) + len(author)


def _check_components(errors: Errors, rows: list[dict[str, Any]]) -> None:
    if len(rows) > ACTION_ROWS_MAX:
        add_error(errors, ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for i, row in enumerate(rows):
        if row.get("type") != ACTION_ROW:
            continue
        children = row.get("components") or []
        buttons = [c for c in children if c.get("type") == BUTTON]
        if len(buttons) > ROW_BUTTONS_MAX:
            add_error(errors, ["components", i, "components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer.")
        for j, child in enumerate(children):
            _check_component(errors, ["components", i, "components", j], child)


def _check_component(errors: Errors, path: list[str | int], child: dict[str, Any]) -> None:
    _too_long(errors, [*path, "custom_id"], child.get("custom_id"), CUSTOM_ID_MAX)
    _too_long(errors, [*path, "label"], child.get("label"), LABEL_MAX)
    if child.get("type") != BUTTON:
        return
    if child.get("style") == LINK_STYLE:
        if not child.get("url"):
            add_error(errors, [*path, "url"], "BUTTON_LINK_URL_REQUIRED", "A link button requires a url")
        if child.get("custom_id"):
            add_error(
                errors, [*path, "custom_id"], "BUTTON_LINK_CUSTOM_ID", "A link button cannot have a custom_id"
            )
    elif child.get("style") != 6 and not child.get("custom_id"):
        add_error(errors, [*path, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
