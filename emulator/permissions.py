"""Discord permission bits the emulator enforces, the default role grants, and private channels.

Making a channel private, as a moderator would (an overwrite's target is a role id, the guild id
for @everyone, or a member's user id; ``allow == deny == 0`` removes it)::

    staff = emu.create_forum_channel(guild, "staff-help")
    emu.set_channel_overwrite(staff, guild, deny=Perm.VIEW_CHANNEL)                 # @everyone
    emu.set_channel_overwrite(staff, staff_role, allow=Perm.VIEW_CHANNEL)           # a role
    emu.set_channel_overwrite(staff, emu.bot_role(guild), allow=Perm.VIEW_CHANNEL)  # the bot too
    emu.set_channel_overwrite(staff, alice, allow=Perm.VIEW_CHANNEL)                # one member
    emu.member_can(guild, alice, Perm.VIEW_CHANNEL, staff)   # -> True; no channel: guild level
    emu.bot_can(guild, Perm.SEND_MESSAGES, staff)

Computed like Discord (``World.channel_permissions``): the union of @everyone's and the member's
role grants (the owner and ADMINISTRATOR get everything, overwrites do not apply to them); then the
channel's @everyone overwrite (deny, then allow), all the member's role overwrites together, the
member's own overwrite. Without VIEW_CHANNEL nothing else counts; without SEND_MESSAGES mentions,
embeds and files go too. A thread has its parent's permissions; a private thread is visible only
to its members and to those with MANAGE_THREADS.

Enforced for the bot: REST answers 403 / 50013 Missing Permissions where it lacks what Discord asks
(SEND_MESSAGES, SEND_MESSAGES_IN_THREADS, MANAGE_THREADS, CREATE_PUBLIC_THREADS, ...), and the gateway
delivers no message, reaction or thread event of a channel it cannot view (the message is still in
the channel for anyone who can). Interactions carry the member's and the bot's channel permissions.
"""

from __future__ import annotations

from enum import IntFlag


class Perm(IntFlag):
    """The subset of Discord permission bits that matter to a help bot."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38


# Every permission bit Discord defines today (what ADMINISTRATOR and guild ownership grant).
ALL_PERMISSIONS = (1 << 53) - 1

# What @everyone gets in a fresh community server: talk, react, start threads, use commands.
EVERYONE_DEFAULT = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.ADD_REACTIONS
    | Perm.READ_MESSAGE_HISTORY
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
)

# The bot's managed role: what a help bot needs, and deliberately NOT MENTION_EVERYONE.
BOT_ROLE_DEFAULT = EVERYONE_DEFAULT | Perm.MANAGE_THREADS | Perm.MANAGE_MESSAGES | Perm.CREATE_PUBLIC_THREADS
