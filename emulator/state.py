"""The emulator's world: users, guilds, roles, members, channels, threads and messages.

Records are plain dataclasses; ``to_*`` functions render them in the exact shapes real Discord sends.
Nothing here talks to the network: the gateway and REST layers read and mutate this model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulator.permissions import ALL_PERMISSIONS, BOT_ROLE_DEFAULT, EVERYONE_DEFAULT, Perm
from emulator.snowflake import SnowflakeFactory, iso

TEXT, CATEGORY, PUBLIC_THREAD, PRIVATE_THREAD, FORUM = 0, 4, 11, 12, 15
THREAD_TYPES = (PUBLIC_THREAD, PRIVATE_THREAD)
DEFAULT_AUTO_ARCHIVE = 4320  # minutes (3 days), a common server default


@dataclass
class User:
    """A Discord account (human or bot)."""

    id: int
    username: str
    bot: bool = False


@dataclass
class Role:
    """A guild role. The @everyone role's id equals the guild id."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int
    mentionable: bool = True
    managed: bool = False


@dataclass
class Member:
    """A user's membership of a guild."""

    guild_id: int
    user_id: int
    roles: list[int]
    joined_at: datetime
    nick: str | None = None


@dataclass
class Guild:
    """A server; ``members`` and ``roles`` are keyed by id."""

    id: int
    name: str
    owner_id: int
    created_at: datetime
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)


@dataclass
class ForumTag:
    """A tag a forum channel offers for its posts."""

    id: int
    name: str
    moderated: bool = False
    emoji_id: int | None = None
    emoji_name: str | None = None


ROLE_OVERWRITE, MEMBER_OVERWRITE = 0, 1


@dataclass
class Overwrite:
    """A channel's permission overwrite for one role (``type`` 0) or member (``type`` 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    """A guild channel or thread (threads have ``parent_id`` and ``owner_id``)."""

    id: int
    type: int
    guild_id: int
    name: str
    position: int = 0
    parent_id: int | None = None
    owner_id: int | None = None
    topic: str | None = None
    available_tags: list[ForumTag] = field(default_factory=list)
    overwrites: list[Overwrite] = field(default_factory=list)
    applied_tags: list[int] = field(default_factory=list)
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = DEFAULT_AUTO_ARCHIVE
    archive_timestamp: datetime | None = None
    created_at: datetime | None = None
    last_message_id: int | None = None
    message_count: int = 0
    total_message_sent: int = 0
    member_ids: list[int] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES


@dataclass
class Message:
    """A message as stored; rendering decides what a given viewer sees."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str
    timestamp: datetime
    type: int = 0
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    edited_timestamp: datetime | None = None
    message_reference: dict[str, Any] | None = None
    mention_ids: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    reactions: dict[str, list[int]] = field(default_factory=dict)
    thread_id: int | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    nonce: str | int | None = None
    position: int | None = None
    pinned: bool = False


class World:
    """Every entity the emulator knows, plus the snowflake factory that names them."""

    def __init__(self, ids: SnowflakeFactory, bot_user_id: int, application_id: int) -> None:
        self.ids = ids
        self.bot_user_id = bot_user_id
        self.application_id = application_id
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, dict[int, Message]] = {}  # channel id -> message id -> message
        self.bot_role_ids: dict[int, int] = {}  # guild id -> the bot's managed role

    # ------------------------------------------------------------------ building

    def add_user(self, username: str, bot: bool = False, user_id: int | None = None) -> User:
        """Create a user account."""
        user = User(user_id or self.ids.next(), username, bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, owner_id: int, guild_id: int | None = None) -> Guild:
        """Create a guild with @everyone, the bot's managed role, and the bot and owner as members."""
        gid = guild_id or self.ids.next()
        guild = Guild(gid, name, owner_id, self.ids.now())
        self.guilds[gid] = guild
        guild.roles[gid] = Role(gid, gid, "@everyone", int(EVERYONE_DEFAULT), 0, mentionable=False)
        bot_role = self.add_role(gid, self.users[self.bot_user_id].username, int(BOT_ROLE_DEFAULT))
        bot_role.managed = True
        bot_role.mentionable = False
        self.bot_role_ids[gid] = bot_role.id
        self.add_member(gid, self.bot_user_id, [bot_role.id])
        self.add_member(gid, owner_id, [])
        return guild

    def add_role(self, guild_id: int, name: str, permissions: int, mentionable: bool = True) -> Role:
        """Create a role above the existing ones."""
        guild = self.guilds[guild_id]
        role = Role(self.ids.next(), guild_id, name, permissions, len(guild.roles), mentionable)
        guild.roles[role.id] = role
        return role

    def add_member(self, guild_id: int, user_id: int, roles: list[int]) -> Member:
        """Add (or replace) a membership."""
        member = Member(guild_id, user_id, list(roles), self.ids.now())
        self.guilds[guild_id].members[user_id] = member
        return member

    def add_channel(self, channel: Channel) -> Channel:
        """Register a channel or thread."""
        self.channels[channel.id] = channel
        self.messages.setdefault(channel.id, {})
        return channel

    def add_message(self, message: Message) -> Message:
        """Store a message and update the channel's counters."""
        self.messages.setdefault(message.channel_id, {})[message.id] = message
        channel = self.channels.get(message.channel_id)
        if channel is not None:
            channel.last_message_id = message.id
            if channel.is_thread:
                # The starter message of a forum post is not counted, like on Discord.
                if message.id != channel.id:
                    channel.message_count += 1
                    channel.total_message_sent += 1
                message.position = channel.total_message_sent if message.id != channel.id else 0
        return message

    # ------------------------------------------------------------------ lookups

    def channel(self, channel_id: int) -> Channel | None:
        """A channel or thread by id."""
        return self.channels.get(channel_id)

    def message(self, channel_id: int, message_id: int) -> Message | None:
        """A live message by id."""
        return self.messages.get(channel_id, {}).get(message_id)

    def find_message(self, message_id: int) -> Message | None:
        """A live message anywhere (used by thread creation from a message)."""
        for by_id in self.messages.values():
            if message_id in by_id:
                return by_id[message_id]
        return None

    def channel_messages(self, channel_id: int) -> list[Message]:
        """Live messages of a channel, oldest first."""
        return sorted(self.messages.get(channel_id, {}).values(), key=lambda m: m.id)

    def guild_channels(self, guild_id: int) -> list[Channel]:
        """Non-thread channels of a guild."""
        return [c for c in self.channels.values() if c.guild_id == guild_id and not c.is_thread]

    def guild_threads(self, guild_id: int) -> list[Channel]:
        """Threads of a guild, archived or not."""
        return [c for c in self.channels.values() if c.guild_id == guild_id and c.is_thread]

    def member(self, guild_id: int, user_id: int) -> Member | None:
        """A membership, if the user is in the guild."""
        guild = self.guilds.get(guild_id)
        return guild.members.get(user_id) if guild else None

    # ------------------------------------------------------------------ permissions

    def permissions(self, guild_id: int, user_id: int) -> int:
        """Guild-level permissions: union of role grants; owner and ADMINISTRATOR get everything."""
        guild = self.guilds[guild_id]
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        if member is None:
            return 0
        perms = guild.roles[guild_id].permissions
        for rid in member.roles:
            role = guild.roles.get(rid)
            if role is not None:
                perms |= role.permissions
        return ALL_PERMISSIONS if perms & Perm.ADMINISTRATOR else perms

    def has(self, guild_id: int, user_id: int, perm: int) -> bool:
        """Whether the user holds ``perm`` in the guild."""
        return self.permissions(guild_id, user_id) & perm == perm

    def channel_permissions(self, channel_id: int, user_id: int) -> int:
        """Permissions in one channel, Discord's way: guild grants, then the channel's overwrites
        (@everyone, then the member's roles together, then the member). A thread uses its parent's;
        a private thread is visible only to its members and to those who may manage threads."""
        channel = self.channels[channel_id]
        thread = channel if channel.is_thread else None
        if thread is not None and thread.parent_id in self.channels:
            channel = self.channels[thread.parent_id]
        perms = self._overwritten(channel, user_id)
        private = thread is not None and thread.type == PRIVATE_THREAD and user_id not in thread.member_ids
        if private and not perms & Perm.MANAGE_THREADS:
            return 0
        return perms

    def _overwritten(self, channel: Channel, user_id: int) -> int:
        perms = self.permissions(channel.guild_id, user_id)
        if perms == ALL_PERMISSIONS:
            return perms  # the owner and administrators are above overwrites
        member = self.member(channel.guild_id, user_id)
        by_id = {o.id: o for o in channel.overwrites}
        role_ids = member.roles if member else []
        for layer in ([by_id.get(channel.guild_id)], [by_id.get(r) for r in role_ids], [by_id.get(user_id)]):
            found = [o for o in layer if o is not None]
            perms &= ~_union(o.deny for o in found)
            perms |= _union(o.allow for o in found)
        if not perms & Perm.VIEW_CHANNEL:
            return 0  # a channel one cannot see grants nothing
        if not perms & Perm.SEND_MESSAGES:
            # Discord drops what only makes sense when sending (discord.py's permissions_for agrees).
            perms &= ~(Perm.MENTION_EVERYONE | Perm.EMBED_LINKS | Perm.ATTACH_FILES)
        return perms

    def has_in(self, channel_id: int, user_id: int, perm: int) -> bool:
        """Whether the user holds ``perm`` in one channel (overwrites included)."""
        return self.channel_permissions(channel_id, user_id) & perm == perm


def _union(values: Any) -> int:
    result = 0
    for value in values:
        result |= value
    return result


# ---------------------------------------------------------------------- rendering


def user_dict(user: User) -> dict[str, Any]:
    """A user object as REST and the gateway send it."""
    data: dict[str, Any] = {
        "id": str(user.id),
        "username": user.username,
        "avatar": None,
        "discriminator": "0",
        "public_flags": 0,
        "flags": 0,
        "global_name": None if user.bot else user.username,
        "primary_guild": None,
    }
    if user.bot:
        data["bot"] = True
    return data


def role_dict(role: Role, bot_user_id: int | None = None) -> dict[str, Any]:
    """A role object."""
    data: dict[str, Any] = {
        "id": str(role.id),
        "name": role.name,
        "permissions": str(role.permissions),
        "position": role.position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "managed": role.managed,
        "mentionable": role.mentionable,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }
    if role.managed and bot_user_id is not None:
        data["tags"] = {"bot_id": str(bot_user_id)}
    return data


def member_dict(world: World, member: Member, with_user: bool = True) -> dict[str, Any]:
    """A guild member; messages and reactions embed it without ``user``."""
    data: dict[str, Any] = {
        "avatar": None,
        "banner": None,
        "communication_disabled_until": None,
        "flags": 0,
        "joined_at": iso(member.joined_at),
        "nick": member.nick,
        "pending": False,
        "premium_since": None,
        "roles": [str(r) for r in member.roles],
        "mute": False,
        "deaf": False,
    }
    if with_user:
        data["user"] = user_dict(world.users[member.user_id])
    return data


def channel_dict(world: World, channel: Channel) -> dict[str, Any]:
    """A guild channel or thread object."""
    if channel.is_thread:
        return thread_dict(world, channel)
    data: dict[str, Any] = {
        "id": str(channel.id),
        "type": channel.type,
        "guild_id": str(channel.guild_id),
        "name": channel.name,
        "position": channel.position,
        "permission_overwrites": [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in channel.overwrites
        ],
        "parent_id": str(channel.parent_id) if channel.parent_id else None,
        "flags": 0,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "topic": channel.topic,
        "last_message_id": str(channel.last_message_id) if channel.last_message_id else None,
        "default_auto_archive_duration": DEFAULT_AUTO_ARCHIVE,
        "default_thread_rate_limit_per_user": 0,
    }
    if channel.type == FORUM:
        data.update(
            available_tags=[forum_tag_dict(t) for t in channel.available_tags],
            default_reaction_emoji=None,
            default_sort_order=None,
            default_forum_layout=0,
            template="",
        )
    return data


def forum_tag_dict(tag: ForumTag) -> dict[str, Any]:
    """A forum tag object."""
    return {
        "id": str(tag.id),
        "name": tag.name,
        "moderated": tag.moderated,
        "emoji_id": str(tag.emoji_id) if tag.emoji_id else None,
        "emoji_name": tag.emoji_name,
    }


def thread_dict(world: World, thread: Channel) -> dict[str, Any]:
    """A thread channel object with its metadata."""
    metadata: dict[str, Any] = {
        "archived": thread.archived,
        "archive_timestamp": iso(thread.archive_timestamp or thread.created_at or world.ids.now()),
        "auto_archive_duration": thread.auto_archive_duration,
        "locked": thread.locked,
        "create_timestamp": iso(thread.created_at or world.ids.now()),
    }
    if thread.type == PRIVATE_THREAD:
        metadata["invitable"] = True
    return {
        "id": str(thread.id),
        "type": thread.type,
        "guild_id": str(thread.guild_id),
        "parent_id": str(thread.parent_id),
        "owner_id": str(thread.owner_id),
        "name": thread.name,
        "last_message_id": str(thread.last_message_id) if thread.last_message_id else None,
        "message_count": thread.message_count,
        "member_count": max(len(thread.member_ids), 1),
        "total_message_sent": thread.total_message_sent,
        "rate_limit_per_user": 0,
        "flags": 0,
        "applied_tags": [str(t) for t in thread.applied_tags],
        "thread_metadata": metadata,
    }


def thread_member_dict(world: World, thread: Channel, user_id: int) -> dict[str, Any]:
    """The thread-member object for ``user_id`` in ``thread``."""
    return {
        "id": str(thread.id),
        "user_id": str(user_id),
        "join_timestamp": iso(thread.created_at or world.ids.now()),
        "flags": 0,
    }


def guild_dict(world: World, guild: Guild) -> dict[str, Any]:
    """The REST guild object (GET /guilds/{id})."""
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "description": None,
        "home_header": None,
        "splash": None,
        "discovery_splash": None,
        "features": ["COMMUNITY"],
        "banner": None,
        "owner_id": str(guild.owner_id),
        "application_id": None,
        "region": "deprecated",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": 0,
        "roles": [role_dict(r, world.bot_user_id) for r in guild.roles.values()],
        "default_message_notifications": 1,
        "mfa_level": 0,
        "explicit_content_filter": 0,
        "max_presences": None,
        "max_members": 500000,
        "max_stage_video_channel_users": 50,
        "max_video_channel_users": 25,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "rules_channel_id": None,
        "safety_alerts_channel_id": None,
        "public_updates_channel_id": None,
        "premium_progress_bar_enabled": False,
        "nsfw": False,
        "nsfw_level": 0,
        "emojis": [],
        "stickers": [],
        "incidents_data": None,
    }


def guild_create_dict(world: World, guild: Guild, newly_joined: bool = False) -> dict[str, Any]:
    """The GUILD_CREATE dispatch: guild plus channels, active threads and members.

    Guilds announced as unavailable in READY arrive with ``unavailable: false``; a guild the bot
    joins later has no ``unavailable`` key (discord.py tells guild_available from guild_join by it).
    """
    data = guild_dict(world, guild)
    for rest_only in ("home_header", "nsfw", "max_presences"):
        data.pop(rest_only, None)
    threads = [t for t in world.guild_threads(guild.id) if not t.archived]
    data.update(
        joined_at=iso(guild.members[world.bot_user_id].joined_at),
        large=False,
        member_count=len(guild.members),
        members=[member_dict(world, m) for m in guild.members.values()],
        channels=[channel_dict(world, c) for c in world.guild_channels(guild.id)],
        threads=[thread_dict(world, t) for t in threads],
        presences=[],
        voice_states=[],
        stage_instances=[],
        guild_scheduled_events=[],
        soundboard_sounds=[],
        hub_type=None,
        lazy=True,
    )
    if not newly_joined:
        data["unavailable"] = False
    for channel in data["channels"]:
        channel.pop("guild_id", None)  # channels inside GUILD_CREATE omit guild_id
    return data


def emoji_dict(emoji: str) -> dict[str, Any]:
    """A partial emoji from the text form the REST path carries (unicode, or name:id)."""
    if ":" in emoji:
        name, _, eid = emoji.partition(":")
        return {"id": eid, "name": name}
    return {"id": None, "name": emoji}


def reactions_list(message: Message, viewer_id: int) -> list[dict[str, Any]]:
    """The ``reactions`` array of a message as ``viewer_id`` sees it (``me`` is per viewer)."""
    return [
        {
            "emoji": emoji_dict(emoji),
            "count": len(users),
            "count_details": {"burst": 0, "normal": len(users)},
            "burst_colors": [],
            "me_burst": False,
            "me": viewer_id in users,
        }
        for emoji, users in message.reactions.items()
        if users
    ]
