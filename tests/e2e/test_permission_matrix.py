"""Who may do what: every command, menu, button and the ✅ reaction, against every kind of actor.

The table is the specification. The test walks the bot's registered command tree (and its
persistent buttons) and fails if anything has no row, so a new command cannot ship unchecked.
Each check runs through the emulator as that person would, on fresh state where the action
changes something, and reads allow/deny from what the bot did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import discord
from discord import app_commands

from tests.e2e.conftest import World
from tests.e2e.test_escalation import set_escalation_channel
from tests.e2e.test_similar import PANDAS, PANDAS_AGAIN, PANDAS_ANSWER, seed, solve, welcome
from tests.e2e.test_solutions import CHECK, answer, forum_thread

MANAGE_GUILD = 1 << 5
ACTORS = ("asker", "member", "helper", "staff", "manage_threads", "manage_server", "bot")
EVERYONE = set(ACTORS)
ASKER_OR_STAFF = {"asker", "staff", "manage_threads", "manage_server"}
MARKERS = ASKER_OR_STAFF | {"helper"}
STAFF = {"staff", "manage_server"}
SERVER_ADMINS = {"manage_server"}
READ = "read"  # answers anyone; changes nothing

# What each command, menu, button and reaction allows. READ rows must answer without refusal.
MATRIX: dict[str, set[str] | str] = {
    "unstuck config show": SERVER_ADMINS,
    "unstuck config add-help-channel": SERVER_ADMINS,
    "unstuck config remove-help-channel": SERVER_ADMINS,
    "unstuck config add-role": SERVER_ADMINS,
    "unstuck config remove-role": SERVER_ADMINS,
    "unstuck config channel": SERVER_ADMINS,
    "unstuck config set": SERVER_ADMINS,
    "unstuck config reset": SERVER_ADMINS,
    "unstuck config tier-set": SERVER_ADMINS,
    "unstuck config tier-remove": SERVER_ADMINS,
    "unstuck config quiet-hours": SERVER_ADMINS,
    "unstuck backfill": SERVER_ADMINS,
    "unstuck archive enable": SERVER_ADMINS,
    "unstuck archive disable": SERVER_ADMINS,
    "privacy": EVERYONE - {"bot"},  # each member's own choice for the public archive
    "escalations": STAFF,
    "close": ASKER_OR_STAFF,
    "reopen": ASKER_OR_STAFF,
    "solved": MARKERS,
    "unsolve": ASKER_OR_STAFF,
    "Mark as solution": MARKERS,
    "escalate": {"asker"},
    "points show": READ,
    "points grant": STAFF,
    "points revoke": STAFF,
    "points history": STAFF,
    "leaderboard": READ,
    "similar": READ,
    "stats": STAFF,  # the default `stats.visibility`
    "button PageButton": READ,
    "button ClaimButton": {"helper", "staff", "manage_threads", "manage_server"},
    "button ReuseButton": ASKER_OR_STAFF,
    "reaction ✅": MARKERS,
    # Last: the asker's confirmed "forget me" must not change what the rows above find.
    "button ForgetButton": {"asker"},  # only the member the prompt was shown to
}


def registered(bot: discord.Client) -> set[str]:
    """Every command, context menu and persistent button the running bot offers."""
    tree: app_commands.CommandTree[Any] = bot.tree  # type: ignore[attr-defined]
    names = {c.qualified_name for c in tree.walk_commands() if isinstance(c, app_commands.Command)}
    names |= {c.name for c in tree.get_commands(type=discord.AppCommandType.message)}
    names |= {f"button {item.__name__}" for item in discord.ui.DynamicItem.__subclasses__()}
    return names | {"reaction ✅"}


def refused(reply: Any) -> bool:
    return bool(reply.ephemeral) and "only" in reply.text().lower()


class Checks:
    """One way to try each entry as a given actor; each returns whether it was allowed."""

    def __init__(self, w: World, people: dict[str, int]) -> None:
        self.w, self.people = w, people

    async def slash(
        self, who: str, channel: int, command: str, options: dict[str, Any] | None = None
    ) -> bool:
        reply = await self.w.emu.user_runs_slash(self.people[who], channel, command, options=options or {})
        return not refused(reply)

    async def thread(self) -> int:
        """A fresh question by the asker with one answer from bob, so every action has a target."""
        thread_id = await forum_thread(self.w, asker=self.people["asker"])
        await answer(self.w, thread_id, self.w.c.bob)
        return thread_id

    async def config(self, who: str, command: str) -> bool:
        c = self.w.c
        options = {
            "unstuck config show": {},
            "unstuck config add-help-channel": {"channel": c.general},
            "unstuck config remove-help-channel": {"channel": c.general},
            "unstuck config add-role": {"role": c.helper_role, "kind": "helper"},
            "unstuck config remove-role": {"role": c.helper_role, "kind": "staff"},
            "unstuck config channel": {"purpose": "leaderboard", "channel": c.general},
            "unstuck config set": {"key": "points.assist", "value": "2"},
            "unstuck config reset": {"key": "points.assist"},
            "unstuck config tier-set": {"tier": 2, "after": "24h", "who": "staff"},
            "unstuck config tier-remove": {"tier": 3},
            "unstuck config quiet-hours": {},
            "unstuck backfill": {},
            "unstuck archive enable": {"channel": c.forum},
            "unstuck archive disable": {"channel": c.forum},
        }[command]
        return await self.slash(who, c.general, command, options)


async def try_entry(checks: Checks, entry: str, who: str) -> bool:
    c = checks.w.c
    if entry.startswith(("unstuck config", "unstuck archive")) or entry == "unstuck backfill":
        return await checks.config(who, entry)
    thread_actions: dict[str, Callable[[int], Awaitable[bool]]] = {
        "close": lambda t: checks.slash(who, t, "close", {"reason": "stale"}),
        "solved": lambda t: checks.slash(who, t, "solved"),
        "Mark as solution": lambda t: _menu(checks, who, t),
        "reaction ✅": lambda t: _react(checks, who, t),
    }
    if entry in thread_actions:
        return await thread_actions[entry](await checks.thread())
    if entry == "button ForgetButton":
        return await _forget(checks, who)
    if entry == "reopen":
        thread_id = await checks.thread()
        await checks.slash("asker", thread_id, "close", {"reason": "stale"})
        return await checks.slash(who, thread_id, "reopen")
    if entry == "unsolve":
        thread_id = await checks.thread()
        await checks.slash("asker", thread_id, "solved")
        return await checks.slash(who, thread_id, "unsolve")
    member = c.bob
    simple = {
        "escalations": ("escalations", {}),
        "points show": ("points show", {}),
        "points grant": ("points grant", {"member": member, "amount": 3, "reason": "matrix"}),
        "points revoke": ("points revoke", {"member": member, "amount": 1, "reason": "matrix"}),
        "points history": ("points history", {}),
        "leaderboard": ("leaderboard", {}),
        "similar": ("similar", {"text": "pandas csv"}),
        "stats": ("stats", {}),
        "privacy": ("privacy", {"choice": "without my name"}),
    }
    if entry in simple:
        command, options = simple[entry]
        return await checks.slash(who, c.general, command, options)
    raise AssertionError(f"no way to try {entry!r}")


async def _forget(checks: Checks, who: str) -> bool:
    """The asker's "forget me" prompt, clicked by ``who``: allowed if it forgot the asker."""
    w, asker = checks.w, checks.people["asker"]
    prompt = await w.emu.user_runs_slash(asker, w.c.general, "privacy", options={"choice": "forget me"})
    reply = await w.emu.user_clicks_button(
        checks.people[who], w.c.general, prompt.message_id, f"privacy:forget:{asker}"
    )
    return not refused(reply)


async def _menu(checks: Checks, who: str, thread_id: int) -> bool:
    target = int(checks.w.emu.messages(thread_id)[-1]["id"])
    reply = await checks.w.emu.user_uses_context_menu(
        checks.people[who], thread_id, "Mark as solution", target
    )
    return not refused(reply)


async def _react(checks: Checks, who: str, thread_id: int) -> bool:
    """A ✅ is refused quietly, so read the outcome only once the bot has handled the reaction."""
    target, user = int(checks.w.emu.messages(thread_id)[-1]["id"]), checks.people[who]
    async with checks.w.handled("raw_reaction_add", lambda p: (p.message_id, p.user_id) == (target, user)):
        await checks.w.emu.user_reacts(user, thread_id, target, CHECK)
    return await checks.w.bot.services.solutions.get(thread_id) is not None


async def make_people(w: World) -> dict[str, int]:
    manager_role = w.emu.create_role(w.c.guild, "Server managers", permissions=MANAGE_GUILD)
    manager = w.emu.create_user("manager")
    w.emu.add_member(w.c.guild, manager, roles=[manager_role])
    return {
        "asker": w.c.alice,
        "member": w.c.mallory,
        "helper": w.c.helen,
        "staff": w.c.sam,
        "manage_threads": w.c.moderator,
        "manage_server": manager,
        "bot": w.c.other_bot,
    }


async def test_every_command_menu_button_and_reaction_has_a_row(world: World) -> None:
    assert registered(world.bot) == set(MATRIX), "add a row to MATRIX for every new command or button"


async def test_the_permission_matrix(world: World) -> None:
    people = await make_people(world)
    checks = Checks(world, people)
    await set_escalation_channel(world)
    # Escalation and reuse need waiting questions and suggestions: set them up for every actor first.
    escalate_threads = {
        who: await forum_thread(world, asker=people["asker"], title=f"Waiting {who}") for who in ACTORS
    }
    await seed(world)
    await solve(world, PANDAS, PANDAS_ANSWER)
    reuse_threads = {}
    for who in ACTORS:
        thread = await world.emu.user_posts_in_forum(people["asker"], world.c.forum, *PANDAS_AGAIN)
        thread_id = int(thread["id"])
        await world.emu.wait_for(
            lambda t=thread_id: "This solved it" in str(world.emu.bot_messages(t)), what="suggestions"
        )
        reuse_threads[who] = thread_id
    world.clock.advance(timedelta(hours=5))
    await world.bot.run_sweeps()  # posts the digests before it returns
    outcomes: dict[tuple[str, str], bool] = {}
    for who in ACTORS:
        outcomes[("escalate", who)] = await checks.slash(who, escalate_threads[who], "escalate")
        note = welcome(world, reuse_threads[who])
        reuse_id = next(
            b["custom_id"]
            for row in note["components"]
            for b in row["components"]
            if b.get("custom_id", "").startswith("reuse:")
        )
        clicked = await world.emu.user_clicks_button(
            people[who], reuse_threads[who], int(note["id"]), reuse_id
        )
        outcomes[("button ReuseButton", who)] = not refused(clicked)
        outcomes[("button ClaimButton", who)] = await _claim(world, people[who], escalate_threads[who])
        board = await world.emu.user_runs_slash(
            people[who], world.c.general, "leaderboard", options={"window": "all"}
        )
        outcomes[("button PageButton", who)] = await _page(world, people[who], board)
    for entry in MATRIX:
        for who in ACTORS:
            if (entry, who) not in outcomes:
                outcomes[(entry, who)] = await try_entry(checks, entry, who)
    assert len(outcomes) == len(MATRIX) * len(ACTORS)
    assert sum(outcomes.values()) > 60 and sum(not allowed for allowed in outcomes.values()) > 60
    wrong = []
    for (entry, who), allowed in sorted(outcomes.items()):
        expected = MATRIX[entry]
        should = True if expected == READ else who in expected
        if allowed != should:
            got, want = "allowed" if allowed else "refused", "allow" if should else "deny"
            wrong.append(f"{entry} by {who}: {got}, expected {want}")
    assert wrong == []


async def _claim(w: World, user: int, thread_id: int) -> bool:
    digest = next(
        m for m in w.emu.bot_messages(w.c.escalations) if f"esc:claim:{thread_id}" in str(m["components"])
    )
    reply = await w.emu.user_clicks_button(user, w.c.escalations, int(digest["id"]), f"esc:claim:{thread_id}")
    return not refused(reply)


async def _page(w: World, user: int, board: Any) -> bool:
    buttons = [b for row in board.components for b in row["components"]]
    if not buttons:
        return not refused(board)  # a single page has no buttons: reading it is the whole action
    reply = await w.emu.user_clicks_button(user, w.c.general, board.message_id, buttons[-1]["custom_id"])
    return not refused(reply)
