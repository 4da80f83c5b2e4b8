"""The set-up check: what a server still lacks, each with the command that fixes it."""

from __future__ import annotations

from dataclasses import replace

from bot.config import GuildSettings
from bot.domain.bot_permissions import BOT_PERMISSIONS, Where, permission_value
from bot.domain.permissions import ServerRoles
from bot.domain.setup_check import (
    MANAGE_CHANNELS,
    MENTION_EVERYONE,
    ChannelFacts,
    SetupFacts,
    missing_setup,
    missing_tags,
    tags_fix,
    undelivered,
)
from bot.services.server_config import ServerConfig
from cogs.server_config import checklist, show_embed

ALL_NEEDED = permission_value()
FORUM, TEXT, ESCALATION, LEADERBOARD = 1, 2, 3, 4


def ready() -> SetupFacts:
    """A server with everything in place."""
    return SetupFacts(
        help_channels=(
            ChannelFacts(FORUM, Where.HELP_CHANNEL, ALL_NEEDED, ("Solved", "Unanswered")),
            ChannelFacts(TEXT, Where.HELP_CHANNEL, ALL_NEEDED),
        ),
        has_helper_or_staff_role=True,
        escalation_channel_needed=True,
        escalation_channel=ChannelFacts(ESCALATION, Where.ESCALATION_CHANNEL, ALL_NEEDED),
        tier_channels=(),
        leaderboard_enabled=True,
        leaderboard_channel=ChannelFacts(LEADERBOARD, Where.LEADERBOARD_CHANNEL, ALL_NEEDED),
        solved_tag="Solved",
        unanswered_tag="Unanswered",
    )


def fixes(facts: SetupFacts) -> list[str]:
    return [item.fix for item in missing_setup(facts)]


def test_a_ready_server_lacks_nothing() -> None:
    assert missing_setup(ready()) == []


def test_a_fresh_server_is_told_every_first_step_in_order() -> None:
    fresh = replace(
        ready(),
        help_channels=(),
        has_helper_or_staff_role=False,
        escalation_channel=None,
        leaderboard_channel=None,
    )
    steps = fixes(fresh)
    assert [step.split("`")[1] for step in steps] == [
        "/unstuck config add-help-channel",
        "/unstuck config add-role",
        "/unstuck config channel escalation",
        "/unstuck config channel leaderboard",
    ]


def test_channels_that_are_switched_off_or_unused_are_not_asked_for() -> None:
    quiet = replace(
        ready(),
        escalation_channel_needed=False,
        escalation_channel=None,
        leaderboard_enabled=False,
        leaderboard_channel=None,
    )
    assert missing_setup(quiet) == []


def test_a_deleted_help_channel_does_not_count_as_one() -> None:
    gone = replace(ready(), help_channels=(ChannelFacts(FORUM, Where.HELP_CHANNEL, None),))
    assert "add-help-channel" in fixes(gone)[0]
    deleted_post_channel = replace(
        ready(), leaderboard_channel=ChannelFacts(9, Where.LEADERBOARD_CHANNEL, None)
    )
    [item] = missing_setup(deleted_post_channel)
    assert "no longer exists" in item.problem and "channel leaderboard" in item.fix


def test_missing_permissions_are_named_per_channel() -> None:
    send = next(p for p in BOT_PERMISSIONS if p.name == "Send Messages")
    embed = next(p for p in BOT_PERMISSIONS if p.name == "Embed Links")
    lacking = ALL_NEEDED & ~send.value & ~embed.value
    facts = replace(ready(), escalation_channel=ChannelFacts(ESCALATION, Where.ESCALATION_CHANNEL, lacking))
    [item] = missing_setup(facts)
    assert item.problem == f"Unstuck lacks **Send Messages**, **Embed Links** in <#{ESCALATION}>."
    assert "Edit Channel → Permissions" in item.fix


def test_administrator_needs_nothing_else() -> None:
    admin = replace(ready(), escalation_channel=ChannelFacts(ESCALATION, Where.ESCALATION_CHANNEL, 1 << 3))
    assert missing_setup(admin) == []


def test_mention_everyone_matters_only_for_roles_that_cannot_be_pinged() -> None:
    without = ALL_NEEDED & ~MENTION_EVERYONE
    facts = replace(ready(), escalation_channel=ChannelFacts(ESCALATION, Where.ESCALATION_CHANNEL, without))
    assert missing_setup(facts) == []
    [item] = missing_setup(replace(facts, pinged_roles_mentionable=False))
    assert "**Mention Everyone**" in item.problem


def test_tier_channels_are_checked_like_the_escalation_channel() -> None:
    facts = replace(ready(), tier_channels=(ChannelFacts(7, Where.ESCALATION_CHANNEL, 0),))
    [item] = missing_setup(facts)
    assert "**View Channels**" in item.problem and "<#7>" in item.problem


def test_forum_tags_are_matched_ignoring_case_and_named_by_the_settings() -> None:
    assert missing_tags(["solved", "Python"], ["Solved", "Unanswered"]) == ["Unanswered"]
    assert missing_tags([], ["Done", "done"]) == ["Done"]  # the same tag is not created twice
    renamed = replace(ready(), solved_tag="Answered")
    [item] = missing_setup(renamed)
    assert item.problem == f"<#{FORUM}> lacks the **Answered** tag, so its posts are not tagged."


def test_the_tags_fix_depends_on_manage_channels_and_room() -> None:
    assert "add-help-channel` with <#1> again: it creates the tags" in tags_fix(1, MANAGE_CHANNELS, 3, 2)
    by_hand = tags_fix(1, ALL_NEEDED, 3, 2)
    assert "forum's settings" in by_hand and "give Unstuck Manage Channels" in by_hand
    assert "no room" in tags_fix(1, MANAGE_CHANNELS, 19, 2)


def test_the_checklist_stays_within_its_budget_and_says_how_many_were_left_out() -> None:
    many = replace(
        ready(),
        help_channels=tuple(ChannelFacts(100 + n, Where.HELP_CHANNEL, 0, ()) for n in range(40)),
    )
    missing = missing_setup(many)
    assert len(missing) == 80
    text = checklist(missing, 1000)
    assert len(text) <= 1000
    assert text.startswith("**⚠️ Before you start**")
    assert "more: fix the ones above, then run `/unstuck config show` again." in text
    assert checklist([], 1000).startswith("**✅ Ready**")


def test_the_show_embed_fits_discords_limits_with_a_long_checklist() -> None:
    config = ServerConfig(
        guild_id=1,
        settings=GuildSettings(),
        roles=ServerRoles(frozenset(range(10**17, 10**17 + 60)), frozenset()),
        help_channels={10**17 + n: "forum" for n in range(60)},
    )
    facts = replace(
        ready(), help_channels=tuple(ChannelFacts(c, Where.HELP_CHANNEL, 0, ()) for c in config.help_channels)
    )
    embed = show_embed(config, message_content=False, missing=missing_setup(facts))
    assert len(embed) <= 6000
    assert embed.description is not None and len(embed.description) <= 4096
    assert embed.description.startswith("**⚠️ Before you start**")
    assert all(len(field.value or "") <= 1024 for field in embed.fields) and len(embed.fields) <= 25


def test_actions_discord_refused_for_good_are_listed_with_what_to_do() -> None:
    lines = undelivered([(11, "missing permission", 3), (12, "the channel was deleted", 1)])
    assert [item.problem for item in lines] == [
        "3 bot actions could not be delivered in <#11>: missing permission",
        "1 bot action could not be delivered in <#12>: the channel was deleted",
    ]
    assert "permissions" in lines[0].fix
    assert "not be retried" in lines[1].fix
