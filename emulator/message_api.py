"""REST routes for messages, pins and reactions in a channel or thread."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from emulator.gateway import MESSAGE_CONTENT
from emulator.messages import message_dict
from emulator.permissions import Perm
from emulator.rest import (
    Call,
    DiscordError,
    check_limits,
    get_channel,
    get_message,
    missing_permissions,
    new_bot_message,
    record_pings,
)
from emulator.snowflake import iso, snowflake_time
from emulator.state import FORUM, Channel, Message, thread_dict, user_dict

if TYPE_CHECKING:
    from emulator.hub import Hub

# How long Discord remembers a message nonce for ``enforce_nonce`` ("the past few minutes").
NONCE_WINDOW = timedelta(minutes=5)


class MessageApi:
    """Send, read, edit, delete, pin and react to messages."""

    def __init__(self, emu: Hub) -> None:
        self.emu = emu
        self.world = emu.world
        self._pinned_at: dict[int, datetime] = {}  # message id -> when the bot pinned it

    def routes(self) -> list[tuple[str, str, Any]]:
        """(method, path, handler) for every route this class serves."""
        return [
            ("GET", "/channels/{channel_id}/messages", self.get_messages),
            ("POST", "/channels/{channel_id}/messages", self.create_message),
            ("GET", "/channels/{channel_id}/messages/pins", self.get_pins),
            ("PUT", "/channels/{channel_id}/messages/pins/{message_id}", self.pin),
            ("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", self.unpin),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_one_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}", self.get_reactions),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.add_reaction),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.remove_own),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}",
                self.remove_other,
            ),
        ]

    # ------------------------------------------------------------------ messages

    def _visible(self, msg: Message) -> dict[str, Any]:
        """A message as REST returns it, honouring the bot's MESSAGE_CONTENT intent."""
        data = message_dict(self.world, msg, gateway=False, viewer_id=self.emu.bot_user_id)
        intents = self.emu.bot_intents
        if (
            intents is not None
            and not intents & MESSAGE_CONTENT
            and not self.emu.content_visible_without_intent(data)
        ):
            data.update(content="", embeds=[], attachments=[], components=[])
        return data

    async def get_messages(self, call: Call) -> tuple[int, Any]:
        channel = get_channel(self.emu, call.int_param("channel_id"))
        missing_permissions(self.emu, channel, Perm.READ_MESSAGE_HISTORY, "read history")
        msgs = self.world.channel_messages(channel.id)
        limit = int(call.query.get("limit", 50))
        if "after" in call.query:
            after = int(call.query["after"])
            picked = [m for m in msgs if m.id > after][:limit]
        elif "around" in call.query:
            around = int(call.query["around"])
            older = [m for m in msgs if m.id < around][-(limit // 2) :] if limit > 1 else []
            newer = [m for m in msgs if m.id >= around][: limit - len(older)]
            picked = older + newer
        else:
            before = int(call.query.get("before", 0)) or None
            picked = [m for m in msgs if before is None or m.id < before][-limit:]
        return 200, [self._visible(m) for m in reversed(picked)]

    async def get_pins(self, call: Call) -> tuple[int, Any]:
        """Pinned messages, newest first, in the ``{"items", "has_more"}`` shape of the current API."""
        channel = get_channel(self.emu, call.int_param("channel_id"))
        missing_permissions(self.emu, channel, Perm.READ_MESSAGE_HISTORY, "read pins")
        pinned = [m for m in self.world.channel_messages(channel.id) if m.pinned]
        pinned.sort(key=lambda m: self._pinned_at.get(m.id, m.timestamp), reverse=True)
        before = call.query.get("before")
        if before:
            cutoff = datetime.fromisoformat(before)
            pinned = [m for m in pinned if self._pinned_at.get(m.id, m.timestamp) < cutoff]
        limit = int(call.query.get("limit", 50))
        items = [
            {"pinned_at": iso(self._pinned_at.get(m.id, m.timestamp)), "message": self._visible(m)}
            for m in pinned
        ]
        return 200, {"items": items[:limit], "has_more": len(items) > limit}

    async def pin(self, call: Call) -> tuple[int, Any]:
        self._set_pinned(call, True)
        return 204, None

    async def unpin(self, call: Call) -> tuple[int, Any]:
        self._set_pinned(call, False)
        return 204, None

    def _set_pinned(self, call: Call, pinned: bool) -> None:
        # Discord also sends CHANNEL_PINS_UPDATE, which the gateway schema does not describe; the bot
        # does not listen for it, so it is left out rather than sent unchecked.
        channel = get_channel(self.emu, call.int_param("channel_id"))
        msg = get_message(self.emu, channel.id, call.int_param("message_id"))
        missing_permissions(self.emu, channel, Perm.MANAGE_MESSAGES, "pin a message")
        msg.pinned = pinned
        self._pinned_at[msg.id] = self.emu.ids.now()

    async def get_one_message(self, call: Call) -> tuple[int, Any]:
        msg = get_message(self.emu, call.int_param("channel_id"), call.int_param("message_id"))
        return 200, self._visible(msg)

    async def create_message(self, call: Call) -> tuple[int, Any]:
        channel = get_channel(self.emu, call.int_param("channel_id"))
        if channel.type == FORUM:
            raise DiscordError(400, 50008, "Cannot send messages in a non-text channel")
        if channel.is_thread:
            missing_permissions(self.emu, channel, Perm.SEND_MESSAGES_IN_THREADS, "send in a thread")
            await self._reopen_for_message(channel)
        else:
            missing_permissions(self.emu, channel, Perm.SEND_MESSAGES, "send a message")
        body = call.body or {}
        earlier = self._same_nonce(channel.id, body)
        if earlier is not None:
            return 200, self.emu.message_payload(earlier)
        msg = new_bot_message(self.emu, channel, body, call.files)
        self.world.add_message(msg)
        record_pings(self.emu, msg, body)
        await self.emu.dispatch(
            "MESSAGE_CREATE", self.emu.message_payload(msg, gateway=True), channel.guild_id
        )
        return 200, self.emu.message_payload(msg)

    def _same_nonce(self, channel_id: int, body: dict[str, Any]) -> Message | None:
        """``enforce_nonce``: a message the bot sent with the same nonce in the last few minutes is
        returned instead of creating a second one (Discord's idempotency for retried sends)."""
        nonce = body.get("nonce")
        if not body.get("enforce_nonce") or nonce is None:
            return None
        since = self.emu.ids.now() - NONCE_WINDOW
        for msg in reversed(self.world.channel_messages(channel_id)):
            if snowflake_time(msg.id) < since:
                break
            if msg.author_id == self.emu.bot_user_id and str(msg.nonce) == str(nonce):
                return msg
        return None

    async def _reopen_for_message(self, thread: Channel) -> None:
        """Sending to an archived thread unarchives it; a locked one needs MANAGE_THREADS."""
        if not thread.archived:
            return
        if thread.locked:
            missing_permissions(self.emu, thread, Perm.MANAGE_THREADS, "post in a locked thread")
        thread.archived = False
        thread.archive_timestamp = self.emu.ids.now()
        await self.emu.dispatch("THREAD_UPDATE", thread_dict(self.world, thread), thread.guild_id)

    async def edit_message(self, call: Call) -> tuple[int, Any]:
        channel = get_channel(self.emu, call.int_param("channel_id"))
        msg = get_message(self.emu, channel.id, call.int_param("message_id"))
        body = call.body or {}
        if msg.author_id != self.emu.bot_user_id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        check_limits(body, require_body=False)
        await self.emu.edit_bot_message(msg, body, call.files)
        return 200, self.emu.message_payload(msg)

    async def delete_message(self, call: Call) -> tuple[int, Any]:
        channel = get_channel(self.emu, call.int_param("channel_id"))
        msg = get_message(self.emu, channel.id, call.int_param("message_id"))
        if msg.author_id != self.emu.bot_user_id:
            missing_permissions(self.emu, channel, Perm.MANAGE_MESSAGES, "delete another user's message")
        await self.emu.delete_message(channel.id, msg.id)
        return 204, None

    # ------------------------------------------------------------------ reactions

    def _reaction_target(self, call: Call) -> tuple[Channel, Message, str]:
        channel = get_channel(self.emu, call.int_param("channel_id"))
        msg = get_message(self.emu, channel.id, call.int_param("message_id"))
        return channel, msg, call.params["emoji"]

    async def get_reactions(self, call: Call) -> tuple[int, Any]:
        _, msg, emoji = self._reaction_target(call)
        after = int(call.query.get("after", 0))
        limit = int(call.query.get("limit", 25))
        users = sorted(u for u in msg.reactions.get(emoji, []) if u > after)[
            :limit
        ]  # Discord pages by user id
        return 200, [user_dict(self.world.users[u]) for u in users]

    async def add_reaction(self, call: Call) -> tuple[int, Any]:
        channel, msg, emoji = self._reaction_target(call)
        refuse_if_archived(channel)
        missing_permissions(self.emu, channel, Perm.READ_MESSAGE_HISTORY, "react")
        if emoji not in msg.reactions:
            missing_permissions(self.emu, channel, Perm.ADD_REACTIONS, "add a new reaction")
        await self.emu.add_reaction(msg, self.emu.bot_user_id, emoji)
        return 204, None

    async def remove_own(self, call: Call) -> tuple[int, Any]:
        channel, msg, emoji = self._reaction_target(call)
        refuse_if_archived(channel)
        await self.emu.remove_reaction(msg, self.emu.bot_user_id, emoji)
        return 204, None

    async def remove_other(self, call: Call) -> tuple[int, Any]:
        channel, msg, emoji = self._reaction_target(call)
        refuse_if_archived(channel)
        user_id = call.int_param("user_id")
        if user_id != self.emu.bot_user_id:
            missing_permissions(self.emu, channel, Perm.MANAGE_MESSAGES, "remove another user's reaction")
        await self.emu.remove_reaction(msg, user_id, emoji)
        return 204, None


def refuse_if_archived(channel: Channel) -> None:
    """Reactions in an archived thread can't change until something reopens it; Discord refuses the
    call (50083), so a bot that tries (for example in a thread it just archived) has a bug: recorded."""
    if channel.is_thread and channel.archived:
        raise DiscordError(400, 50083, "Thread is archived")
