"""What a server still lacks before Unstuck works there, each with the command that fixes it.

`/unstuck config show` lists these first, and `/unstuck config add-help-channel` uses the forum-tag
rule. The cog gathers the facts from Discord (which channels exist, what the bot may do in each,
which tags a forum has); the rules here decide what is missing and what to tell the admin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.bot_permissions import ADMINISTRATOR, MANAGE_CHANNELS, MENTION_EVERYONE, Where, missing_in

#: Discord lets a forum offer at most 20 tags.
MAX_FORUM_TAGS = 20


@dataclass(frozen=True)
class ChannelFacts:
    """One channel Unstuck uses, as Discord shows it to the bot right now."""

    channel_id: int
    where: Where
    #: The bot's permissions there; ``None`` when the channel no longer exists.
    granted: int | None
    #: A forum's tag names; ``None`` for a text channel.
    tag_names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SetupFacts:
    """Everything the set-up check needs, as plain values."""

    help_channels: tuple[ChannelFacts, ...]
    has_helper_or_staff_role: bool
    #: Whether escalation is on and some tier posts in "the escalation channel".
    escalation_channel_needed: bool
    escalation_channel: ChannelFacts | None
    #: Channels tiers name directly, besides the escalation channel.
    tier_channels: tuple[ChannelFacts, ...]
    leaderboard_enabled: bool
    leaderboard_channel: ChannelFacts | None
    solved_tag: str
    unanswered_tag: str
    #: Whether every role escalations ping can be pinged without Mention Everyone.
    pinged_roles_mentionable: bool = True


@dataclass(frozen=True)
class Missing:
    """One thing to do before Unstuck works fully: what is missing, and how to fix it."""

    problem: str
    fix: str


def missing_tags(tag_names: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The ``wanted`` tag names a forum does not offer yet (compared ignoring case, as the bot does)."""
    have = {name.casefold() for name in tag_names}
    result: list[str] = []
    for name in wanted:
        if name.casefold() not in have:
            have.add(name.casefold())
            result.append(name)
    return result


def can_manage_channel(granted: int) -> bool:
    """Whether the bot may edit the channel itself, e.g. create a forum's tags."""
    return bool(granted & (MANAGE_CHANNELS | ADMINISTRATOR))


def tag_list(names: list[str]) -> str:
    """``["Solved"]`` -> "the **Solved** tag"; two or more -> "the **A** and **B** tags"."""
    shown = " and ".join(f"**{name}**" for name in names)
    return f"the {shown} tag" if len(names) == 1 else f"the {shown} tags"


def tags_fix(channel_id: int, granted: int, existing: int, count: int) -> str:
    """How to get ``count`` missing tags into a forum that has ``existing`` tags."""
    if existing + count > MAX_FORUM_TAGS:
        return (
            f"the forum has no room for more tags (Discord allows {MAX_FORUM_TAGS}): "
            "remove one in the forum's settings (Edit Channel → Tags), then add the tags there"
        )
    if can_manage_channel(granted):
        return f"run `/unstuck config add-help-channel` with <#{channel_id}> again: it creates the tags"
    return (
        "add the tags in the forum's settings (Edit Channel → Tags), or give Unstuck Manage Channels "
        f"and run `/unstuck config add-help-channel` with <#{channel_id}> again"
    )


def missing_setup(facts: SetupFacts) -> list[Missing]:
    """Everything the server still lacks, most basic first; empty when Unstuck is ready."""
    found: list[Missing] = []
    live_help = [c for c in facts.help_channels if c.granted is not None]
    if not live_help:
        found.append(
            Missing(
                "No help channel yet: Unstuck does nothing until it has one.",
                "`/unstuck config add-help-channel` with a forum or text channel",
            )
        )
    for channel in live_help:
        found.extend(_help_channel_problems(channel, facts))
    if not facts.has_helper_or_staff_role:
        found.append(
            Missing(
                "No helper or staff role: only askers and members with Manage Threads can mark "
                "solutions, and escalations to helpers or staff have nobody to ping.",
                "`/unstuck config add-role` (helper: marks solutions; staff: also moderates)",
            )
        )
    if facts.escalation_channel_needed:
        found.extend(_post_channel_problems("escalation", facts.escalation_channel, facts))
    for channel in facts.tier_channels:
        found.extend(_post_channel_problems("escalation", channel, facts))
    if facts.leaderboard_enabled:
        found.extend(_post_channel_problems("leaderboard", facts.leaderboard_channel, facts))
    return found


def _help_channel_problems(channel: ChannelFacts, facts: SetupFacts) -> list[Missing]:
    granted = channel.granted or 0
    found = _listed(permission_problem(channel))
    if channel.tag_names is not None:
        absent = missing_tags(channel.tag_names, (facts.solved_tag, facts.unanswered_tag))
        if absent:
            found.append(
                Missing(
                    f"<#{channel.channel_id}> lacks {tag_list(absent)}, so its posts are not tagged.",
                    tags_fix(channel.channel_id, granted, len(channel.tag_names), len(absent)),
                )
            )
    return found


def _post_channel_problems(purpose: str, channel: ChannelFacts | None, facts: SetupFacts) -> list[Missing]:
    """The escalation or leaderboard channel: set, still there, and the bot may post in it."""
    what = {
        "escalation": "unanswered questions are not brought to anyone",
        "leaderboard": "the weekly leaderboard is not posted",
    }[purpose]
    fix = f"`/unstuck config channel {purpose}` with a text channel"
    if channel is None:
        return [Missing(f"No {purpose} channel: {what}.", fix)]
    if channel.granted is None:
        return [Missing(f"The {purpose} channel (id {channel.channel_id}) no longer exists: {what}.", fix)]
    return _listed(permission_problem(channel, facts.pinged_roles_mentionable))


def permission_problem(channel: ChannelFacts, pinged_roles_mentionable: bool = True) -> Missing | None:
    """The required permissions the bot lacks in an existing channel, if any.

    Mention Everyone only matters where escalations ping a role that is not mentionable.
    """
    lacking = [
        p
        for p in missing_in(channel.granted or 0, channel.where)
        if p.value != MENTION_EVERYONE or not pinged_roles_mentionable
    ]
    if not lacking:
        return None
    names = ", ".join(f"**{p.name}**" for p in lacking)
    return Missing(
        f"Unstuck lacks {names} in <#{channel.channel_id}>.",
        "allow them for the Unstuck role in the channel's settings (Edit Channel → Permissions)",
    )


def _listed(problem: Missing | None) -> list[Missing]:
    return [problem] if problem is not None else []


#: What to do about an action Discord refused for good, by the reason the delivery worker gave.
UNDELIVERED_FIX = {
    "missing permission": "Give Unstuck the permissions it needs there; what comes next goes through.",
    "missing access": "Let Unstuck view that channel; what comes next goes through.",
}


def undelivered(refusals: Iterable[tuple[int, str, int]]) -> list[Missing]:
    """One line per channel and reason for the bot actions Discord refused for good.

    ``refusals`` are (channel id, reason, how many). Such actions are never retried, so this is the
    one place staff learn that, say, three notes never reached a thread.
    """
    problems = []
    for channel_id, reason, count in refusals:
        what = "bot action" if count == 1 else "bot actions"
        problems.append(
            Missing(
                f"{count} {what} could not be delivered in <#{channel_id}>: {reason}",
                UNDELIVERED_FIX.get(reason, "Nothing to do if that was meant; they will not be retried."),
            )
        )
    return problems
