"""Building the ``data`` of a command interaction from the command the bot synced.

Options are checked the way Discord's client checks them before sending (known names, required
ones, choices) and typed: snowflakes resolved into ``resolved``; during autocomplete the focused
option, and numbers, carry what the user has typed so far as a string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.state import Channel, World, channel_dict, member_dict, role_dict, user_dict

CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10


class CommandOptions:
    """Turns ``"group sub"`` plus ``{option: value}`` into a command interaction's ``data``."""

    def __init__(
        self, world: World, bot_user_id: int, find: Callable[[int, str, int], dict[str, Any]]
    ) -> None:
        self.world = world
        self.bot_user_id = bot_user_id
        self.find = find  # (guild id, name, command type) -> the synced command

    def data(
        self, channel: Channel, command: str, options: dict[str, Any], focused: str | None
    ) -> dict[str, Any]:
        root, *path = command.split()
        cmd = self.find(channel.guild_id, root, CHAT_INPUT)
        resolved: dict[str, dict[str, Any]] = {}
        data: dict[str, Any] = {"id": cmd["id"], "name": root, "type": CHAT_INPUT}
        data["options"] = self._nest(cmd, path, options, channel, resolved, focused)
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return data

    def _nest(
        self,
        cmd: dict[str, Any],
        path: list[str],
        options: dict[str, Any],
        channel: Channel,
        resolved: dict[str, dict[str, Any]],
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        """Options nested under SUB_COMMAND_GROUP/SUB_COMMAND as the path says, with typed values."""
        specs = cmd.get("options") or []
        if not path:
            if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in specs):
                names = [o["name"] for o in specs]
                raise LookupError(f"/{cmd['name']} needs a subcommand, one of {names}")
            return self._values(cmd["name"], specs, options, channel, resolved, focused)
        head, *rest = path
        for spec in specs:
            if spec["name"] == head and spec["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
                return [
                    {
                        "type": spec["type"],
                        "name": head,
                        "options": self._nest(spec, rest, options, channel, resolved, focused),
                    }
                ]
        raise LookupError(f"{cmd['name']!r} has no subcommand {head!r}; it has {[o['name'] for o in specs]}")

    def _values(
        self,
        name: str,
        specs: list[dict[str, Any]],
        options: dict[str, Any],
        channel: Channel,
        resolved: dict[str, dict[str, Any]],
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        by_name = {s["name"]: s for s in specs}
        unknown = set(options) - set(by_name)
        if unknown:
            raise LookupError(f"{name!r} has no option(s) {sorted(unknown)}; it has {sorted(by_name)}")
        missing = [s["name"] for s in specs if s.get("required") and s["name"] not in options]
        if missing and focused is None:  # while typing, required options may still be empty
            raise LookupError(f"{name!r} requires option(s) {missing}")
        out = []
        for key, value in options.items():
            spec = by_name[key]
            if key == focused:
                if not spec.get("autocomplete"):
                    raise LookupError(f"option {key!r} of {name!r} has no autocomplete")
                # What the user has typed so far: always a string, whatever the option's type.
                out.append({"name": key, "type": spec["type"], "value": str(value), "focused": True})
                continue
            if focused is not None and spec["type"] in (INTEGER, NUMBER):
                # Autocomplete carries numbers as typed, as strings (the schema says so too).
                out.append({"name": key, "type": spec["type"], "value": str(value)})
                continue
            choices = [c["value"] for c in spec.get("choices") or []]
            if choices and value not in choices:
                raise ValueError(f"option {key!r} must be one of {choices}, not {value!r}")
            out.append(
                {
                    "name": key,
                    "type": spec["type"],
                    "value": self._typed(spec["type"], value, channel, resolved),
                }
            )
        return out

    def _typed(self, kind: int, value: Any, channel: Channel, resolved: dict[str, dict[str, Any]]) -> Any:
        world = self.world
        if kind == STRING:
            return str(value)
        if kind == INTEGER:
            return int(value)
        if kind == NUMBER:
            return float(value)
        if kind == BOOLEAN:
            return bool(value)
        snowflake = int(value)
        if kind in (USER, MENTIONABLE) and snowflake in world.users:
            resolved.setdefault("users", {})[str(snowflake)] = user_dict(world.users[snowflake])
            member = world.member(channel.guild_id, snowflake)
            if member is not None:
                data = member_dict(world, member, with_user=False)
                data["permissions"] = str(world.permissions(channel.guild_id, snowflake))
                resolved.setdefault("members", {})[str(snowflake)] = data
            return str(snowflake)
        guild = world.guilds[channel.guild_id]
        if kind in (ROLE, MENTIONABLE) and snowflake in guild.roles:
            resolved.setdefault("roles", {})[str(snowflake)] = role_dict(guild.roles[snowflake])
            return str(snowflake)
        if kind == CHANNEL and snowflake in world.channels:
            target = world.channels[snowflake]
            data = {
                k: v
                for k, v in channel_dict(world, target).items()
                if k in ("id", "name", "type", "parent_id", "thread_metadata", "guild_id")
            }
            data["permissions"] = str(world.permissions(channel.guild_id, self.bot_user_id))
            resolved.setdefault("channels", {})[str(snowflake)] = data
            return str(snowflake)
        raise LookupError(f"option value {value!r} names no known user, channel or role (option type {kind})")
