"""Rendering stored messages as Discord message objects, and normalising what the bot sends."""

from __future__ import annotations

from typing import Any

from emulator.mentions import parse_content
from emulator.snowflake import iso
from emulator.state import Message, World, member_dict, reactions_list, thread_dict, user_dict

EPHEMERAL, LOADING = 1 << 6, 1 << 7
REPLY_TYPE = 19


def message_dict(
    world: World, msg: Message, *, gateway: bool, viewer_id: int, with_reference: bool = True
) -> dict[str, Any]:
    """A message as REST (``gateway=False``) or MESSAGE_CREATE/UPDATE (``gateway=True``) sends it."""
    data: dict[str, Any] = {
        "id": str(msg.id),
        "channel_id": str(msg.channel_id),
        "type": msg.type,
        "author": user_dict(world.users[msg.author_id]),
        "content": msg.content,
        "timestamp": iso(msg.timestamp),
        "edited_timestamp": iso(msg.edited_timestamp) if msg.edited_timestamp else None,
        "tts": False,
        "mention_everyone": msg.mention_everyone,
        "mentions": [
            _mentioned_user(world, msg, uid, gateway) for uid in msg.mention_ids if uid in world.users
        ],
        "mention_roles": [str(r) for r in msg.mention_roles],
        "attachments": msg.attachments,
        "embeds": msg.embeds,
        "components": msg.components,
        "pinned": msg.pinned,
        "flags": msg.flags,
    }
    if msg.reactions:
        data["reactions"] = reactions_list(msg, viewer_id)
    _add_optional(world, msg, data, viewer_id, with_reference)
    if gateway and msg.guild_id is not None:
        data["guild_id"] = str(msg.guild_id)
        member = world.member(msg.guild_id, msg.author_id)
        if member is not None and msg.webhook_id is None:
            data["member"] = member_dict(world, member, with_user=False)
    return data


def _mentioned_user(world: World, msg: Message, user_id: int, gateway: bool) -> dict[str, Any]:
    user = user_dict(world.users[user_id])
    member = world.member(msg.guild_id, user_id) if (gateway and msg.guild_id) else None
    if member is not None:
        user["member"] = member_dict(world, member, with_user=False)
    return user


def _add_optional(world: World, msg: Message, data: dict[str, Any], viewer_id: int, with_ref: bool) -> None:
    if msg.message_reference is not None:
        data["message_reference"] = msg.message_reference
        if with_ref and msg.type == REPLY_TYPE:
            ref = world.message(
                int(msg.message_reference["channel_id"]), int(msg.message_reference["message_id"])
            )
            data["referenced_message"] = (
                message_dict(world, ref, gateway=False, viewer_id=viewer_id, with_reference=False)
                if ref
                else None
            )
    if msg.thread_id is not None and msg.thread_id in world.channels:
        data["thread"] = thread_dict(world, world.channels[msg.thread_id])
    if msg.webhook_id is not None:
        data["webhook_id"] = str(msg.webhook_id)
    if msg.application_id is not None:
        data["application_id"] = str(msg.application_id)
    if msg.interaction_metadata is not None:
        data["interaction_metadata"] = msg.interaction_metadata
    if msg.position is not None:
        data["position"] = msg.position
    if msg.nonce is not None:
        data["nonce"] = msg.nonce


def apply_mentions(world: World, msg: Message) -> None:
    """Fill ``mentions``/``mention_roles``/``mention_everyone`` from the content, as Discord does."""
    found = parse_content(msg.content)
    msg.mention_ids = [u for u in found.users if u in world.users]
    guild = world.guilds.get(msg.guild_id) if msg.guild_id else None
    msg.mention_roles = [r for r in found.roles if guild and r in guild.roles]
    msg.mention_everyone = found.everyone


def normalise_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Embeds as Discord echoes them: ``type: rich`` and ``inline`` on every field."""
    out = []
    for embed in embeds:
        embed = {**embed, "type": embed.get("type", "rich")}
        if "fields" in embed:
            embed["fields"] = [{**f, "inline": bool(f.get("inline", False))} for f in embed["fields"]]
        out.append(embed)
    return out


def normalise_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Components as Discord echoes them: every component gets a numeric ``id`` in tree order."""
    counter = 0

    def number(node: dict[str, Any]) -> dict[str, Any]:
        nonlocal counter
        counter += 1
        node = {**node, "id": node.get("id") or counter}
        emoji = node.get("emoji")
        if isinstance(emoji, dict) and emoji.get("id") is None:
            # discord.py sends ``"id": null`` for a unicode emoji; Discord's echo has no such key.
            node["emoji"] = {k: v for k, v in emoji.items() if k != "id"}
        if "components" in node:
            node["components"] = [number(child) for child in node["components"]]
        return node

    return [number(row) for row in components]


def buttons(msg: Message) -> list[dict[str, Any]]:
    """Every button on a message (flattened from action rows)."""
    found = []
    for row in msg.components:
        for child in row.get("components", []):
            if child.get("type") == 2:
                found.append(child)
    return found
