"""What the gateway sends to whom: the intent each event needs, and the channel an event is about.

Discord sends a session only the events its IDENTIFY intents ask for, and no message, reaction or
thread event of a channel the bot cannot view.
"""

from __future__ import annotations

# Intent bits.
GUILDS, GUILD_MEMBERS, GUILD_MESSAGES, GUILD_REACTIONS = 1 << 0, 1 << 1, 1 << 9, 1 << 10
MESSAGE_CONTENT = 1 << 15

# Which intent an event needs; events not listed (READY, INTERACTION_CREATE, ...) always go out.
EVENT_INTENT = {
    "GUILD_CREATE": GUILDS,
    "GUILD_UPDATE": GUILDS,
    "GUILD_DELETE": GUILDS,
    "GUILD_ROLE_CREATE": GUILDS,
    "GUILD_ROLE_UPDATE": GUILDS,
    "GUILD_ROLE_DELETE": GUILDS,
    "CHANNEL_CREATE": GUILDS,
    "CHANNEL_UPDATE": GUILDS,
    "CHANNEL_DELETE": GUILDS,
    "THREAD_CREATE": GUILDS,
    "THREAD_UPDATE": GUILDS,
    "THREAD_DELETE": GUILDS,
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": GUILD_REACTIONS,
    "MESSAGE_REACTION_REMOVE": GUILD_REACTIONS,
}

# Events that are about one channel, and the key naming it: Discord sends none of them for channels
# the bot cannot view (a thread's visibility is its parent's).
CHANNEL_EVENT_KEY = {
    "MESSAGE_CREATE": "channel_id",
    "MESSAGE_UPDATE": "channel_id",
    "MESSAGE_DELETE": "channel_id",
    "MESSAGE_DELETE_BULK": "channel_id",
    "MESSAGE_REACTION_ADD": "channel_id",
    "MESSAGE_REACTION_REMOVE": "channel_id",
    "MESSAGE_REACTION_REMOVE_ALL": "channel_id",
    "MESSAGE_REACTION_REMOVE_EMOJI": "channel_id",
    "TYPING_START": "channel_id",
    "THREAD_CREATE": "parent_id",
    "THREAD_UPDATE": "parent_id",
    "THREAD_DELETE": "parent_id",
}
