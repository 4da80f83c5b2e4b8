"""Plumbing shared by every REST handler: the parsed call, Discord-style errors, bot message building.

Kept apart from the route handlers so interaction responses and channel messages create messages
through exactly the same checks (limits, allowed mentions, pings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.limits import check_message
from emulator.mentions import attempts_everyone, compute_pings
from emulator.messages import REPLY_TYPE, apply_mentions, normalise_components, normalise_embeds
from emulator.permissions import Perm
from emulator.state import Channel, Message

if TYPE_CHECKING:
    from emulator.driver import Emulator


@dataclass
class Call:
    """One REST request from the bot, parsed."""

    method: str
    path: str  # without the /api/v10 prefix
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[dict[str, Any]] = field(default_factory=list)

    def int_param(self, name: str) -> int:
        """A snowflake path parameter."""
        return int(self.params[name])


class DiscordError(Exception):
    """An error answer in Discord's shape; ``problem`` says whether the test harness records it."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None, problem: bool = True
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors, self.problem = (
            status,
            code,
            message,
            errors,
            problem,
        )

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def not_found(what: str, code: int) -> DiscordError:
    """A 404 for a missing resource: normal Discord behaviour, not recorded as a problem."""
    return DiscordError(404, code, f"Unknown {what}", problem=False)


def invalid_form(errors: dict[str, Any]) -> DiscordError:
    """400 / 50035, what Discord answers when a limit is exceeded."""
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def missing_permissions(emu: Emulator, channel: Channel, perm: Perm, action: str) -> None:
    """Raise 403 / 50013 unless the bot holds ``perm`` in ``channel`` (its overwrites included)."""
    if not emu.bot_can(channel.guild_id, perm, channel.id):
        raise DiscordError(403, 50013, f"Missing Permissions ({perm.name} needed to {action})")


def get_channel(emu: Emulator, channel_id: int) -> Channel:
    """A channel or 404 Unknown Channel."""
    channel = emu.world.channel(channel_id)
    if channel is None:
        raise not_found("Channel", 10003)
    return channel


def get_message(emu: Emulator, channel_id: int, message_id: int) -> Message:
    """A live message or 404 Unknown Message."""
    msg = emu.world.message(channel_id, message_id)
    if msg is None:
        raise not_found("Message", 10008)
    return msg


def check_limits(body: dict[str, Any], require_body: bool = True) -> None:
    """Raise 400 / 50035 if a message body breaks Discord's limits."""
    errors = check_message(body, require_body=require_body)
    if errors:
        raise invalid_form(errors)


def fill_message(emu: Emulator, msg: Message, body: dict[str, Any], files: list[dict[str, Any]]) -> None:
    """Apply content/embeds/components/flags/attachments of a create or edit body to ``msg``."""
    if "content" in body:
        msg.content = body["content"] or ""
    if "embeds" in body:
        msg.embeds = normalise_embeds(body["embeds"] or [])
    if "components" in body:
        msg.components = normalise_components(body["components"] or [])
    if body.get("flags") is not None:
        # Only SUPPRESS_EMBEDS (4), EPHEMERAL (64) and SUPPRESS_NOTIFICATIONS (4096) may be set by senders.
        msg.flags = (msg.flags & ~(4 | 4096)) | (int(body["flags"]) & (4 | 64 | 4096))
    if files or "attachments" in body:
        msg.attachments = _attachments(emu, body.get("attachments") or [], files, msg.attachments)
    apply_mentions(emu.world, msg)


def _attachments(
    emu: Emulator, declared: list[dict[str, Any]], files: list[dict[str, Any]], existing: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Attachments kept (by id) plus the uploaded files."""
    keep_ids = {str(a.get("id")) for a in declared}
    kept = [a for a in existing if a["id"] in keep_ids]
    for upload in files:
        aid = str(emu.ids.next())
        url = f"{emu.base_url}/attachments/{aid}/{upload['filename']}"
        kept.append(
            {
                "id": aid,
                "filename": upload["filename"],
                "size": len(upload["data"]),
                "url": url,
                "proxy_url": url,
                "content_type": upload.get("content_type") or "application/octet-stream",
            }
        )
    return kept


def ensure_not_empty(msg: Message) -> None:
    """After an edit, a message must still have content, embeds, components or files."""
    if not (msg.content or msg.embeds or msg.components or msg.attachments):
        raise DiscordError(400, 50006, "Cannot send an empty message")


def new_bot_message(
    emu: Emulator,
    channel: Channel,
    body: dict[str, Any],
    files: list[dict[str, Any]],
    require_body: bool = True,
    **extra: Any,
) -> Message:
    """Build (not store) a message the bot sends into ``channel``; checks limits and its reference."""
    check_limits({**body, "_files": files}, require_body=require_body)
    msg = Message(
        extra.pop("message_id", None) or emu.ids.next(),
        channel.id,
        channel.guild_id,
        emu.bot_user_id,
        "",
        emu.ids.now(),
        nonce=body.get("nonce"),
        **extra,
    )
    reference = body.get("message_reference")
    if reference:
        _attach_reference(emu, channel, msg, reference)
    fill_message(emu, msg, body, files)
    return msg


def _attach_reference(emu: Emulator, channel: Channel, msg: Message, reference: dict[str, Any]) -> None:
    ref_channel = int(reference.get("channel_id") or channel.id)
    ref_id = int(reference["message_id"])
    if emu.world.message(ref_channel, ref_id) is None:
        if reference.get("fail_if_not_exists", True):
            raise invalid_form(
                {
                    "message_reference": {
                        "_errors": [
                            {"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}
                        ]
                    }
                }
            )
        return
    msg.type = REPLY_TYPE
    msg.message_reference = {
        "type": 0,
        "message_id": str(ref_id),
        "channel_id": str(ref_channel),
        "guild_id": str(channel.guild_id),
    }


def record_pings(emu: Emulator, msg: Message, body: dict[str, Any]) -> None:
    """Record who ``msg`` notifies under ``allowed_mentions``; an @everyone ping is also a problem."""
    if "content" not in body and "allowed_mentions" not in body:
        return
    allowed = body.get("allowed_mentions")
    replied_user = None
    if msg.type == REPLY_TYPE and msg.message_reference:
        ref = emu.world.message(
            int(msg.message_reference["channel_id"]), int(msg.message_reference["message_id"])
        )
        replied_user = ref.author_id if ref and ref.author_id != emu.bot_user_id else None
    guild = emu.world.guilds.get(msg.guild_id) if msg.guild_id else None
    mentionable = {r.id for r in guild.roles.values() if r.mentionable} if guild else set()
    can_everyone = bool(guild) and emu.bot_can(msg.guild_id or 0, Perm.MENTION_EVERYONE, msg.channel_id)
    pings = compute_pings(msg.content, allowed, replied_user, can_everyone, mentionable)
    emu.pings.append(
        {
            "message_id": msg.id,
            "channel_id": msg.channel_id,
            "users": pings.users,
            "roles": pings.roles,
            "everyone": pings.everyone,
        }
    )
    if attempts_everyone(msg.content, allowed):
        emu.record_problem(
            "everyone-ping", f"bot message {msg.id} in {msg.channel_id} tries to ping @everyone/@here"
        )
