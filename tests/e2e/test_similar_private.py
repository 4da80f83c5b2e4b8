"""Private stays private, end to end: a staff-only help forum's threads are suggested, found and
named in escalation digests only where everyone reading can view that forum."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from cogs.escalation import PRIVATE_TITLE
from emulator.permissions import Perm
from tests.e2e.conftest import World
from tests.e2e.test_escalation import set_escalation_channel
from tests.e2e.test_help_threads import WELCOME
from tests.e2e.test_similar import PANDAS, PANDAS_AGAIN, PANDAS_ANSWER, buttons, seed, similar, solve, welcome
from tests.e2e.test_solutions import CHECK, solved_with

# The staff-only thread matches every pandas question below well: if the filter let it through
# anywhere, it would be shown there.
PUBLIC_PANDAS = ("read_csv cannot find the csv file", "pandas says FileNotFoundError when I open data")
QUERY = "pandas read_csv FileNotFoundError"
VIEW = Perm.VIEW_CHANNEL


@dataclass
class Private:
    forum: int  # the staff-only help forum
    staff_thread: int  # solved, in the staff forum
    public_thread: int  # solved, in the public forum
    sue: int  # a second staff member


async def staff_forum(w: World) -> int:
    """A help forum only staff (and the bot) can view, set up the way a moderator does it."""
    forum = w.emu.create_forum_channel(w.c.guild, "staff-help", tags=["Solved", "Unanswered"])
    w.emu.set_channel_overwrite(forum, w.c.guild, deny=VIEW)  # @everyone
    w.emu.set_channel_overwrite(forum, w.c.staff_role, allow=VIEW)
    w.emu.set_channel_overwrite(forum, w.emu.bot_role(w.c.guild), allow=VIEW)
    await w.emu.user_runs_slash(
        w.c.admin, w.c.general, "unstuck config add-help-channel", options={"channel": forum}
    )
    return forum


@pytest.fixture
async def private(world: World) -> Private:
    w = world
    sue = w.emu.create_user("sue")
    w.emu.add_member(w.c.guild, sue, roles=[w.c.staff_role])
    forum = await staff_forum(w)
    await seed(w)
    public_thread, _ = await solve(w, PUBLIC_PANDAS)
    # Sam asks in the staff forum, Sue answers, Sam marks it.
    staff_thread = await post_question(w, PANDAS, w.c.sam, forum)
    answer = await w.emu.user_says(sue, staff_thread, PANDAS_ANSWER.format(asker=w.c.sam))
    await w.emu.user_reacts(w.c.sam, staff_thread, int(answer["id"]), CHECK)
    await solved_with(w, staff_thread, int(answer["id"]))
    return Private(forum, staff_thread, public_thread, sue)


async def post_question(world: World, text: tuple[str, str], asker: int, forum: int | None = None) -> int:
    thread = await world.emu.user_posts_in_forum(asker, forum or world.c.forum, *text)
    thread_id = int(thread["id"])
    await world.emu.wait_for_bot_message(thread_id, contains=WELCOME)
    return thread_id


def shows(reply_or_note: object, thread_id: int) -> bool:
    """Whether a reply or a message names the thread anywhere (a link, a button, its id)."""
    return str(thread_id) in str(reply_or_note)


async def test_a_members_similar_never_shows_the_staff_thread_and_staffs_does(
    world: World, private: Private
) -> None:
    member = await similar(world, QUERY, who=world.c.bob)
    assert PUBLIC_PANDAS[0] in member.text()
    assert PANDAS[0] not in member.text() and not shows(member.components, private.staff_thread)

    staff = await similar(world, QUERY, who=world.c.sam)
    assert staff.text().index(PANDAS[0]) < staff.text().index(PUBLIC_PANDAS[0])
    assert shows(staff.components, private.staff_thread)

    # Helpers are not staff: the forum's overwrites say nothing about their role.
    helper = await similar(world, QUERY, who=world.c.helen)
    assert PANDAS[0] not in helper.text()


async def test_a_welcome_note_in_a_public_help_channel_never_suggests_it(
    world: World, private: Private
) -> None:
    new = await post_question(world, PANDAS_AGAIN, world.c.bob, world.c.forum)
    note = welcome(world, new)
    assert PUBLIC_PANDAS[0] in str(note["embeds"]) and PANDAS[0] not in str(note["embeds"])
    assert not shows(note, private.staff_thread)

    # Asked by staff, it is still a public thread: everyone reading it must be able to view the forum.
    by_staff = await post_question(world, PANDAS_AGAIN, private.sue)
    assert not shows(welcome(world, by_staff), private.staff_thread)

    question = await world.emu.user_says(world.c.bob, world.c.text, "pandas read_csv FileNotFoundError again")
    text_note = await world.emu.wait_for_bot_message(int(question["id"]), contains=WELCOME)
    assert not shows(text_note, private.staff_thread)


async def test_a_new_question_in_the_staff_forum_is_suggested_the_staff_thread(
    world: World, private: Private
) -> None:
    new = await post_question(world, PANDAS_AGAIN, private.sue, private.forum)
    note = welcome(world, new)
    titles = [field["name"][3:] for field in note["embeds"][1]["fields"]]
    assert PANDAS[0] in titles and PUBLIC_PANDAS[0] in titles
    reuse = {b["custom_id"] for b in buttons(note) if "custom_id" in b}
    assert f"reuse:{new}:{private.staff_thread}" in reuse
    assert f"reuse:{new}:{private.public_thread}" in reuse  # staff can view the public forum too


async def test_in_a_public_thread_staff_see_the_staff_thread_but_cannot_close_with_it(
    world: World, private: Private
) -> None:
    mine = await post_question(world, ("kubernetes ingress returns 404", "nginx ingress 404"), world.c.bob)
    inside = await similar(world, QUERY, who=world.c.sam, where=mine)
    assert inside.ephemeral and PANDAS[0] in inside.text()  # only the staff member sees this reply
    offered = str(inside.components)
    assert f"reuse:{mine}:{private.public_thread}" in offered
    assert f"reuse:{mine}:{private.staff_thread}" not in offered  # its note would name it in public


async def test_who_sees_follows_member_overwrites_roles_and_changes_at_once(
    world: World, private: Private
) -> None:
    w = world
    assert PANDAS[0] not in (await similar(w, QUERY, who=w.c.mallory)).text()
    async with w.handled("guild_channel_update"):
        w.emu.set_channel_overwrite(private.forum, w.c.mallory, allow=VIEW)  # let one member in
    assert PANDAS[0] in (await similar(w, QUERY, who=w.c.mallory)).text()
    assert PANDAS[0] not in (await similar(w, QUERY, who=w.c.bob)).text()

    # A member overwrite that denies beats the staff role's allow.
    async with w.handled("guild_channel_update"):
        w.emu.set_channel_overwrite(private.forum, private.sue, deny=VIEW)
    assert PANDAS[0] not in (await similar(w, QUERY, who=private.sue)).text()
    assert PANDAS[0] in (await similar(w, QUERY, who=w.c.sam)).text()

    # Given the staff role, a member finds the staff thread from their next search.
    assert PANDAS[0] not in (await similar(w, QUERY, who=w.c.alice)).text()
    w.emu.add_member(w.c.guild, w.c.alice, roles=[w.c.staff_role])
    assert PANDAS[0] in (await similar(w, QUERY, who=w.c.alice)).text()

    # The public forum made private later: its threads disappear from members' searches at once.
    async with w.handled("guild_channel_update"):
        w.emu.set_channel_overwrite(w.c.forum, w.c.guild, deny=VIEW)
    assert "No solved thread matches" in (await similar(w, QUERY, who=w.c.bob)).text()
    assert PUBLIC_PANDAS[0] in (await similar(w, QUERY, who=w.c.admin)).text()  # the owner sees all


async def test_an_escalation_digest_keeps_a_staff_only_questions_title_out_of_a_public_channel(
    world: World,
) -> None:
    w = world
    forum = await staff_forum(w)
    await set_escalation_channel(w)
    secret = "Token leaked in the deploy logs"
    hidden = await post_question(w, (secret, "the CI printed our token"), w.c.sam, forum)
    shown = await post_question(w, ("pip cannot find my package", "pip install fails"), w.c.bob)
    w.clock.advance(timedelta(hours=4))
    await w.bot.run_sweeps()
    [digest] = [m for m in w.emu.bot_messages(w.c.escalations) if "Waiting for help" in str(m["embeds"])]
    assert secret not in str(digest) and PRIVATE_TITLE in str(digest["embeds"])
    assert "pip cannot find my package" in str(digest["embeds"])
    assert f"esc:claim:{hidden}" in str(digest["components"]) and f"esc:claim:{shown}" in str(digest)

    # Helen, a helper who cannot open the staff forum, cannot take its question off the queue.
    refused = await w.emu.user_clicks_button(
        w.c.helen, w.c.escalations, int(digest["id"]), f"esc:claim:{hidden}"
    )
    await w.emu.wait_for(lambda: "can't view" in str(refused.followups), what="the private refusal")
    taken = await w.emu.user_clicks_button(
        w.c.helen, w.c.escalations, int(digest["id"]), f"esc:claim:{shown}"
    )
    await w.emu.wait_for(lambda: "You claimed" in str(taken.followups), what="the claim confirmation")
    await w.emu.wait_for(
        lambda: f"Claimed by <@{w.c.helen}>" in str(w.emu.message(w.c.escalations, int(digest["id"]))),
        what="the digest edit the claim owes",
    )
    edited = str(w.emu.message(w.c.escalations, int(digest["id"]))["embeds"])
    assert edited.count(f"Claimed by <@{w.c.helen}>") == 1  # the public question only

    # The escalation channel made staff-only too: its readers may see the title from now on.
    for target, allow, deny in (
        (w.c.guild, 0, VIEW),
        (w.c.staff_role, VIEW, 0),
        (w.emu.bot_role(w.c.guild), VIEW, 0),
    ):
        async with w.handled("guild_channel_update"):
            w.emu.set_channel_overwrite(w.c.escalations, target, allow=allow, deny=deny)
    w.clock.advance(timedelta(hours=20))
    await w.bot.run_sweeps()
    later = [m for m in w.emu.bot_messages(w.c.escalations) if "Waiting for help" in str(m["embeds"])]
    assert secret in str(later[-1]["embeds"])


async def test_a_member_overwrite_counts_without_the_members_intent(world: World, private: Private) -> None:
    # Without the intent discord.py caches no members: an overwrite's target is then a bare
    # Object typed as a user, and must still count as the member's, not as a role's.
    world.runner.env["UNSTUCK_INTENTS__MEMBERS"] = "false"
    await world.restart()
    assert world.bot.get_guild(world.c.guild).get_member(world.c.mallory) is None
    async with world.handled("guild_channel_update"):
        world.emu.set_channel_overwrite(private.forum, world.c.mallory, allow=VIEW)
    assert PANDAS[0] in (await similar(world, QUERY, who=world.c.mallory)).text()
    assert PANDAS[0] not in (await similar(world, QUERY, who=world.c.bob)).text()


async def test_the_escalation_queue_lists_to_each_staff_member_only_what_they_can_view(world: World) -> None:
    w = world
    forum = await staff_forum(w)  # the Maintainers role may view it
    mods = w.emu.create_role(w.c.guild, "Moderators on duty")
    await w.emu.user_runs_slash(
        w.c.admin, w.c.general, "unstuck config add-role", options={"role": mods, "kind": "staff"}
    )
    olga = w.emu.create_user("olga")
    w.emu.add_member(w.c.guild, olga, roles=[mods])  # staff for Unstuck, but not let into the forum
    secret = "Token leaked in the deploy logs"
    hidden = await post_question(w, (secret, "the CI printed our token"), w.c.sam, forum)
    shown = await post_question(w, ("pip cannot find my package", "pip install fails"), w.c.bob)
    w.clock.advance(timedelta(hours=1))

    sam = await w.emu.user_runs_slash(w.c.sam, w.c.general, "escalations")
    assert secret in sam.text() and shows(sam, hidden) and "can't view" not in sam.text()
    assert "2 questions waiting for an answer" in sam.text()

    olgas = await w.emu.user_runs_slash(olga, w.c.general, "escalations")
    assert olgas.ephemeral and "pip cannot find my package" in olgas.text() and shows(olgas, shown)
    assert secret not in olgas.text() and not shows(olgas, hidden) and str(forum) not in str(olgas)
    assert "and 1 in a channel you can't view" in olgas.text()
    assert "1 question waiting, and 1 in a channel you can't view" in olgas.text()  # tier 1's count

    # Let into the forum by a member overwrite, she sees it from her next look; Sam, denied, no more.
    async with w.handled("guild_channel_update"):
        w.emu.set_channel_overwrite(forum, olga, allow=VIEW)
    async with w.handled("guild_channel_update"):
        w.emu.set_channel_overwrite(forum, w.c.sam, deny=VIEW)
    assert secret in (await w.emu.user_runs_slash(olga, w.c.general, "escalations")).text()
    sams = await w.emu.user_runs_slash(w.c.sam, w.c.general, "escalations")
    assert secret not in sams.text() and not shows(sams, hidden)
    assert secret in (await w.emu.user_runs_slash(w.c.admin, w.c.general, "escalations")).text()  # owner
