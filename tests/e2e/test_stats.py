"""`/stats` against a scripted history with known answers, its visibility, and the weekly health report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import World
from tests.e2e.test_escalation import ask, set_escalation_channel, tick

REPORT = "Help-channel health, week of"


async def answer(w: World, thread: int, who: int, after: timedelta, text: str = "Try this.") -> int:
    w.clock.advance(after)
    async with w.handled("message", lambda m: m.channel.id == thread and m.author.id == who):
        message = await w.emu.user_says(who, thread, text)
    return int(message["id"])


async def scripted_history(w: World) -> None:
    """Three questions: one answered in 10 min and solved, one answered in 2 h, one never answered
    (escalated to both tiers, then dormant)."""
    await set_escalation_channel(w)
    first = await ask(w, "Solved quickly")
    reply = await answer(w, first, w.c.helen, timedelta(minutes=10))
    await w.emu.user_reacts(w.c.alice, first, reply, "✅")
    await w.emu.wait_for_bot_message(first, contains="Solved!")
    w.clock.advance(timedelta(minutes=50))
    second = await ask(w, "Answered slowly", who=w.c.bob)
    await answer(w, second, w.c.sam, timedelta(hours=2))
    await ask(w, "Nobody knows")
    for wait in (timedelta(hours=4), timedelta(hours=20), timedelta(hours=48)):
        w.clock.advance(wait)
        await tick(w)


async def test_stats_show_the_known_figures_of_a_scripted_history(world: World) -> None:
    await scripted_history(world)
    reply = await world.emu.user_runs_slash(world.c.sam, world.c.general, "stats", options={"period": "7d"})
    text = reply.text()
    assert reply.ephemeral
    assert "Questions asked\n**3**" in text
    assert "**67%** (2)\nfirst reply: median 1 h 5 min, p90 1 h 49 min" in text
    assert "Solved\n**33%** (1)" in text
    assert "tier 1: **33%** (1)\ntier 2: **33%** (1)" in text
    assert "Went dormant unanswered\n**33%** (1)" in text
    assert f"<@{world.c.helen}> — 1 first reply" in text and f"<@{world.c.sam}> — 1 first reply" in text
    only_text = await world.emu.user_runs_slash(
        world.c.sam, world.c.general, "stats", options={"period": "all", "channel": world.c.text}
    )
    assert "Questions asked\n**0**" in only_text.text()
    world.clock.advance(timedelta(days=8))
    later = await world.emu.user_runs_slash(world.c.sam, world.c.general, "stats")
    assert "Questions asked\n**0**" in later.text()
    month = await world.emu.user_runs_slash(world.c.sam, world.c.general, "stats", options={"period": "30d"})
    assert "Questions asked\n**3**" in month.text()


async def test_stats_are_for_staff_unless_the_server_opens_them(world: World) -> None:
    refused = await world.emu.user_runs_slash(world.c.mallory, world.c.general, "stats")
    assert refused.ephemeral and "only staff" in refused.text()
    await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        options={"key": "stats.visibility", "value": "everyone"},
    )
    allowed = await world.emu.user_runs_slash(world.c.mallory, world.c.general, "stats")
    assert "Questions asked" in allowed.text()


def reports(w: World) -> list[dict[str, object]]:
    return [m for m in w.emu.bot_messages(w.c.escalations) if REPORT in str(m["embeds"])]


async def test_the_weekly_health_report_goes_to_maintainers_exactly_once(world: World) -> None:
    await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        options={"key": "leaderboard.health_report", "value": "true"},
    )
    await scripted_history(world)  # Monday 5 to Thursday 8 January
    world.clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    await tick(world)
    await tick(world)
    [report] = reports(world)
    assert "Jan 5–11" in str(report["embeds"]) and "**3**" in str(report["embeds"])
    await world.restart()
    world.clock.advance(timedelta(hours=1))
    await tick(world)
    assert len(reports(world)) == 1
