"""Validate REST traffic and gateway payloads against Discord's published schemas.

Two public data files drive this (see ``../shared/data/README.md``):

* ``discord-api-spec/openapi.json``: Discord's OpenAPI 3.1 description of REST v10. Every request
  the bot sends and every response the emulator returns is checked against the matching operation.
* ``discord-api-types/gateway.schema.json``: a draft-7 JSON Schema of gateway payloads keyed by event
  name. Every payload the emulator sends over the gateway is checked against it.

Both files are loaded once per process and compiled validators are cached per operation/event, so
validation stays cheap enough to run on every request of an end-to-end suite.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported where used: validation is for tests (the dev extra), while the demo runs the
    # emulator on the base install, where jsonschema may be absent.
    from jsonschema import Draft7Validator, Draft202012Validator
    from referencing import Registry

log = logging.getLogger(__name__)

SPEC_RELATIVE = Path("discord-api-spec") / "openapi.json"
GATEWAY_RELATIVE = Path("discord-api-types") / "gateway.schema.json"
_SPEC_URI = "urn:discord-openapi"  # responses: the spec as published
_REQUEST_SPEC_URI = "urn:discord-openapi-requests"  # requests: snowflakes may be JSON integers


class ValidationDataMissing(RuntimeError):
    """Raised when validation is required but the shared schema files are absent."""


def shared_data_dir() -> Path:
    """Where the shared data lives: ``$UNSTUCK_SHARED_DATA`` or ``<project root>/../shared/data``."""
    override = os.environ.get("UNSTUCK_SHARED_DATA")
    if override:
        return Path(override)
    project_root = Path(__file__).resolve().parent.parent
    return project_root.parent / "shared" / "data"


def missing_data_files() -> list[Path]:
    """The schema files validation needs that are not present."""
    base = shared_data_dir()
    return [base / rel for rel in (SPEC_RELATIVE, GATEWAY_RELATIVE) if not (base / rel).is_file()]


_warned_missing = False


def resolve_validate_flag(validate: bool | None) -> bool:
    """Turn the ``validate`` constructor argument into on/off.

    ``None`` means auto: on when the data is present, except that under CI (env ``CI`` set) it is
    required, so a CI run can never silently skip validation. ``True`` means required.
    """
    global _warned_missing
    if validate is False:
        return False
    missing = missing_data_files()
    required = validate is True or _ci_enabled()
    if not missing:
        return _validator_installed(required)
    message = (
        f"Discord schema files missing: {', '.join(str(p) for p in missing)}. They come from the public "
        "repositories discord/discord-api-spec (specs/openapi.json) and discord-api-types "
        "(gateway.schema.json generated with typescript-json-schema); see shared/data/README.md. "
        "Set UNSTUCK_SHARED_DATA to their directory."
    )
    if required:
        raise ValidationDataMissing(message)
    if not _warned_missing:
        log.warning("Emulator validation is OFF. %s", message)
        _warned_missing = True
    return False


def _validator_installed(required: bool) -> bool:
    """Whether jsonschema is importable: the schemas are present, but the checker comes with the dev extra."""
    global _warned_missing
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        message = "Emulator validation needs jsonschema: pip install -e '.[dev]'."
        if required:
            raise ValidationDataMissing(message) from None
        if not _warned_missing:
            log.warning("Emulator validation is OFF. %s", message)
            _warned_missing = True
        return False
    return True


def _ci_enabled() -> bool:
    value = os.environ.get("CI", "").strip().lower()
    return value not in ("", "0", "false", "no")


# --------------------------------------------------------------------------------------------- REST


@dataclass(frozen=True)
class _Operation:
    template: str
    method: str
    spec: Mapping[str, Any]
    path_params: tuple[Mapping[str, Any], ...]


@functools.cache
def _load_spec() -> dict[str, Any]:
    with open(shared_data_dir() / SPEC_RELATIVE, encoding="utf-8") as fh:
        spec = json.load(fh)
    # Quirk: the spec types every error ``code`` as an integer, but inside ``errors`` real Discord
    # sends string codes ("BASE_TYPE_MAX_LENGTH"); the top-level code stays checked as an integer.
    schemas = spec["components"]["schemas"]
    schemas["InnerErrors"]["properties"]["_errors"]["items"] = {
        "type": "object",
        "properties": {"code": {"type": ["integer", "string"]}, "message": {"type": "string"}},
        "required": ["code", "message"],
    }
    # Quirk: ChannelTypes lacks GUILD_MEDIA (16), a documented channel type; discord.py lists it in
    # the channel_types of a command option annotated with a forum or media channel.
    schemas["ChannelTypes"]["oneOf"].append({"title": "GUILD_MEDIA", "const": 16})
    return spec


@functools.cache
def _spec_registry() -> Registry:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    responses = Resource.from_contents(_load_spec(), default_specification=DRAFT202012)
    requests = Resource.from_contents(_request_spec(), default_specification=DRAFT202012)
    return Registry().with_resources([(_SPEC_URI, responses), (_REQUEST_SPEC_URI, requests)])


@functools.cache
def _request_spec() -> dict[str, Any]:
    """The spec as requests are checked against it.

    The spec types snowflakes as decimal strings, but Discord accepts JSON integers in request bodies
    and discord.py sends some that way (``message_reference.channel_id``). Responses stay strict: the
    emulator must send strings, as Discord does.

    Requests are also closed: an object may carry only the keys its schema names. Real Discord ignores
    unknown keys, so a misspelt field would pass it silently and the bot would lose what it meant.
    """
    spec = copy.deepcopy(_load_spec())
    schemas = spec["components"]["schemas"]
    schemas["SnowflakeType"] = {"anyOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]}
    for schema in schemas.values():
        _close(schema)
    for path in spec["paths"].values():
        for operation in path.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                _close(operation["requestBody"])
    _allow_discord_py_keys(schemas)
    return spec


def _allow_discord_py_keys(schemas: dict[str, Any]) -> None:
    """Keys discord.py always sends that the spec leaves out, and that Discord accepts."""
    flag = {"type": ["boolean", "null"]}
    for name, schema in schemas.items():
        props = schema.get("properties", {})
        if "allowed_mentions" in props and "content" in props:
            props.setdefault("tts", flag)  # every message body, edits included, carries ``tts``
        if name.startswith("ApplicationCommand") and name.endswith("Request") and "contexts" in props:
            props.setdefault("nsfw", flag)  # app_commands sends ``nsfw`` with every command
    schemas["RichEmbed"]["properties"].setdefault("flags", {"type": "integer"})  # Embed.to_dict()
    # ForumChannel.create_thread sends the thread ``type`` (11) as for a text channel's thread.
    schemas["CreateForumThreadRequest"]["properties"].setdefault("type", {"type": ["integer", "null"]})


def _close(node: Any) -> None:
    """Forbid keys an object schema does not name (``additionalProperties: false``), recursively."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close(value)
    elif isinstance(node, list):
        for value in node:
            _close(value)


@functools.cache
def _route_table() -> list[tuple[re.Pattern[str], str, int]]:
    """Path templates as regexes, most literal segments first so ``@original`` beats ``{message_id}``."""
    table = []
    for template in _load_spec()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        literal = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
        table.append((re.compile(f"^{pattern}$"), template, literal))
    table.sort(key=lambda row: -row[2])
    return table


def match_operation(method: str, path: str) -> _Operation | None:
    """The spec operation for a concrete path (without ``/api/v10``), or None if unknown."""
    method = method.lower()
    paths = _load_spec()["paths"]
    for regex, template, _ in _route_table():
        if regex.match(path) and method in paths[template]:
            item = paths[template]
            return _Operation(template, method, item[method], tuple(item.get("parameters", ())))
    return None


def _absolutize(node: Any, base: str) -> Any:
    """Point local ``#/...`` refs at the registered spec so a sub-schema validates on its own."""
    if isinstance(node, dict):
        return {
            k: (
                base + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _absolutize(v, base)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolutize(v, base) for v in node]
    return node


_VALIDATORS: dict[str, Draft202012Validator] = {}


def _validator_for(key: str, schema: Mapping[str, Any], request: bool = False) -> Draft202012Validator:
    """A compiled validator per operation + location (the spec never changes within a process)."""
    validator = _VALIDATORS.get(key)
    if validator is None:
        from jsonschema import Draft202012Validator

        base = _REQUEST_SPEC_URI if request else _SPEC_URI
        validator = Draft202012Validator(_absolutize(schema, base), registry=_spec_registry())
        _VALIDATORS[key] = validator
    return validator


def _errors(validator: Draft202012Validator, instance: Any, where: str) -> list[str]:
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(instance))
    if error is None:
        return []
    location = "/".join(str(p) for p in error.absolute_path) or "<root>"
    return [f"{where}: at {location}: {error.message[:500]}"]


# Query parameters Discord accepts but the spec leaves out, and which discord.py sends.
_UNDOCUMENTED_QUERY = {
    ("/channels/{channel_id}/threads", "use_nested_fields"),  # forum posts: the starter is in "message"
}


def _coerce_query(value: str, schema: Mapping[str, Any]) -> Any:
    """Query strings arrive as text; coerce to the parameter's declared type before validating."""
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "boolean":
        return {"true": True, "1": True, "false": False, "0": False}.get(value.lower(), value)
    return value


def validate_request(
    method: str, path: str, query: Mapping[str, str], body: Any, content_type: str = "application/json"
) -> list[str]:
    """Problems with a request the bot sent: unknown route, bad query parameter or bad JSON body."""
    op = match_operation(method, path)
    if op is None:
        return [f"{method} {path}: no such operation in Discord's OpenAPI spec"]
    problems: list[str] = []
    declared = {p["name"]: p for p in op.spec.get("parameters", ()) if p.get("in") == "query"}
    for name, raw in query.items():
        param = declared.get(name)
        if param is None and (op.template, name) in _UNDOCUMENTED_QUERY:
            continue
        if param is None:
            problems.append(f"{method} {op.template}: unknown query parameter {name!r}")
            continue
        schema = param.get("schema", {})
        value = _coerce_query(raw, _resolve_local(schema))
        key = f"{method} {op.template} ?{name}"
        problems += _errors(_validator_for(key, schema, True), value, f"{method} {op.template} query {name}")
    body_spec = op.spec.get("requestBody")
    if body_spec is not None and body is not None:
        media = body_spec["content"].get(content_type) or body_spec["content"].get("application/json")
        if media is not None:
            key = f"{method} {op.template} request"
            problems += _errors(
                _validator_for(key, media["schema"], True), body, f"{method} {op.template} request body"
            )
    elif body_spec is not None and body_spec.get("required"):
        problems.append(f"{method} {op.template}: request body required")
    return problems


def validate_response(method: str, path: str, status: int, body: Any) -> list[str]:
    """Problems with a response the emulator is about to return (a bug in the emulator if any)."""
    op = match_operation(method, path)
    if op is None:
        return []
    responses = op.spec.get("responses", {})
    spec = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if spec is None:
        return [f"{method} {op.template}: status {status} not documented"]
    if "$ref" in spec:
        spec = _resolve_local(spec)
    content = spec.get("content", {}).get("application/json")
    if content is None:
        if body is not None:
            return [f"{method} {op.template}: status {status} documents no body"]
        return []
    key = f"{method} {op.template} response {status}"
    return _errors(_validator_for(key, content["schema"]), body, f"{method} {op.template} response {status}")


def _resolve_local(node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow one chain of local ``$ref`` pointers inside the spec."""
    spec = _load_spec()
    while "$ref" in node and isinstance(node["$ref"], str) and node["$ref"].startswith("#/"):
        target: Any = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def spec_paths() -> Iterable[str]:
    """All path templates in the spec (for diagnostics and tests)."""
    return _load_spec()["paths"].keys()


# ------------------------------------------------------------------------------------------ gateway


def _is_flags_property(name: str) -> bool:
    return name == "flags" or name.endswith("_flags")


def _relax(schema: dict[str, Any]) -> dict[str, Any]:
    """Fix the generated gateway schema where it rejects what real Discord sends.

    typescript-json-schema renders TypeScript bit-flag enums as an ``enum`` of single bits, which
    rejects 0 and any combination of flags. Every ``flags``/``*_flags`` property and every ``*Flags``
    definition becomes a plain integer.
    """
    schema = copy.deepcopy(schema)
    defs = schema["definitions"]
    for name in list(defs):
        if name.endswith("Flags"):
            defs[name] = {"type": "integer"}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                for key in props:
                    if _is_flags_property(key):
                        props[key] = {"type": "integer"}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(defs)
    return schema


@functools.cache
def _gateway_schema() -> dict[str, Any]:
    with open(shared_data_dir() / GATEWAY_RELATIVE, encoding="utf-8") as fh:
        return _relax(json.load(fh))


@functools.cache
def _gateway_validator(event: str) -> Draft7Validator | None:
    schema = _gateway_schema()
    prop = schema["properties"].get(event)
    if prop is None:
        return None
    from jsonschema import Draft7Validator

    return Draft7Validator({**prop, "definitions": schema["definitions"]})


def validate_gateway(event: str, payload: Any) -> list[str]:
    """Problems with a gateway payload; ``event`` is a dispatch name or HELLO/RESUMED (full payload)."""
    validator = _gateway_validator(event)
    if validator is None:
        return [f"gateway event {event} is not described by gateway.schema.json"]
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(payload))
    if error is None:
        return []
    location = "/".join(str(p) for p in error.absolute_path) or "<root>"
    return [f"gateway {event}: at {location}: {error.message[:500]}"]


def warm_up() -> None:
    """Load both files now (a test session calls this once so the first test is not slower)."""
    _load_spec()
    _spec_registry()
    _route_table()
    _gateway_schema()
