"""The test-facing ``Emulator``: lifecycle, world building, acting as users, reading state, waiting.

A test builds a world (guilds, users, channels), connects a real discord.py client with
``configure_discord_py()``, then acts as users (``user_says``, ``user_runs_slash``, ...) and checks
what the bot did through the recorded state (``messages``, ``pings``, ``problems``).

Discord as it really is: ``gateway_faults`` (RECONNECT, INVALID_SESSION, drops and outages with or
without replay, zombie sockets, 4014; see :mod:`emulator.gateway_faults`), ``interaction_deadline``
(3 s for the first response, see :mod:`emulator.interactions`), and private channels through
``set_channel_overwrite`` and ``member_can`` (see :mod:`emulator.permissions`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from emulator import validation
from emulator.faults import RestFaults
from emulator.gateway import Gateway
from emulator.gateway_faults import GatewayFaults
from emulator.interactions import InteractionReply, Interactions
from emulator.messages import REPLY_TYPE, apply_mentions, buttons, message_dict
from emulator.permissions import Perm
from emulator.snowflake import SnowflakeFactory, real_clock
from emulator.state import (
    FORUM,
    MEMBER_OVERWRITE,
    PUBLIC_THREAD,
    ROLE_OVERWRITE,
    TEXT,
    Channel,
    ForumTag,
    Message,
    Overwrite,
    World,
    channel_dict,
    guild_create_dict,
    member_dict,
    role_dict,
    thread_dict,
    thread_member_dict,
    user_dict,
)

log = logging.getLogger(__name__)


class ThreadArchived(PermissionError):
    """What a user meets reacting in an archived thread: Discord refuses it (50083)."""


@dataclass(frozen=True)
class Problem:
    """Something a green test must not hide: an invalid payload, unknown route, limit or permission."""

    kind: str
    detail: str


class Emulator:
    """A loopback Discord (REST + gateway) for the real discord.py client."""

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        validate: bool | None = None,
        token: str = "emulator-bot-token",
    ) -> None:
        self.clock = clock or real_clock
        self.validating = validation.resolve_validate_flag(validate)
        if self.validating:
            validation.warm_up()
        self.ids = SnowflakeFactory(self.clock)
        self.token = token
        self.application_id = self.ids.next()
        self.bot_user_id = self.ids.next()
        self.world = World(self.ids, self.bot_user_id, self.application_id)
        self.world.add_user("Unstuck", bot=True, user_id=self.bot_user_id)
        self.faults = RestFaults(self.clock)  # REST faults and Discord's real limits (emulator/faults.py)
        self.gateway = Gateway(self)
        self.gateway_faults = GatewayFaults(self.gateway)
        self.interactions = Interactions(self)
        self.problems: list[Problem] = []
        self.pings: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, Any]] = []
        self.bot_intents: int | None = None  # from the last IDENTIFY; REST reads honour MESSAGE_CONTENT
        self.last_request_at = time.monotonic()
        self._changed = asyncio.Event()
        self._dispatch_lock: asyncio.Lock | None = None
        self._pending: list[tuple[str, dict[str, Any], int | None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Serve REST and the gateway on 127.0.0.1 on a free port."""
        from emulator.server import build_app

        self._dispatch_lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._runner = web.AppRunner(build_app(self, self.gateway, self.interactions), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Close every session and the HTTP server."""
        await self.gateway.close_all(code=1000)
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """REST base, what ``discord.http.Route.BASE`` must be."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The websocket URL, what ``DiscordWebSocket.DEFAULT_GATEWAY`` must be."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    def configure_discord_py(self) -> None:
        """Point discord.py (process-wide) at this emulator."""
        import discord.gateway
        import discord.http
        import yarl

        discord.http.Route.BASE = self.base_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    async def disconnect_bot(self, code: int = 4000) -> None:
        """Drop every gateway socket from the server side; the client resumes and gets the missed
        events replayed (for the other faults see ``gateway_faults``)."""
        if self.gateway.connected:
            await self.gateway_faults.drop(replay=True, code=code)

    # ------------------------------------------------------------------ bookkeeping

    def record_problem(self, kind: str, detail: str) -> None:
        """Record a problem; e2e tests assert ``problems == []`` at the end."""
        log.warning("emulator problem [%s]: %s", kind, detail)
        self.problems.append(Problem(kind, detail))
        self.notify()

    def notify(self) -> None:
        """Wake every ``wait_for`` (state changed)."""
        self._changed.set()

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None) -> None:
        """Send a gateway event now, after any events queued by synchronous world building."""
        assert self._dispatch_lock is not None, "call await emu.start() first"
        async with self._dispatch_lock:
            await self._flush_pending()
            await self.gateway.dispatch(event, data, guild_id)
        self.notify()

    def _schedule(self, event: str, data: dict[str, Any], guild_id: int | None) -> None:
        """Queue a dispatch from synchronous code; dropped when no session listens (like Discord)."""
        if not self.gateway.listening:
            return
        self._pending.append((event, data, guild_id))
        task = asyncio.get_running_loop().create_task(self._flush_locked())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_locked(self) -> None:
        assert self._dispatch_lock is not None
        async with self._dispatch_lock:
            await self._flush_pending()

    async def _flush_pending(self) -> None:
        while self._pending:
            event, data, guild_id = self._pending.pop(0)
            await self.gateway.dispatch(event, data, guild_id)

    # ------------------------------------------------------------------ payload helpers

    def bot_user_payload(self) -> dict[str, Any]:
        """The bot's own user object (READY, /users/@me)."""
        return user_dict(self.world.users[self.bot_user_id])

    def guild_create_payload(self, guild_id: int, newly_joined: bool = False) -> dict[str, Any]:
        """GUILD_CREATE data for one guild."""
        return guild_create_dict(self.world, self.world.guilds[guild_id], newly_joined)

    def member_payload(self, guild_id: int, user_id: int) -> dict[str, Any]:
        """A member object with its user."""
        member = self.world.member(guild_id, user_id)
        assert member is not None
        return member_dict(self.world, member)

    def message_payload(self, msg: Message, gateway: bool = False) -> dict[str, Any]:
        """A message as the bot sees it (``me`` in reactions is the bot's)."""
        return message_dict(self.world, msg, gateway=gateway, viewer_id=self.bot_user_id)

    def content_visible_without_intent(self, data: dict[str, Any]) -> bool:
        """Discord shows content without MESSAGE_CONTENT for the bot's own messages and mentions of it."""
        if data.get("author", {}).get("id") == str(self.bot_user_id):
            return True
        return any(u.get("id") == str(self.bot_user_id) for u in data.get("mentions", []))

    def thread_create_payload(self, thread: Channel, newly_created: bool) -> dict[str, Any]:
        """THREAD_CREATE data; ``member`` is present when the bot is in the thread."""
        data = thread_dict(self.world, thread)
        if newly_created:
            data["newly_created"] = True
        if self.bot_user_id in thread.member_ids:
            data["member"] = thread_member_dict(self.world, thread, self.bot_user_id)
        return data

    # ------------------------------------------------------------------ world building

    def create_user(self, name: str, bot: bool = False) -> int:
        """Create a user account; returns its id."""
        return self.world.add_user(name, bot).id

    def create_guild(self, name: str, owner_id: int | None = None, guild_id: int | None = None) -> int:
        """Create a guild (the bot joins it); pass ``guild_id`` to choose its shard."""
        if owner_id is None:
            owner_id = self.create_user(f"{name.lower().replace(' ', '-')}-owner")
        guild = self.world.add_guild(name, owner_id, guild_id)
        self._schedule("GUILD_CREATE", self.guild_create_payload(guild.id, newly_joined=True), guild.id)
        return guild.id

    def create_role(self, guild_id: int, name: str, permissions: int = 0, mentionable: bool = True) -> int:
        """Create a role (mentionable by default so escalation pings work without MENTION_EVERYONE)."""
        role = self.world.add_role(guild_id, name, permissions, mentionable)
        self._schedule(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild_id), "role": role_dict(role, self.bot_user_id)},
            guild_id,
        )
        return role.id

    def add_member(self, guild_id: int, user_id: int, roles: list[int] | None = None) -> None:
        """Add a user to a guild (GUILD_MEMBER_ADD), or replace their roles (GUILD_MEMBER_UPDATE)."""
        existed = self.world.member(guild_id, user_id) is not None
        self.world.add_member(guild_id, user_id, roles or [])
        payload = {**self.member_payload(guild_id, user_id), "guild_id": str(guild_id)}
        self._schedule("GUILD_MEMBER_UPDATE" if existed else "GUILD_MEMBER_ADD", payload, guild_id)

    def remove_member(self, guild_id: int, user_id: int) -> None:
        """Remove a user from a guild (GUILD_MEMBER_REMOVE)."""
        self.world.guilds[guild_id].members.pop(user_id, None)
        payload = {"guild_id": str(guild_id), "user": user_dict(self.world.users[user_id])}
        self._schedule("GUILD_MEMBER_REMOVE", payload, guild_id)

    def create_text_channel(self, guild_id: int, name: str, topic: str | None = None) -> int:
        """Create a text channel (CHANNEL_CREATE)."""
        return self._create_channel(guild_id, name, TEXT, topic=topic)

    def create_forum_channel(self, guild_id: int, name: str, tags: list[str] | None = None) -> int:
        """Create a forum channel offering ``tags`` (CHANNEL_CREATE)."""
        forum_tags = [ForumTag(self.ids.next(), t) for t in tags or []]
        return self._create_channel(guild_id, name, FORUM, tags=forum_tags)

    def _create_channel(
        self,
        guild_id: int,
        name: str,
        kind: int,
        topic: str | None = None,
        tags: list[ForumTag] | None = None,
    ) -> int:
        position = len(self.world.guild_channels(guild_id))
        channel = Channel(
            self.ids.next(), kind, guild_id, name, position=position, topic=topic, available_tags=tags or []
        )
        self.world.add_channel(channel)
        self._schedule("CHANNEL_CREATE", channel_dict(self.world, channel), guild_id)
        return channel.id

    def set_bot_permissions(self, guild_id: int, permissions: int) -> None:
        """Change what the bot's managed role grants (GUILD_ROLE_UPDATE), to test a missing permission."""
        role = self.world.guilds[guild_id].roles[self.world.bot_role_ids[guild_id]]
        role.permissions = permissions
        payload = {"guild_id": str(guild_id), "role": role_dict(role, self.bot_user_id)}
        self._schedule("GUILD_ROLE_UPDATE", payload, guild_id)

    def bot_role(self, guild_id: int) -> int:
        """The id of the bot's managed role in a guild."""
        return self.world.bot_role_ids[guild_id]

    def set_channel_overwrite(self, channel_id: int, target_id: int, allow: int = 0, deny: int = 0) -> None:
        """Allow or deny permissions in one channel for a role or member (CHANNEL_UPDATE), as a
        moderator does for a private staff channel; ``allow == deny == 0`` removes the overwrite."""
        channel = self.channel_or_raise(channel_id)
        if channel.is_thread:
            raise ValueError("threads have no overwrites of their own: they follow their parent channel")
        kind = ROLE_OVERWRITE if target_id in self.world.guilds[channel.guild_id].roles else MEMBER_OVERWRITE
        channel.overwrites = [o for o in channel.overwrites if o.id != target_id]
        if allow or deny:
            channel.overwrites.append(Overwrite(target_id, kind, allow, deny))
        self._schedule("CHANNEL_UPDATE", channel_dict(self.world, channel), channel.guild_id)

    def forum_tag_id(self, forum_id: int, name: str) -> int:
        """The id of a forum tag by name."""
        for tag in self.world.channels[forum_id].available_tags:
            if tag.name == name:
                return tag.id
        raise KeyError(f"forum {forum_id} has no tag {name!r}")

    # ------------------------------------------------------------------ acting as users

    def _user_message(
        self,
        user_id: int,
        channel_id: int,
        content: str,
        reply_to: int | None = None,
        message_id: int | None = None,
    ) -> Message:
        channel = self.channel_or_raise(channel_id)
        msg = Message(
            message_id or self.ids.next(), channel_id, channel.guild_id, user_id, content, self.ids.now()
        )
        if reply_to is not None:
            if self.world.message(channel_id, reply_to) is None:
                raise ValueError(f"cannot reply to unknown message {reply_to} in channel {channel_id}")
            msg.type = REPLY_TYPE
            msg.message_reference = {
                "type": 0,
                "message_id": str(reply_to),
                "channel_id": str(channel_id),
                "guild_id": str(channel.guild_id),
            }
        apply_mentions(self.world, msg)
        return self.world.add_message(msg)

    def channel_or_raise(self, channel_id: int) -> Channel:
        channel = self.world.channel(channel_id)
        if channel is None:
            raise KeyError(f"unknown channel {channel_id}")
        return channel

    async def user_says(
        self, user_id: int, channel_id: int, content: str, reply_to: int | None = None
    ) -> dict[str, Any]:
        """A user posts a message (MESSAGE_CREATE). Posting in an archived thread reopens it."""
        channel = self.channel_or_raise(channel_id)
        if channel.type == FORUM:
            raise ValueError("cannot post directly in a forum channel: use user_posts_in_forum")
        if channel.is_thread and channel.archived:
            if channel.locked:
                raise PermissionError(f"thread {channel_id} is locked")
            await self._set_archived(channel, False)
        msg = self._user_message(user_id, channel_id, content, reply_to)
        await self.dispatch("MESSAGE_CREATE", self.message_payload(msg, gateway=True), channel.guild_id)
        return self.message_payload(msg)

    async def user_posts_in_forum(
        self, user_id: int, forum_id: int, title: str, content: str, tags: list[str] | None = None
    ) -> dict[str, Any]:
        """A user opens a forum post: THREAD_CREATE then MESSAGE_CREATE of the starter (same id)."""
        forum = self.channel_or_raise(forum_id)
        if forum.type != FORUM:
            raise ValueError(f"channel {forum_id} is not a forum")
        thread = self.create_thread_record(
            forum, title, user_id, [self.forum_tag_id(forum_id, t) for t in tags or []]
        )
        msg = self._user_message(user_id, thread.id, content, message_id=thread.id)
        await self.dispatch("THREAD_CREATE", self.thread_create_payload(thread, True), forum.guild_id)
        await self.dispatch("MESSAGE_CREATE", self.message_payload(msg, gateway=True), forum.guild_id)
        return thread_dict(self.world, thread)

    def create_thread_record(
        self, parent: Channel, name: str, owner_id: int, tags: list[int], thread_id: int | None = None
    ) -> Channel:
        """Store a new public thread under ``parent``."""
        thread = Channel(
            thread_id or self.ids.next(),
            PUBLIC_THREAD,
            parent.guild_id,
            name,
            parent_id=parent.id,
            owner_id=owner_id,
            applied_tags=tags,
            created_at=self.ids.now(),
            member_ids=[owner_id],
        )
        return self.world.add_channel(thread)

    async def user_edits(
        self, user_id: int, channel_id: int, message_id: int, content: str
    ) -> dict[str, Any]:
        """A user edits their message (MESSAGE_UPDATE)."""
        msg = self.message_or_raise(channel_id, message_id)
        if msg.author_id != user_id:
            raise PermissionError("users can only edit their own messages")
        msg.content = content
        msg.edited_timestamp = self.ids.now()
        apply_mentions(self.world, msg)
        guild_id = self.world.channels[channel_id].guild_id
        await self.dispatch("MESSAGE_UPDATE", self.message_payload(msg, gateway=True), guild_id)
        return self.message_payload(msg)

    async def user_deletes(self, user_id: int, channel_id: int, message_id: int) -> None:
        """A user (author or moderator) deletes a message (MESSAGE_DELETE)."""
        self.message_or_raise(channel_id, message_id)
        await self.delete_message(channel_id, message_id)

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        """Remove a message and dispatch MESSAGE_DELETE."""
        self.world.messages[channel_id].pop(message_id, None)
        guild_id = self.world.channels[channel_id].guild_id
        payload = {"id": str(message_id), "channel_id": str(channel_id), "guild_id": str(guild_id)}
        await self.dispatch("MESSAGE_DELETE", payload, guild_id)

    def message_or_raise(self, channel_id: int, message_id: int) -> Message:
        msg = self.world.message(channel_id, message_id)
        if msg is None:
            raise KeyError(f"no message {message_id} in channel {channel_id}")
        return msg

    async def user_reacts(self, user_id: int, channel_id: int, message_id: int, emoji: str) -> None:
        """A user adds a reaction (MESSAGE_REACTION_ADD); refused in an archived thread."""
        msg = self.message_or_raise(channel_id, message_id)
        self._refuse_if_archived(channel_id)
        await self.add_reaction(msg, user_id, emoji)

    async def user_unreacts(self, user_id: int, channel_id: int, message_id: int, emoji: str) -> None:
        """A user removes their reaction (MESSAGE_REACTION_REMOVE); refused in an archived thread."""
        msg = self.message_or_raise(channel_id, message_id)
        self._refuse_if_archived(channel_id)
        await self.remove_reaction(msg, user_id, emoji)

    def _refuse_if_archived(self, channel_id: int) -> None:
        """Discord answers 50083 "Thread is archived" to reaction changes there, for users and bots."""
        channel = self.channel_or_raise(channel_id)
        if channel.is_thread and channel.archived:
            raise ThreadArchived(f"thread {channel_id} is archived: reactions can't change (50083)")

    async def add_reaction(self, msg: Message, user_id: int, emoji: str) -> None:
        """Record a reaction; dispatch only if it is new (Discord ignores duplicates)."""
        users = msg.reactions.setdefault(emoji, [])
        if user_id in users:
            return
        users.append(user_id)
        payload = self._reaction_payload(msg, user_id, emoji)
        payload["message_author_id"] = str(msg.author_id)
        payload["burst_colors"] = []
        member = self.world.member(msg.guild_id, user_id) if msg.guild_id else None
        if member is not None:
            payload["member"] = member_dict(self.world, member)
        await self.dispatch("MESSAGE_REACTION_ADD", payload, msg.guild_id)

    async def remove_reaction(self, msg: Message, user_id: int, emoji: str) -> None:
        """Remove a reaction; dispatch only if it existed."""
        users = msg.reactions.get(emoji, [])
        if user_id not in users:
            return
        users.remove(user_id)
        if not users:
            del msg.reactions[emoji]
        await self.dispatch(
            "MESSAGE_REACTION_REMOVE", self._reaction_payload(msg, user_id, emoji), msg.guild_id
        )

    def _reaction_payload(self, msg: Message, user_id: int, emoji: str) -> dict[str, Any]:
        from emulator.state import emoji_dict

        payload: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": emoji_dict(emoji),
            "type": 0,
            "burst": False,
        }
        if msg.guild_id is not None:
            payload["guild_id"] = str(msg.guild_id)
        return payload

    async def delete_channel(self, channel_id: int) -> None:
        """Delete a channel or thread as a moderator would (CHANNEL_DELETE / THREAD_DELETE)."""
        channel = self.channel_or_raise(channel_id)
        await self.remove_channel(channel)

    async def remove_channel(self, channel: Channel) -> None:
        """Forget a channel and its messages and tell the bot."""
        del self.world.channels[channel.id]
        self.world.messages.pop(channel.id, None)
        if channel.is_thread:
            payload = {
                "id": str(channel.id),
                "guild_id": str(channel.guild_id),
                "parent_id": str(channel.parent_id),
                "type": channel.type,
            }
            await self.dispatch("THREAD_DELETE", payload, channel.guild_id)
        else:
            await self.dispatch("CHANNEL_DELETE", channel_dict(self.world, channel), channel.guild_id)

    async def archive_thread(self, thread_id: int, locked: bool = False) -> None:
        """Archive (and optionally lock) a thread as a moderator would (THREAD_UPDATE)."""
        thread = self.channel_or_raise(thread_id)
        thread.locked = locked or thread.locked
        await self._set_archived(thread, True)

    async def user_retags(self, user_id: int, thread_id: int, tags: list[str]) -> None:
        """The post's owner sets its forum tags, by name (THREAD_UPDATE)."""
        thread = self.channel_or_raise(thread_id)
        if thread.owner_id != user_id or thread.parent_id is None:
            raise PermissionError("only a forum post's owner retags it here")
        thread.applied_tags = [self.forum_tag_id(thread.parent_id, name) for name in tags]
        await self.dispatch("THREAD_UPDATE", thread_dict(self.world, thread), thread.guild_id)

    async def _set_archived(self, thread: Channel, archived: bool) -> None:
        thread.archived = archived
        thread.archive_timestamp = self.ids.now()
        await self.dispatch("THREAD_UPDATE", thread_dict(self.world, thread), thread.guild_id)

    # ------------------------------------------------------------------ interactions (see interactions.py)

    async def user_runs_slash(
        self,
        user_id: int,
        channel_id: int,
        command: str,
        options: dict[str, Any] | None = None,
        timeout: float = 5,
    ) -> InteractionReply:
        """A user runs ``/command sub ...`` with ``options``; returns the bot's answer."""
        return await self.interactions.run_slash(user_id, channel_id, command, options or {}, timeout)

    async def user_autocompletes(
        self,
        user_id: int,
        channel_id: int,
        command: str,
        focused: str,
        typed: str = "",
        options: dict[str, Any] | None = None,
        timeout: float = 5,
    ) -> list[dict[str, Any]]:
        """A user types ``typed`` into option ``focused`` of ``/command``: the choices the bot offers
        (``{"name", "value"}`` dicts). ``options`` are the other options filled in so far."""
        values = {**(options or {}), focused: typed}
        return await self.interactions.autocomplete(user_id, channel_id, command, values, focused, timeout)

    @property
    def interaction_deadline(self) -> float | None:
        """Seconds the bot has for its first response (Discord: 3); None switches the check off."""
        return self.interactions.deadline

    @interaction_deadline.setter
    def interaction_deadline(self, seconds: float | None) -> None:
        self.interactions.deadline = seconds

    async def user_uses_context_menu(
        self, user_id: int, channel_id: int, name: str, target_message_id: int, timeout: float = 5
    ) -> InteractionReply:
        """A user runs a message context-menu command on a message."""
        return await self.interactions.run_message_menu(user_id, channel_id, name, target_message_id, timeout)

    async def user_clicks_button(
        self, user_id: int, channel_id: int, message_id: int, custom_id: str, timeout: float = 5
    ) -> InteractionReply:
        """A user clicks a button on a message (an ephemeral one too: only its viewer sees it)."""
        msg = self.world.message(channel_id, message_id) or self.interactions.ephemeral.get(message_id)
        if msg is None:
            raise KeyError(f"no message {message_id} in channel {channel_id}")
        if not any(b.get("custom_id") == custom_id for b in buttons(msg)):
            raise ValueError(f"message {message_id} has no button with custom_id {custom_id!r}")
        return await self.interactions.click(user_id, msg, custom_id, timeout)

    # ------------------------------------------------------------------ reading state

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Live messages of a channel, oldest first (full content, as stored)."""
        return [self.message_payload(m) for m in self.world.channel_messages(channel_id)]

    def message(self, channel_id: int, message_id: int) -> dict[str, Any]:
        """One live message."""
        return self.message_payload(self.message_or_raise(channel_id, message_id))

    def channel(self, channel_id: int) -> dict[str, Any]:
        """A channel or thread object."""
        return channel_dict(self.world, self.channel_or_raise(channel_id))

    def threads(self, parent_id: int) -> list[dict[str, Any]]:
        """Threads (archived or not) whose parent is ``parent_id``, oldest first."""
        found = [c for c in self.world.channels.values() if c.is_thread and c.parent_id == parent_id]
        return [thread_dict(self.world, t) for t in sorted(found, key=lambda c: c.id)]

    def bot_messages(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot wrote (channel messages and non-ephemeral interaction responses)."""
        channel_ids = [channel_id] if channel_id is not None else list(self.world.messages)
        found = [
            m
            for cid in channel_ids
            for m in self.world.channel_messages(cid)
            if m.author_id == self.bot_user_id
        ]
        return [self.message_payload(m) for m in sorted(found, key=lambda m: m.id)]

    def reactions(self, channel_id: int, message_id: int) -> dict[str, list[int]]:
        """Emoji -> ids of the users who reacted, in order."""
        msg = self.message_or_raise(channel_id, message_id)
        return {emoji: list(users) for emoji, users in msg.reactions.items() if users}

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` holds; re-checked on every state change and every 20 ms."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"timed out waiting for {what}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.02))

    async def wait_for_bot_message(
        self, channel_id: int, contains: str | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait for a bot message in ``channel_id`` (containing ``contains`` in content or embeds)."""
        from emulator.interactions import flatten_text

        def find() -> dict[str, Any] | None:
            for msg in self.bot_messages(channel_id):
                if contains is None or contains in flatten_text(msg["content"], msg["embeds"]):
                    return msg
            return None

        what = f"a bot message in {channel_id}" + (f" containing {contains!r}" if contains else "")
        await self.wait_for(lambda: find() is not None, timeout, what)
        found = find()
        assert found is not None
        return found

    async def settle(self, quiet: float = 0.05, timeout: float = 5.0) -> None:
        """Wait until the bot has sent no REST request for ``quiet`` seconds.

        Quiet proves nothing: a bot that is slow to decide is quiet too. Wait for an outcome
        instead (``wait_for``, ``wait_for_bot_message``, or the e2e harness's ``handled``).
        """
        deadline = time.monotonic() + timeout
        while True:
            idle = time.monotonic() - self.last_request_at
            if idle >= quiet:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"timed out waiting for the bot to settle (quiet {quiet}s)")
            await asyncio.sleep(quiet - idle + 0.001)

    # ------------------------------------------------------------------ odd events

    async def redeliver_last(self, event_name: str) -> None:
        """Send the last dispatch of ``event_name`` again (an event delivered twice)."""
        if event_name not in self.gateway.last_dispatch:
            raise KeyError(f"no {event_name} was dispatched yet")
        data, guild_id = self.gateway.last_dispatch[event_name]
        await self.dispatch(event_name, data, guild_id)

    async def dispatch_raw(self, event_name: str, payload: dict[str, Any], guild_id: int | None) -> None:
        """Send an arbitrary event (validated like every other dispatch)."""
        await self.dispatch(event_name, payload, guild_id)

    # ------------------------------------------------------------------ used by the REST layer

    def bot_can(self, guild_id: int, perm: Perm, channel_id: int | None = None) -> bool:
        """Whether the bot holds ``perm`` in the guild, or in one channel when ``channel_id`` is given."""
        return self.member_can(guild_id, self.bot_user_id, perm, channel_id)

    def member_can(self, guild_id: int, user_id: int, perm: int, channel_id: int | None = None) -> bool:
        """Whether a member holds every bit of ``perm`` in the guild, or in one channel (or thread)
        when ``channel_id`` is given: computed like Discord (see :mod:`emulator.permissions`)."""
        if channel_id is not None and channel_id in self.world.channels:
            return self.world.has_in(channel_id, user_id, perm)
        return self.world.has(guild_id, user_id, perm)

    async def edit_bot_message(self, msg: Message, body: dict[str, Any], files: list[dict[str, Any]]) -> None:
        """Apply an edit by the bot (channel edit, @original edit, UPDATE_MESSAGE)."""
        from emulator.server import apply_bot_edit

        await apply_bot_edit(self, msg, body, files)

    def new_token(self) -> str:
        """An interaction token."""
        return secrets.token_urlsafe(24)

    # ------------------------------------------------------------------ moderators and reactions

    async def moderator_clears_reactions(
        self, channel_id: int, message_id: int, emoji: str | None = None
    ) -> None:
        """A moderator (Manage Messages) removes every reaction of a message, or every one of ``emoji``:
        Discord sends one MESSAGE_REACTION_REMOVE_ALL (or _REMOVE_EMOJI), no per-user removals."""
        from emulator.state import emoji_dict

        msg = self.message_or_raise(channel_id, message_id)
        self._refuse_if_archived(channel_id)
        payload: dict[str, Any] = {"channel_id": str(channel_id), "message_id": str(message_id)}
        if msg.guild_id is not None:
            payload["guild_id"] = str(msg.guild_id)
        if emoji is None:
            msg.reactions.clear()
            await self.dispatch("MESSAGE_REACTION_REMOVE_ALL", payload, msg.guild_id)
        elif msg.reactions.pop(emoji, None) is not None:
            await self.dispatch(
                "MESSAGE_REACTION_REMOVE_EMOJI", {**payload, "emoji": emoji_dict(emoji)}, msg.guild_id
            )

    async def moderator_bulk_deletes(self, channel_id: int, message_ids: list[int]) -> None:
        """A moderator purges messages at once: one MESSAGE_DELETE_BULK, no MESSAGE_DELETE each."""
        for message_id in message_ids:
            self.message_or_raise(channel_id, message_id)
            self.world.messages[channel_id].pop(message_id)
        guild_id = self.world.channels[channel_id].guild_id
        payload = {
            "ids": [str(i) for i in message_ids],
            "channel_id": str(channel_id),
            "guild_id": str(guild_id),
        }
        await self.dispatch("MESSAGE_DELETE_BULK", payload, guild_id)
