"""Escalation end to end with a test clock: tiers, digests, claims, quiet hours, `/escalate`, restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.lifecycle import ThreadState
from emulator import InteractionReply
from tests.e2e.conftest import World
from tests.e2e.test_help_threads import thread_state

DIGEST = "Waiting for help"


async def set_escalation_channel(w: World) -> None:
    reply = await w.emu.user_runs_slash(
        w.c.admin,
        w.c.general,
        "unstuck config channel",
        options={"purpose": "escalation", "channel": w.c.escalations},
    )
    assert "Escalation posts go to" in reply.text()


async def ask(w: World, title: str, who: int | None = None, tags: list[str] | None = None) -> int:
    thread = await w.emu.user_posts_in_forum(who or w.c.alice, w.c.forum, title, f"{title}?", tags=tags)
    thread_id = int(thread["id"])
    await w.emu.wait_for_bot_message(thread_id, contains="Welcome")
    return thread_id


async def tick(w: World) -> None:
    await w.bot.run_sweeps()  # it posts (or edits) before it returns


def digests(w: World) -> list[dict[str, Any]]:
    return [m for m in w.emu.bot_messages(w.c.escalations) if DIGEST in str(m["embeds"])]


def listed(message: dict[str, Any]) -> str:
    return str(message["embeds"])


def claim_ids(message: dict[str, Any]) -> list[str]:
    return [
        component["custom_id"]
        for row in message.get("components", [])
        for component in row["components"]
        if component.get("custom_id", "").startswith("esc:claim:")
    ]


def confirmed(reply: InteractionReply) -> bool:
    """The private "You claimed …" follow-up arrived (it comes after the digest edit)."""
    return any("You claimed" in followup["content"] for followup in reply.followups)


def pings_of(w: World, message: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in w.emu.pings if str(p["message_id"]) == message["id"]]


async def test_tiers_fire_at_their_times_with_one_digest_each(world: World) -> None:
    await set_escalation_channel(world)
    thread = await ask(world, "Segfault in my C extension")
    world.clock.advance(timedelta(hours=3, minutes=59))
    await tick(world)
    assert digests(world) == []
    world.clock.advance(timedelta(minutes=1))
    await tick(world)
    [first] = digests(world)
    assert "Segfault in my C extension" in listed(first)
    assert f"/{world.c.guild}/{thread}" in listed(first)
    assert "waiting 4 h" in listed(first)
    assert f"<#{world.c.forum}>" in listed(first)
    assert f"<@&{world.c.helper_role}>" in first["content"]
    [ping] = pings_of(world, first)
    assert ping["roles"] == {world.c.helper_role} and ping["users"] == set() and not ping["everyone"]

    world.clock.advance(timedelta(hours=19, minutes=59))
    await tick(world)
    assert len(digests(world)) == 1
    world.clock.advance(timedelta(minutes=1))
    await tick(world)
    _first, second = digests(world)
    assert "tier 2" in listed(second) and "waiting 1 day" in listed(second)
    [ping] = pings_of(world, second)
    assert ping["roles"] == {world.c.staff_role} and ping["users"] == set()
    world.clock.advance(timedelta(days=2))
    await tick(world)
    assert len(digests(world)) == 2  # each tier once, never again


async def test_an_answered_thread_never_escalates(world: World) -> None:
    await set_escalation_channel(world)
    thread = await ask(world, "How do I pin a dependency?")
    world.clock.advance(timedelta(hours=1))
    await world.emu.user_says(world.c.bob, thread, "Use a lock file.")
    await thread_state(world, thread, ThreadState.ANSWERED)
    world.clock.advance(timedelta(days=2))
    await tick(world)
    assert digests(world) == []


async def test_one_digest_lists_several_threads_and_pings_once(world: World) -> None:
    await set_escalation_channel(world)
    titles = [f"Question number {n}" for n in range(3)]
    for title in titles:
        await ask(world, title, tags=["Python"])
        world.clock.advance(timedelta(minutes=10))
    world.clock.advance(timedelta(hours=4))
    await tick(world)
    [digest] = digests(world)
    for title in titles:
        assert title in listed(digest)
    assert "Python" in listed(digest)  # forum tags are shown
    assert len(claim_ids(digest)) == 3
    assert len(pings_of(world, digest)) == 1


async def test_a_big_digest_is_split_but_pings_once(world: World) -> None:
    await set_escalation_channel(world)
    for n in range(23):
        await ask(world, f"Many questions {n}")
    world.clock.advance(timedelta(hours=4))
    await tick(world)
    parts = digests(world)
    assert len(parts) == 3
    assert [len(claim_ids(p)) for p in parts] == [10, 10, 3]
    role_pings = [p for m in parts for p in pings_of(world, m) if p["roles"]]
    assert len(role_pings) == 1
    assert all(f"<@&{world.c.helper_role}>" not in m["content"] for m in parts[1:])


async def test_claiming_takes_the_thread_off_the_queue_even_after_a_restart(world: World) -> None:
    await set_escalation_channel(world)
    thread = await ask(world, "Claim me")
    other = await ask(world, "Leave me")
    world.clock.advance(timedelta(hours=4))
    await tick(world)
    [digest] = digests(world)
    await world.restart()
    refused = await world.emu.user_clicks_button(
        world.c.mallory, world.c.escalations, int(digest["id"]), f"esc:claim:{thread}"
    )
    assert refused.ephemeral and "Only helpers and staff" in refused.text()
    reply = await world.emu.user_clicks_button(
        world.c.helen, world.c.escalations, int(digest["id"]), f"esc:claim:{thread}"
    )
    await world.emu.wait_for(
        lambda: (
            f"Claimed by <@{world.c.helen}>"
            in listed(world.emu.message(world.c.escalations, int(digest["id"])))
        ),
        what="the digest to show the claim",
    )
    await world.emu.wait_for(lambda: confirmed(reply), what="the claim confirmation")
    again = await world.emu.user_clicks_button(
        world.c.sam, world.c.escalations, int(digest["id"]), f"esc:claim:{other}"
    )
    await world.emu.wait_for(lambda: confirmed(again), what="the claim confirmation")
    world.clock.advance(timedelta(days=1))
    await tick(world)
    assert len(digests(world)) == 1  # both claimed: neither reaches tier 2


async def test_quiet_hours_hold_deliveries_until_they_end(world: World) -> None:
    await set_escalation_channel(world)
    reply = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config quiet-hours",
        options={"start": "22:00", "end": "07:00"},
    )
    assert "22:00 to 07:00" in reply.text()
    world.clock.set(datetime(2026, 1, 5, 19, 0, tzinfo=UTC))
    await ask(world, "Late night question")
    world.clock.set(datetime(2026, 1, 5, 23, 30, tzinfo=UTC))  # due at 23:00, inside quiet hours
    await tick(world)
    assert digests(world) == []
    world.clock.set(datetime(2026, 1, 6, 6, 59, tzinfo=UTC))
    await tick(world)
    assert digests(world) == []
    world.clock.set(datetime(2026, 1, 6, 7, 0, tzinfo=UTC))
    await tick(world)
    assert len(digests(world)) == 1


async def test_escalate_too_early_in_time_and_twice(world: World) -> None:
    await set_escalation_channel(world)
    thread = await ask(world, "Please help soon")
    world.clock.advance(timedelta(minutes=10))
    early = await world.emu.user_runs_slash(world.c.alice, thread, "escalate")
    assert early.ephemeral and "you can escalate <t:" in early.text()
    stranger = await world.emu.user_runs_slash(world.c.bob, thread, "escalate")
    assert stranger.ephemeral and "Only the person who asked" in stranger.text()
    world.clock.advance(timedelta(minutes=20))
    done = await world.emu.user_runs_slash(world.c.alice, thread, "escalate")
    assert not done.ephemeral and "it goes to the helpers with the next escalation digest" in done.text()
    in_half_a_minute = int((world.clock.now() + timedelta(seconds=30)).timestamp())
    assert f"<#{world.c.escalations}>, <t:{in_half_a_minute}:R>." in done.text()
    assert digests(world) == []  # the regular sweep sends it
    await tick(world)
    [digest] = digests(world)
    assert "Please help soon" in listed(digest)
    # The headline says how long the asker really waited, not the tier's 4 h.
    assert "has been waiting for 30 min without an answer" in digest["content"]
    twice = await world.emu.user_runs_slash(world.c.alice, thread, "escalate")
    assert twice.ephemeral and "once" in twice.text()
    world.clock.advance(timedelta(hours=4))
    await tick(world)
    assert len(digests(world)) == 1  # tier 1 is not sent again at its normal time


async def test_a_restart_while_deliveries_are_due_delivers_exactly_once(world: World) -> None:
    await set_escalation_channel(world)
    await ask(world, "Asked before the outage")
    await world.stop()
    world.clock.advance(timedelta(hours=5))
    await world.start()
    await tick(world)
    await world.restart()
    await tick(world)
    assert len(digests(world)) == 1


async def test_a_sweep_run_twice_sends_nothing_twice(world: World) -> None:
    await set_escalation_channel(world)
    await ask(world, "Only once please")
    world.clock.advance(timedelta(hours=4))
    escalation, port = world.bot.services.escalation, world.bot.get_cog("Escalation").port
    assert await escalation.sweep(port, force=True) == 1
    assert await escalation.sweep(port, force=True) == 0
    assert len(digests(world)) == 1


async def test_staff_see_the_queue_and_admins_are_told_what_is_wrong(world: World) -> None:
    thread = await ask(world, "Waiting in the queue")
    world.clock.advance(timedelta(hours=5))
    await tick(world)
    assert digests(world) == []  # no escalation channel yet: held back, not lost
    refused = await world.emu.user_runs_slash(world.c.mallory, world.c.general, "escalations")
    assert refused.ephemeral and "only staff" in refused.text()
    queue = await world.emu.user_runs_slash(world.c.sam, world.c.general, "escalations")
    text = queue.text()
    assert "Waiting in the queue" in text and "waiting 5 h" in text
    assert "escalation channel, which is not set" in text
    await set_escalation_channel(world)
    await tick(world)
    [digest] = digests(world)
    assert str(thread) in listed(digest)
    queue = await world.emu.user_runs_slash(world.c.sam, world.c.general, "escalations")
    assert "tier 2 <t:" in queue.text()


async def test_admins_edit_tiers_with_clear_errors(world: World) -> None:
    await set_escalation_channel(world)
    bad_order = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config tier-set",
        options={"tier": 2, "after": "2h", "who": "staff"},
    )
    assert bad_order.ephemeral and "must wait longer than tier 1 (4 h)" in bad_order.text()
    bad_duration = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config tier-set",
        options={"tier": 1, "after": "soon", "who": "helper"},
    )
    assert "`soon` is not a duration" in bad_duration.text()
    too_far = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config tier-set",
        options={"tier": 4, "after": "2d", "who": "staff"},
    )
    assert "pick a tier from 1 to 3" in too_far.text()
    ok = await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config tier-set",
        options={"tier": 1, "after": "1h", "role": world.c.staff_role, "channel": world.c.general},
    )
    assert "1. after 1 h" in ok.text()
    removed = await world.emu.user_runs_slash(
        world.c.admin, world.c.general, "unstuck config tier-remove", options={"tier": 2}
    )
    assert "2. after" not in removed.text()
    last = await world.emu.user_runs_slash(
        world.c.admin, world.c.general, "unstuck config tier-remove", options={"tier": 1}
    )
    assert "at least one tier" in last.text()
    await ask(world, "Goes to general after an hour")
    world.clock.advance(timedelta(hours=1))
    await tick(world)
    [digest] = [m for m in world.emu.bot_messages(world.c.general) if DIGEST in str(m["embeds"])]
    assert pings_of(world, digest)[0]["roles"] == {world.c.staff_role}


async def test_a_missing_role_or_deleted_channel_holds_the_tier_without_breaking_the_sweep(
    world: World,
) -> None:
    await set_escalation_channel(world)
    missing_role = 123456789012345678
    tiers = f'[{{"after": "1h", "role": "{missing_role}"}}, {{"after": "2h", "role": "staff"}}]'
    await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        options={"key": "escalation.tiers", "value": tiers},
    )
    await ask(world, "Nobody to ping")
    world.clock.advance(timedelta(hours=1))
    await tick(world)
    assert digests(world) == []
    queue = await world.emu.user_runs_slash(world.c.sam, world.c.general, "escalations")
    assert f"the role it pings (id {missing_role}) no longer exists" in queue.text()
    world.clock.advance(timedelta(hours=1))
    await tick(world)
    [digest] = digests(world)  # tier 2 still works
    assert "tier 2" in listed(digest)
    await world.emu.delete_channel(world.c.escalations)
    await ask(world, "Asked after the channel was deleted")
    world.clock.advance(timedelta(hours=3))
    await tick(world)
    queue = await world.emu.user_runs_slash(world.c.sam, world.c.general, "escalations")
    assert "no longer exists" in queue.text() and "Asked after the channel was deleted" in queue.text()
