"""`/unstuck config` end to end."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bot.app import HANDLER_TASKS
from emulator.permissions import BOT_ROLE_DEFAULT, Perm
from tests.e2e.conftest import World
from tests.e2e.harness import LogGuard, handlers_finished


async def test_config_show_lists_the_set_up(world: World) -> None:
    reply = await world.emu.user_runs_slash(world.c.admin, world.c.general, "unstuck config show")
    assert reply.ephemeral
    text = reply.text()
    assert f"<#{world.c.forum}> (forum)" in text
    assert f"<#{world.c.text}> (text)" in text
    assert f"<@&{world.c.helper_role}>" in text
    assert "dormant_after" in text


async def test_members_without_manage_server_are_refused_politely(world: World) -> None:
    for command, options in [
        ("unstuck config show", {}),
        ("unstuck config add-help-channel", {"channel": world.c.general}),
        ("unstuck config set", {"key": "points.solution", "value": "100"}),
    ]:
        reply = await world.emu.user_runs_slash(world.c.mallory, world.c.general, command, options=options)
        assert reply.ephemeral
        assert "Manage Server" in reply.text()
    config = await world.bot.services.configs.get(world.c.guild)
    assert world.c.general not in config.help_channels
    assert config.settings.points.solution == 10


async def test_settings_are_validated_and_can_be_reset(world: World) -> None:
    bad = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        options={"key": "help.dormant_after", "value": "soon"},
    )
    assert bad.ephemeral
    assert "help.dormant_after" in bad.text()
    good = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        options={"key": "help.dormant_after", "value": "48h"},
    )
    assert "2d" in good.text()
    config = await world.bot.services.configs.get(world.c.guild)
    assert config.settings.help.dormant_after.total_seconds() == 48 * 3600
    reset = await world.emu.user_runs_slash(
        world.c.admin, world.c.general, "unstuck config reset", options={"key": "help.dormant_after"}
    )
    assert "3d" in reset.text()


async def test_removing_a_help_channel_stops_tracking(world: World) -> None:
    reply = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config remove-help-channel",
        options={"channel": world.c.text},
    )
    assert "no longer a help channel" in reply.text()
    async with world.handled("message", lambda m: m.channel.id == world.c.text):
        await world.emu.user_says(world.c.alice, world.c.text, "A question nobody tracks")
    assert world.emu.threads(world.c.text) == []


# ---- a newcomer's first minutes ----------------------------------------------------------------

MANAGE_GUILD = str(1 << 5)
GUILD_ONLY = [0]
# Every top-level command as synced, with the permission Discord requires before offering it.
# Members without it never see the command; everyone else's access is decided in the handlers.
DEFAULT_PERMISSIONS: dict[str, str | None] = {
    "unstuck": MANAGE_GUILD,
    "close": None,
    "reopen": None,
    "solved": None,
    "unsolve": None,
    "points": None,
    "leaderboard": None,
    "escalate": None,
    "escalations": None,
    "stats": None,
    "similar": None,
    "privacy": None,  # every member's own archive choice: not under `/unstuck`, which admins alone see
    "Mark as solution": None,
}


def _permission(command: dict[str, Any]) -> str | None:
    value = command.get("default_member_permissions")
    return None if value is None else str(value)


async def test_unstuck_is_offered_only_to_server_managers_and_only_in_servers(world: World) -> None:
    sent = world.emu.interactions.sync_payloads[None]
    assert {c["name"]: _permission(c) for c in sent} == DEFAULT_PERMISSIONS
    unstuck = next(c for c in sent if c["name"] == "unstuck")
    assert unstuck["contexts"] == GUILD_ONLY
    for command in sent:  # every command is for servers: none is offered in DMs
        assert command.get("contexts") == GUILD_ONLY or command.get("dm_permission") is False, command
    manager_role = world.emu.create_role(world.c.guild, "Server managers", permissions=1 << 5)
    manager = world.emu.create_user("manager")
    world.emu.add_member(world.c.guild, manager, roles=[manager_role])
    offered = world.emu.interactions.offered_to
    for who in (world.c.admin, manager):
        assert "unstuck" in offered(who, world.c.general)
    for who in (world.c.mallory, world.c.helen, world.c.sam, world.c.moderator):
        assert "unstuck" not in offered(who, world.c.general)
    assert {"escalations", "points", "stats"} <= offered(world.c.sam, world.c.general)


@dataclass
class Fresh:
    """A server that just invited Unstuck: its owner, a #general, and a forum with only its own tag."""

    guild: int
    owner: int
    general: int
    forum: int


async def _joined_server(world: World) -> Fresh:
    # A guild arriving while discord.py still collects its start-up guilds can be lost to a race in
    # its ready wait (asyncio.wait_for on Python 3.11); nobody invites the bot in that instant.
    await world.bot.wait_until_ready()
    owner = world.emu.create_user("newcomer")
    guild = world.emu.create_guild("Fresh Server", owner_id=owner)
    fresh = Fresh(
        guild=guild,
        owner=owner,
        general=world.emu.create_text_channel(guild, "general"),
        forum=world.emu.create_forum_channel(guild, "questions", tags=["Python"]),
    )
    await world.emu.wait_for(lambda: world.bot.get_guild(guild) is not None, what="the bot to join")
    return fresh


async def _join_handled(world: World, guild: int) -> None:
    """Wait until the bot finished handling its arrival (its catch-up included)."""
    await world.emu.wait_for(lambda: guild in world.bot.reconciled_guilds, what="join handled")


async def test_joining_posts_nothing_and_show_lists_every_first_step(world: World) -> None:
    fresh = await _joined_server(world)
    await _join_handled(world, fresh.guild)
    await handlers_finished()  # whatever the join set off has run: the bot decided to post nothing
    channels = [c.id for c in world.emu.world.guild_channels(fresh.guild)]
    assert [m for c in channels for m in world.emu.bot_messages(c)] == []
    reply = await world.emu.user_runs_slash(fresh.owner, fresh.general, "unstuck config show")
    assert reply.ephemeral
    checklist = reply.embeds[0]["description"]
    assert checklist.startswith("**⚠️ Before you start**")
    for fix in (
        "`/unstuck config add-help-channel`",
        "`/unstuck config add-role`",
        "`/unstuck config channel escalation`",
        "`/unstuck config channel leaderboard`",
    ):
        assert fix in checklist


async def test_show_names_missing_tags_and_permissions_until_they_are_fixed(world: World) -> None:
    c, emu = world.c, world.emu
    await emu.user_runs_slash(
        c.admin, c.general, "unstuck config set", {"key": "help.solved_tag", "value": "Done"}
    )
    # #escalations is private to staff, and Unstuck was not let in.
    emu.set_channel_overwrite(c.escalations, c.guild, deny=1 << 10)
    await emu.user_runs_slash(
        c.admin, c.general, "unstuck config channel", {"purpose": "escalation", "channel": c.escalations}
    )
    checklist = (await emu.user_runs_slash(c.admin, c.general, "unstuck config show")).embeds[0][
        "description"
    ]
    assert f"<#{c.forum}> lacks the **Done** tag" in checklist
    assert "give Unstuck Manage Channels" in checklist  # it lacks it: the admin adds the tag by hand
    assert (
        f"Unstuck lacks **View Channels**, **Send Messages**, **Embed Links** in <#{c.escalations}>"
        in checklist
    )
    assert "Mention Everyone" not in checklist  # the roles it pings are mentionable
    assert "No leaderboard channel" in checklist
    assert "No help channel" not in checklist and "No helper or staff role" not in checklist

    emu.set_channel_overwrite(c.escalations, emu.bot_role(c.guild), allow=(1 << 10) | (1 << 11) | (1 << 14))
    await emu.user_runs_slash(c.admin, c.general, "unstuck config reset", {"key": "help.solved_tag"})
    await emu.user_runs_slash(
        c.admin, c.general, "unstuck config channel", {"purpose": "leaderboard", "channel": c.general}
    )
    ready = (await emu.user_runs_slash(c.admin, c.general, "unstuck config show")).embeds[0]["description"]
    assert ready.startswith("**✅ Ready**")


async def test_add_help_channel_creates_the_missing_tags_with_manage_channels(world: World) -> None:
    fresh = await _joined_server(world)
    forum = fresh.forum
    world.emu.set_bot_permissions(fresh.guild, int(BOT_ROLE_DEFAULT | Perm.MANAGE_CHANNELS))
    reply = await world.emu.user_runs_slash(
        fresh.owner, fresh.general, "unstuck config add-help-channel", options={"channel": forum}
    )
    assert "I created the **Solved** and **Unanswered** tags" in reply.text()
    assert [t["name"] for t in world.emu.channel(forum)["available_tags"]] == [
        "Python",
        "Solved",
        "Unanswered",
    ]
    # The tags are used from the first question on.
    thread = await world.emu.user_posts_in_forum(fresh.owner, forum, "Pandas merge", "How do I merge?")
    unanswered = world.emu.forum_tag_id(forum, "Unanswered")
    await world.emu.wait_for(
        lambda: str(unanswered) in world.emu.channel(int(thread["id"]))["applied_tags"], what="Unanswered tag"
    )


async def test_add_help_channel_without_manage_channels_says_how_to_add_the_tags(world: World) -> None:
    fresh = await _joined_server(world)
    forum = fresh.forum
    reply = await world.emu.user_runs_slash(
        fresh.owner, fresh.general, "unstuck config add-help-channel", options={"channel": forum}
    )
    text = reply.text()
    assert f"<#{forum}> is now a help channel" in text
    assert "The forum lacks the **Solved** and **Unanswered** tags" in text
    assert "add the tags in the forum's settings" in text
    assert [t["name"] for t in world.emu.channel(forum)["available_tags"]] == ["Python"]
    assert not [r for r in world.emu.requests if r[0] == "PATCH" and r[1] == f"/channels/{forum}"]


async def test_mentioning_the_bot_is_not_an_error(world: World) -> None:
    with LogGuard() as guard:
        sent = await world.emu.user_says(world.c.mallory, world.c.general, f"<@{world.emu.bot_user_id}> help")
        await _handled(world, int(sent["id"]))
    assert guard.messages() == []
    assert world.emu.bot_messages(world.c.general) == []


async def _handled(world: World, message_id: int) -> None:
    """Wait until the bot saw the message and every event handler it started has finished."""

    def done() -> bool:
        seen = any(m.id == message_id for m in world.bot.cached_messages)
        running = [t for t in asyncio.all_tasks() if not t.done() and t.get_name().startswith(HANDLER_TASKS)]
        return seen and not running

    await world.emu.wait_for(done, what="the bot to handle the message")
