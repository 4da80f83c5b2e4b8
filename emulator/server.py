"""The REST API under /api/v10: routing, and the user, guild, channel and thread handlers.

Every request goes through ``emulator.middleware`` (logging, injected faults, validation against the
OpenAPI spec, errors); messages, pins and reactions are served by ``emulator.message_api``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from emulator.gateway import Gateway
from emulator.interactions import InteractionApi, Interactions
from emulator.limits import check_forum_tags, check_name
from emulator.message_api import MessageApi
from emulator.middleware import CALL_KEY, PREFIX, json_response, middleware
from emulator.permissions import Perm
from emulator.rest import (
    Call,
    DiscordError,
    ensure_not_empty,
    fill_message,
    get_channel,
    get_message,
    invalid_form,
    missing_permissions,
    new_bot_message,
    not_found,
    record_pings,
)
from emulator.shapes import check_channel_patch, check_thread_create
from emulator.state import (
    FORUM,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    TEXT,
    Channel,
    ForumTag,
    Message,
    channel_dict,
    guild_dict,
    role_dict,
    thread_dict,
    thread_member_dict,
    user_dict,
)

if TYPE_CHECKING:
    from emulator.hub import Hub

Handler = Callable[[Call], Awaitable[tuple[int, Any]]]


def build_app(emu: Hub, gateway: Gateway, interactions: Interactions) -> web.Application:
    """The aiohttp application: the gateway websocket plus every REST route."""
    app = web.Application(middlewares=[middleware(emu)], client_max_size=32 * 1024 * 1024)
    app.router.add_get("/gateway", gateway.handle)
    for method, path, handler in [*ChannelApi(emu).routes(), *MessageApi(emu).routes()]:
        app.router.add_route(method, PREFIX + _digits_only(path), _adapt(handler))
    # Webhook message ids may be ``@original``, so these parameters stay open.
    for method, path, handler in InteractionApi(emu, interactions).routes():
        app.router.add_route(method, PREFIX + path, _adapt(handler))

    async def release_hangs(_: web.Application) -> None:
        emu.faults.release()  # a hanging request must not hold up the server's shutdown

    app.on_shutdown.append(release_hangs)
    return app


def _digits_only(path: str) -> str:
    """Snowflake parameters match digits only, so ``/messages/pins`` never reaches ``{message_id}``."""
    return re.sub(r"\{(\w+_id)\}", r"{\1:\\d+}", path)


def _adapt(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        call: Call = request[CALL_KEY]
        call.params = dict(request.match_info)
        status, body = await handler(call)
        return json_response(status, body)

    return wrapped


class ChannelApi:
    """Users, guilds, channels and threads (messages, pins and reactions: ``emulator.message_api``)."""

    def __init__(self, emu: Hub) -> None:
        self.emu = emu
        self.world = emu.world

    def routes(self) -> list[tuple[str, str, Handler]]:
        """(method, path, handler) for every route this class serves."""
        return [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self.get_roles),
            ("GET", "/guilds/{guild_id}/members", self.get_members),
            ("GET", "/guilds/{guild_id}/members/search", self.search_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
            ("GET", "/guilds/{guild_id}/threads/active", self.get_active_threads),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("PATCH", "/channels/{channel_id}", self.patch_channel),
            ("DELETE", "/channels/{channel_id}", self.delete_channel),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("GET", "/channels/{channel_id}/threads/archived/public", self.get_archived_threads),
            ("POST", "/channels/{channel_id}/threads", self.create_thread),
            ("PUT", "/channels/{channel_id}/thread-members/@me", self.join_thread),
            ("DELETE", "/channels/{channel_id}/thread-members/@me", self.leave_thread),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.thread_from_message),
        ]

    # ------------------------------------------------------------------ identity

    async def get_me(self, call: Call) -> tuple[int, Any]:
        return 200, {**self.emu.bot_user_payload(), "mfa_enabled": False, "locale": "en-US", "verified": True}

    async def get_user(self, call: Call) -> tuple[int, Any]:
        user = self.world.users.get(call.int_param("user_id"))
        if user is None:
            raise not_found("User", 10013)
        return 200, user_dict(user)

    async def get_application(self, call: Call) -> tuple[int, Any]:
        owner = self.emu.bot_user_payload()
        return 200, {
            "id": str(self.emu.application_id),
            "name": "Unstuck",
            "icon": None,
            "description": "Emulated application",
            "type": None,
            "bot": owner,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "flags_new": "0",
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "owner": {**owner, "bot": False, "username": "unstuck-owner"},
            "approximate_guild_count": len(self.world.guilds),
            "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0,
            "explicit_content_filter": 0,
            "team": None,
            "eligible_oauth2_scopes": [],
            "summary": "",
            "rpc_origins": [],
        }

    async def get_gateway(self, call: Call) -> tuple[int, Any]:
        return 200, {"url": self.emu.gateway_url}

    async def get_gateway_bot(self, call: Call) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.emu.gateway_url, "shards": 1, "session_start_limit": limit}

    # ------------------------------------------------------------------ guilds

    def _guild(self, call: Call) -> Any:
        guild = self.world.guilds.get(call.int_param("guild_id"))
        if guild is None:
            raise not_found("Guild", 10004)
        return guild

    async def get_guild(self, call: Call) -> tuple[int, Any]:
        guild = self._guild(call)
        data = guild_dict(self.world, guild)
        if call.query.get("with_counts") in ("true", "1", "True"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return 200, data

    async def get_guild_channels(self, call: Call) -> tuple[int, Any]:
        guild = self._guild(call)
        return 200, [channel_dict(self.world, c) for c in self.world.guild_channels(guild.id)]

    async def get_roles(self, call: Call) -> tuple[int, Any]:
        guild = self._guild(call)
        return 200, [role_dict(r, self.emu.bot_user_id) for r in guild.roles.values()]

    async def get_members(self, call: Call) -> tuple[int, Any]:
        guild = self._guild(call)
        limit = int(call.query.get("limit", 1))
        after = int(call.query.get("after", 0))
        ids = sorted(uid for uid in guild.members if uid > after)[:limit]
        return 200, [self.emu.member_payload(guild.id, uid) for uid in ids]

    async def search_members(self, call: Call) -> tuple[int, Any]:
        """Members whose user name or nickname starts with ``query`` (case-insensitive), as Discord."""
        guild = self._guild(call)
        query = call.query.get("query", "").casefold()
        limit = int(call.query.get("limit", 1))
        if not query or not 1 <= limit <= 1000:
            raise invalid_form(
                {"query": {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "Required"}]}}
            )
        found = [
            uid
            for uid in sorted(guild.members)
            if any(name.casefold().startswith(query) for name in self._member_names(guild.id, uid))
        ]
        return 200, [self.emu.member_payload(guild.id, uid) for uid in found[:limit]]

    def _member_names(self, guild_id: int, user_id: int) -> list[str]:
        payload = self.emu.member_payload(guild_id, user_id)
        user = payload.get("user") or {}
        names = [payload.get("nick"), user.get("username"), user.get("global_name")]
        return [name for name in names if isinstance(name, str)]

    async def get_member(self, call: Call) -> tuple[int, Any]:
        guild = self._guild(call)
        uid = call.int_param("user_id")
        if uid not in guild.members:
            raise not_found("Member", 10007)
        return 200, self.emu.member_payload(guild.id, uid)

    async def get_active_threads(self, call: Call) -> tuple[int, Any]:
        guild = self._guild(call)
        threads = [t for t in self.world.guild_threads(guild.id) if not t.archived]
        return 200, self._thread_list(threads, has_more=False)

    def _thread_list(self, threads: list[Channel], has_more: bool) -> dict[str, Any]:
        bot = self.emu.bot_user_id
        return {
            "threads": [thread_dict(self.world, t) for t in threads],
            "members": [thread_member_dict(self.world, t, bot) for t in threads if bot in t.member_ids],
            "has_more": has_more,
        }

    # ------------------------------------------------------------------ channels and threads

    async def get_channel(self, call: Call) -> tuple[int, Any]:
        return 200, channel_dict(self.world, get_channel(self.emu, call.int_param("channel_id")))

    async def patch_channel(self, call: Call) -> tuple[int, Any]:
        channel = get_channel(self.emu, call.int_param("channel_id"))
        body = call.body or {}
        shape_errors = check_channel_patch(channel.type, body)
        if shape_errors:
            raise invalid_form(shape_errors)
        if "name" in body:
            errors = check_name(body["name"])
            if errors:
                raise invalid_form(errors)
        if channel.is_thread:
            self._edit_thread(channel, body)
            await self.emu.dispatch("THREAD_UPDATE", thread_dict(self.world, channel), channel.guild_id)
        else:
            missing_permissions(self.emu, channel, Perm.MANAGE_CHANNELS, "edit a channel")
            if "available_tags" in body:
                self._set_available_tags(channel, body["available_tags"])
            channel.name = body.get("name", channel.name)
            channel.topic = body.get("topic", channel.topic)
            await self.emu.dispatch("CHANNEL_UPDATE", channel_dict(self.world, channel), channel.guild_id)
        return 200, channel_dict(self.world, channel)

    def _set_available_tags(self, forum: Channel, tags: Any) -> None:
        """Replace a forum's tags as Discord does: tags sent with an id are kept (and may be renamed),
        tags without one are created with a new id, and tags left out are deleted."""
        if forum.type != FORUM:
            raise _tags_error("CHANNEL_TYPE", "Only forum channels have tags")
        errors = check_forum_tags(tags)
        if errors:
            raise invalid_form(errors)
        known = {tag.id for tag in forum.available_tags}
        unknown = [tag["id"] for tag in tags if tag.get("id") and int(tag["id"]) not in known]
        if unknown:
            raise _tags_error("UNKNOWN_TAG", f"Unknown tags {unknown}")
        forum.available_tags = [
            ForumTag(
                int(tag["id"]) if tag.get("id") else self.emu.ids.next(),
                tag["name"],
                moderated=bool(tag.get("moderated", False)),
                emoji_id=int(tag["emoji_id"]) if tag.get("emoji_id") else None,
                emoji_name=tag.get("emoji_name"),
            )
            for tag in tags
        ]

    def _edit_thread(self, thread: Channel, body: dict[str, Any]) -> None:
        """Apply a thread edit: an owner may rename, archive, tag its unlocked thread; else MANAGE_THREADS."""
        owner = thread.owner_id == self.emu.bot_user_id
        needs_manage = not owner or "locked" in body or (thread.locked and body.get("archived") is False)
        if needs_manage:
            missing_permissions(self.emu, thread, Perm.MANAGE_THREADS, "edit a thread it does not own")
        if "applied_tags" in body:
            self._check_tags(thread, body["applied_tags"] or [])
            thread.applied_tags = [int(t) for t in body["applied_tags"] or []]
        thread.name = body.get("name", thread.name)
        thread.locked = bool(body.get("locked", thread.locked))
        thread.auto_archive_duration = int(body.get("auto_archive_duration", thread.auto_archive_duration))
        if "archived" in body and bool(body["archived"]) != thread.archived:
            thread.archived = bool(body["archived"])
            thread.archive_timestamp = self.emu.ids.now()

    def _check_tags(self, thread: Channel, tags: Any) -> None:
        if not isinstance(tags, list) or not all(str(t).isdigit() for t in tags):
            error = {"code": "BASE_TYPE_LIST", "message": "Must be a list of ids."}
            raise invalid_form({"applied_tags": {"_errors": [error]}})
        parent = self.world.channel(thread.parent_id or 0)
        available = {t.id for t in parent.available_tags} if parent else set()
        unknown = [t for t in tags if int(t) not in available]
        if unknown or len(tags) > 5:
            raise invalid_form(
                {
                    "applied_tags": {
                        "_errors": [{"code": "BASE_TYPE_CHOICES", "message": f"Invalid tags {unknown}"}]
                    }
                }
            )

    async def delete_channel(self, call: Call) -> tuple[int, Any]:
        channel = get_channel(self.emu, call.int_param("channel_id"))
        perm = Perm.MANAGE_THREADS if channel.is_thread else Perm.MANAGE_CHANNELS
        missing_permissions(self.emu, channel, perm, "delete a channel")
        data = channel_dict(self.world, channel)
        await self.emu.remove_channel(channel)
        return 200, data

    async def typing(self, call: Call) -> tuple[int, Any]:
        get_channel(self.emu, call.int_param("channel_id"))
        return 204, None

    async def get_archived_threads(self, call: Call) -> tuple[int, Any]:
        parent = get_channel(self.emu, call.int_param("channel_id"))
        threads = [
            t
            for t in self.world.guild_threads(parent.guild_id)
            if t.parent_id == parent.id and t.archived and t.type == PUBLIC_THREAD
        ]
        threads.sort(key=lambda t: t.archive_timestamp or t.created_at, reverse=True)  # type: ignore[arg-type, return-value]
        before = call.query.get("before")
        if before:
            cutoff = datetime.fromisoformat(before)
            threads = [t for t in threads if t.archive_timestamp and t.archive_timestamp < cutoff]
        limit = int(call.query.get("limit", 50))
        return 200, self._thread_list(threads[:limit], has_more=len(threads) > limit)

    async def join_thread(self, call: Call) -> tuple[int, Any]:
        thread = get_channel(self.emu, call.int_param("channel_id"))
        if self.emu.bot_user_id not in thread.member_ids:
            thread.member_ids.append(self.emu.bot_user_id)
        return 204, None

    async def leave_thread(self, call: Call) -> tuple[int, Any]:
        thread = get_channel(self.emu, call.int_param("channel_id"))
        if self.emu.bot_user_id in thread.member_ids:
            thread.member_ids.remove(self.emu.bot_user_id)
        return 204, None

    async def create_thread(self, call: Call) -> tuple[int, Any]:
        parent = get_channel(self.emu, call.int_param("channel_id"))
        body = call.body or {}
        errors = check_thread_create(parent.type, body) or check_name(body.get("name"))
        if errors:
            raise invalid_form(errors)
        if parent.type == FORUM:
            return await self._create_forum_post(parent, body, call.files)
        if parent.type != TEXT:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        kind = int(body.get("type") or PRIVATE_THREAD)  # Discord defaults to private without a message
        perm = Perm.CREATE_PUBLIC_THREADS if kind == PUBLIC_THREAD else Perm.CREATE_PRIVATE_THREADS
        missing_permissions(self.emu, parent, perm, "create a thread")
        thread = self.emu.create_thread_record(parent, body["name"], self.emu.bot_user_id, [])
        thread.type = kind
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or thread.auto_archive_duration)
        payload = self.emu.thread_create_payload(thread, newly_created=True)
        await self.emu.dispatch("THREAD_CREATE", payload, parent.guild_id)
        return 201, payload

    async def _create_forum_post(
        self, forum: Channel, body: dict[str, Any], files: list[dict[str, Any]]
    ) -> tuple[int, Any]:
        missing_permissions(self.emu, forum, Perm.SEND_MESSAGES, "post in a forum")
        starter_body = body.get("message") or {}
        thread_id = self.emu.ids.next()
        thread = Channel(thread_id, PUBLIC_THREAD, forum.guild_id, body["name"], parent_id=forum.id)
        self._check_tags(thread, body.get("applied_tags") or [])
        msg = new_bot_message(self.emu, thread, starter_body, files, message_id=thread_id)
        thread = self.emu.create_thread_record(
            forum,
            body["name"],
            self.emu.bot_user_id,
            [int(t) for t in body.get("applied_tags") or []],
            thread_id,
        )
        thread.member_ids = [self.emu.bot_user_id]
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or thread.auto_archive_duration)
        self.world.add_message(msg)
        record_pings(self.emu, msg, starter_body)
        payload = self.emu.thread_create_payload(thread, newly_created=True)
        await self.emu.dispatch("THREAD_CREATE", payload, forum.guild_id)
        await self.emu.dispatch("MESSAGE_CREATE", self.emu.message_payload(msg, gateway=True), forum.guild_id)
        return 201, {**payload, "message": self.emu.message_payload(msg)}

    async def thread_from_message(self, call: Call) -> tuple[int, Any]:
        parent = get_channel(self.emu, call.int_param("channel_id"))
        msg = get_message(self.emu, parent.id, call.int_param("message_id"))
        body = call.body or {}
        errors = check_name(body.get("name"))
        if errors:
            raise invalid_form(errors)
        missing_permissions(self.emu, parent, Perm.CREATE_PUBLIC_THREADS, "start a thread")
        if msg.thread_id is not None or parent.is_thread or parent.type != TEXT:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        thread = self.emu.create_thread_record(parent, body["name"], self.emu.bot_user_id, [], msg.id)
        thread.member_ids = [self.emu.bot_user_id]
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or thread.auto_archive_duration)
        msg.thread_id = thread.id
        payload = self.emu.thread_create_payload(thread, newly_created=True)
        await self.emu.dispatch("THREAD_CREATE", payload, parent.guild_id)
        await self.emu.dispatch(
            "MESSAGE_UPDATE", self.emu.message_payload(msg, gateway=True), parent.guild_id
        )
        return 201, payload


def _tags_error(code: str, message: str) -> DiscordError:
    return invalid_form({"available_tags": {"_errors": [{"code": code, "message": message}]}})


async def apply_bot_edit(emu: Hub, msg: Message, body: dict[str, Any], files: list[dict[str, Any]]) -> None:
    """Apply a bot edit to ``msg``, record pings, and dispatch MESSAGE_UPDATE if it is visible."""
    fill_message(emu, msg, body, files)
    ensure_not_empty(msg)
    msg.edited_timestamp = emu.ids.now()
    record_pings(emu, msg, body)
    if emu.world.message(msg.channel_id, msg.id) is msg:
        await emu.dispatch("MESSAGE_UPDATE", emu.message_payload(msg, gateway=True), msg.guild_id)
