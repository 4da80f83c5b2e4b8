"""The weekly leaderboard post with a test clock: on time, exactly once, after downtime, in any zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services.weekly_posts import weekly_nonce
from storage.owed_repo import OwedRepo
from storage.points_repo import WeeklyPostRepo
from tests.e2e.conftest import World

LEADERBOARD = "Top helpers of the week"
QUIET = "A quiet week"


async def set_up_channel(w: World) -> None:
    await w.emu.user_runs_slash(
        w.c.admin,
        w.c.general,
        "unstuck config channel",
        options={"purpose": "leaderboard", "channel": w.c.general},
    )


async def grant(w: World, member: int, amount: int) -> None:
    await w.emu.user_runs_slash(
        w.c.sam,
        w.c.general,
        "points grant",
        options={"member": member, "amount": amount, "reason": "helping"},
    )


def posts(w: World) -> list[dict]:
    return [
        m
        for m in w.emu.bot_messages(w.c.general)
        if LEADERBOARD in str(m["embeds"]) or QUIET in str(m["embeds"])
    ]


async def tick(w: World) -> None:
    await w.bot.run_sweeps()  # it posts before it returns


async def test_the_weekly_post_goes_out_on_time_and_exactly_once(world: World) -> None:
    # The world starts on Monday 5 January 2026, 12:00 UTC: after that Monday's 09:00 slot.
    await set_up_channel(world)
    await grant(world, world.c.helen, 30)
    await grant(world, world.c.bob, 12)
    await tick(world)
    assert posts(world) == []  # that Monday's slot was before Unstuck joined the server
    world.clock.set(datetime(2026, 1, 12, 8, 59, tzinfo=UTC))
    await tick(world)
    assert posts(world) == []
    world.clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    await tick(world)
    await tick(world)
    [post] = posts(world)
    text = str(post["embeds"])
    assert "Jan 5–11" in text
    assert text.index(f"<@{world.c.helen}>") < text.index(f"<@{world.c.bob}>")
    assert "**30** points" in text
    pings = [p for p in world.emu.pings if str(p["message_id"]) == post["id"]]
    assert pings and pings[0]["users"] == set() and pings[0]["roles"] == set()
    await world.restart()
    world.clock.advance(timedelta(hours=3))
    await tick(world)
    assert len(posts(world)) == 1


async def test_a_post_missed_during_downtime_goes_out_at_start_up_if_under_24h_late(world: World) -> None:
    await set_up_channel(world)
    await grant(world, world.c.helen, 10)
    await world.stop()
    world.clock.set(datetime(2026, 1, 12, 20, 0, tzinfo=UTC))  # 11 h late
    await world.start()
    await world.emu.wait_for(lambda: len(posts(world)) == 1, what="catch-up post")
    await tick(world)
    assert len(posts(world)) == 1


async def test_a_post_more_than_a_day_late_is_skipped_not_sent(world: World) -> None:
    await set_up_channel(world)
    await grant(world, world.c.helen, 10)
    await world.stop()
    world.clock.set(datetime(2026, 1, 13, 10, 0, tzinfo=UTC))  # 25 h late
    await world.start()
    await tick(world)
    assert posts(world) == []
    async with world.bot.services.db.session() as session:
        row = await WeeklyPostRepo(session).get(world.c.guild, "2026-W02", "leaderboard")
    assert row is not None and row.status == "skipped" and "24 h" in row.note


async def test_the_schedule_follows_the_servers_time_zone_and_weekday(world: World) -> None:
    await set_up_channel(world)
    for key, value in [
        ("timezone", "Asia/Tokyo"),
        ("leaderboard.weekday", "friday"),
        ("leaderboard.time", "18:30"),
    ]:
        reply = await world.emu.user_runs_slash(
            world.c.admin, world.c.general, "unstuck config set", options={"key": key, "value": value}
        )
        assert "✅" in reply.text(), reply.text()
    await grant(world, world.c.helen, 10)
    # Friday 16 January 18:30 in Tokyo is 09:30 UTC.
    world.clock.set(datetime(2026, 1, 16, 9, 29, tzinfo=UTC))
    await tick(world)
    assert posts(world) == []
    world.clock.set(datetime(2026, 1, 16, 9, 30, tzinfo=UTC))
    await tick(world)
    [post] = posts(world)
    assert "Jan 5–11" in str(post["embeds"])


async def test_a_week_without_points_gets_an_encouraging_post_or_none(world: World) -> None:
    await set_up_channel(world)
    world.clock.set(datetime(2026, 1, 12, 9, 5, tzinfo=UTC))
    await tick(world)
    [post] = posts(world)
    assert QUIET in str(post["embeds"])
    await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        options={"key": "leaderboard.post_empty_week", "value": "false"},
    )
    world.clock.set(datetime(2026, 1, 19, 9, 5, tzinfo=UTC))
    await tick(world)
    assert len(posts(world)) == 1


MESSAGES = "POST /channels/{channel_id}/messages"


async def owed_post(w: World) -> tuple[str, str, str | None]:
    """The week's row and its owed post: (row status, owed status, refusal)."""
    async with w.bot.services.db.reading() as session:
        row = await WeeklyPostRepo(session).get(w.c.guild, "2026-W02", "leaderboard")
        owed = await OwedRepo(session).get(weekly_nonce(w.c.guild, "2026-W02"))
    assert row is not None and owed is not None
    return row.status, owed.status, owed.refusal


async def test_a_post_discord_answers_503_then_429_goes_out_once_while_the_bot_runs(world: World) -> None:
    await set_up_channel(world)
    await grant(world, world.c.helen, 30)
    world.emu.faults.fail(MESSAGES, channel_id=world.c.general, times=1)
    world.emu.faults.rate_limit(MESSAGES, retry_after=300, channel_id=world.c.general, times=1)
    world.clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    await tick(world)
    assert posts(world) == []  # Discord answered 503: the post stays owed, the bot runs on
    assert await owed_post(world) == ("posted", "pending", None)
    world.clock.advance(timedelta(minutes=1))  # the retry after the 503 meets the 429
    await tick(world)
    assert posts(world) == []
    assert world.emu.faults.injected == {"server_error": 1, "rate_limit": 1}
    world.clock.advance(timedelta(seconds=300))  # Discord's retry_after
    await tick(world)
    [post] = posts(world)
    assert "Jan 5–11" in str(post["embeds"]) and f"<@{world.c.helen}>" in str(post["embeds"])
    assert await owed_post(world) == ("posted", "done", None)
    world.clock.advance(timedelta(hours=2))
    await tick(world)
    assert len(posts(world)) == 1


async def test_a_post_whose_answer_was_lost_goes_out_once_across_a_restart(world: World) -> None:
    await set_up_channel(world)
    await grant(world, world.c.helen, 30)
    # Discord posts it, but the connection breaks before the bot hears so: the outcome is unknown.
    world.emu.faults.reset(MESSAGES, applied=True, channel_id=world.c.general, times=1)
    world.clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    await tick(world)
    assert len(posts(world)) == 1
    assert await owed_post(world) == ("posted", "pending", None)
    await world.stop()
    world.clock.advance(timedelta(hours=1))  # long after Discord forgot the nonce
    await world.start()
    await tick(world)
    assert len(posts(world)) == 1  # looked for in the channel, found, not posted again
    assert await owed_post(world) == ("posted", "done", None)


async def test_a_post_owed_when_the_bot_stopped_goes_out_once_after_the_restart(world: World) -> None:
    await set_up_channel(world)
    await grant(world, world.c.helen, 30)
    world.emu.faults.fail(MESSAGES, channel_id=world.c.general, times=1)
    world.clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    await tick(world)
    assert posts(world) == []
    await world.restart()  # nothing is lost with the process: the post is still owed ...
    world.clock.advance(timedelta(minutes=1))  # ... and goes out when its retry is due
    await tick(world)
    assert len(posts(world)) == 1
    world.clock.advance(timedelta(hours=2))
    await tick(world)
    assert len(posts(world)) == 1
    assert await owed_post(world) == ("posted", "done", None)
