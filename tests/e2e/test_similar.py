"""Similar solved threads end to end: suggestions in the welcome note, "This solved it", `/similar`."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.lifecycle import ThreadState
from bot.domain.permissions import Actor
from cogs.similar import owed_reuse_note
from tests.e2e.conftest import World
from tests.e2e.harness import eventually
from tests.e2e.test_help_threads import WELCOME, thread_state
from tests.e2e.test_solutions import CHECK, points_of, solved_with

SUGGESTIONS = "Solved threads that look like yours"
PANDAS = ("pandas read_csv FileNotFoundError", "pd.read_csv('data.csv') raises FileNotFoundError")
PANDAS_AGAIN = ("read_csv FileNotFoundError in pandas", "pandas can't find my csv file, FileNotFoundError")
PANDAS_ANSWER = "The path is relative to where you run Python <@{asker}>: use `Path(__file__).parent`"
UNRELATED = ("kubernetes ingress returns 404", "my nginx ingress controller answers 404 for every path")
# Other solved questions of the server: word statistics need a corpus, as on a real server.
BACKGROUND = [
    ("git push rejected non-fast-forward", "updates were rejected because the tip of your branch is behind"),
    ("docker container exits immediately", "my docker container stops right after docker run"),
    ("discord.py intents", "on_message never fires for my bot"),
    ("matplotlib legend overlaps the plot", "the legend covers my lines"),
]


async def post(w: World, text: tuple[str, str], asker: int | None = None) -> int:
    thread = await w.emu.user_posts_in_forum(asker or w.c.alice, w.c.forum, *text)
    thread_id = int(thread["id"])
    await w.emu.wait_for_bot_message(thread_id, contains=WELCOME)
    return thread_id


async def solve(
    w: World, text: tuple[str, str], answer: str = "Use a virtualenv", asker: int = 0, helper: int = 0
) -> tuple[int, int]:
    """Ask in the forum; Helen answers; the asker marks it with ✅. Returns (thread, answer) ids."""
    asker = asker or w.c.alice
    thread_id = await post(w, text, asker)
    message = await w.emu.user_says(helper or w.c.helen, thread_id, answer.format(asker=asker))
    answer_id = int(message["id"])
    await w.emu.user_reacts(asker, thread_id, answer_id, CHECK)
    await solved_with(w, thread_id, answer_id)
    return thread_id, answer_id


async def seed(w: World) -> None:
    for text in BACKGROUND:
        await solve(w, text, asker=w.c.mallory, helper=w.c.sam)


def welcome(w: World, thread_id: int) -> dict[str, Any]:
    return next(m for m in w.emu.bot_messages(thread_id) if WELCOME in str(m["embeds"]))


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [button for row in message.get("components", []) for button in row["components"]]


async def similar(w: World, text: str, who: int | None = None, where: int | None = None) -> Any:
    w.clock.advance(timedelta(seconds=15))  # one search's worth of `/similar`'s cooldown (test_abuse_limits)
    return await w.emu.user_runs_slash(
        who or w.c.bob, where or w.c.general, "similar", options={"text": text}
    )


async def test_a_new_thread_gets_the_right_suggestions_and_none_when_nothing_matches(world: World) -> None:
    await seed(world)
    earlier, answer = await solve(world, PANDAS, PANDAS_ANSWER)
    world.clock.advance(timedelta(days=2))

    new = await post(world, PANDAS_AGAIN, world.c.bob)
    note = welcome(world, new)
    assert len(note["embeds"]) == 2 and note["embeds"][1]["title"].endswith(SUGGESTIONS)
    [field] = note["embeds"][1]["fields"]
    assert field["name"] == f"1. {PANDAS[0]}"
    assert "The path is relative to where you run Python @member" in field["value"]
    assert "Solved 2 days ago" in field["value"]
    links = {b["label"]: b.get("url") or b["custom_id"] for b in buttons(note)}
    assert links == {
        "1 · Open thread": f"https://discord.com/channels/{world.c.guild}/{earlier}",
        "1 · Jump to the answer": f"https://discord.com/channels/{world.c.guild}/{earlier}/{answer}",
        "1 · This solved it": f"reuse:{new}:{earlier}",
    }

    unrelated = await post(world, UNRELATED, world.c.bob)
    assert len(welcome(world, unrelated)["embeds"]) == 1 and buttons(welcome(world, unrelated)) == []

    question = await world.emu.user_says(world.c.bob, world.c.text, "pandas read_csv gives FileNotFoundError")
    text_note = await world.emu.wait_for_bot_message(int(question["id"]), contains=WELCOME)
    assert PANDAS[0] in str(text_note["embeds"])  # all help channels by default

    await world.emu.user_runs_slash(
        world.c.admin,
        world.c.general,
        "unstuck config set",
        options={"key": "similar.scope", "value": "channel"},
    )
    question = await world.emu.user_says(
        world.c.bob, world.c.text, "pandas read_csv: FileNotFoundError again"
    )
    text_note = await world.emu.wait_for_bot_message(int(question["id"]), contains=WELCOME)
    assert len(text_note["embeds"]) == 1  # the match is in the forum, not in this channel


AVATAR = ("member.avatar_url raises AttributeError", "after updating discord.py `member.avatar_url` fails")
AVATAR_ANSWER = "It was renamed in 2.0: use `member.display_avatar.url`."


async def test_a_pasted_zero_width_space_and_an_identifier_still_get_the_suggestion(world: World) -> None:
    await seed(world)
    earlier, _ = await solve(world, AVATAR, AVATAR_ANSWER)

    async def searchable() -> bool:  # the index is refreshed once the solution is stored
        return str(earlier) in str((await similar(world, AVATAR[0])).components)

    await eventually(searchable, what="solved thread indexed")
    # pasted from a web page: a zero-width space and a soft hyphen inside the identifier
    pasted = ("avatar\u200b_url stopped working", "how do I get a member's avat\u00adar_url now?")
    new = await post(world, pasted, world.c.bob)
    note = welcome(world, new)
    assert len(note["embeds"]) == 2 and note["embeds"][1]["title"].endswith(SUGGESTIONS)
    assert note["embeds"][1]["fields"][0]["name"] == f"1. {AVATAR[0]}"
    assert f"reuse:{new}:{earlier}" in str(note["components"])


async def test_a_reuse_note_owed_when_the_bot_died_goes_out_at_start_up(world: World) -> None:
    await seed(world)
    earlier, _ = await solve(world, PANDAS, PANDAS_ANSWER)
    new = await post(world, PANDAS_AGAIN, world.c.bob)
    # The click's transaction commits, then the process dies before Discord hears of it.
    await world.bot.services.similar.reuse(new, earlier, Actor(world.c.bob), note=owed_reuse_note)
    await world.restart()
    closing = await world.emu.wait_for_bot_message(new, contains="Solved by an earlier thread")
    assert f"https://discord.com/channels/{world.c.guild}/{earlier}" in {b["url"] for b in buttons(closing)}
    await world.emu.wait_for(lambda: world.emu.channel(new)["thread_metadata"]["archived"], what="archived")
    await world.restart()
    notes = [m for m in world.emu.bot_messages(new) if "Solved by an earlier thread" in m["content"]]
    assert len(notes) == 1


async def test_this_solved_it_closes_the_thread_and_awards_reuse_once(world: World) -> None:
    await seed(world)
    earlier, _ = await solve(world, PANDAS, PANDAS_ANSWER)
    new = await post(world, PANDAS_AGAIN, world.c.bob)
    note_id = int(welcome(world, new)["id"])
    custom_id = f"reuse:{new}:{earlier}"
    assert await points_of(world, world.c.helen) == 10

    refused = await world.emu.user_clicks_button(world.c.mallory, new, note_id, custom_id)
    assert refused.ephemeral and "Only the person who asked, or staff" in refused.text()

    done = await world.emu.user_clicks_button(world.c.bob, new, note_id, custom_id)
    assert done.ephemeral
    assert f"Closed as solved by **{PANDAS[0]}**" in done.text()
    assert f"<@{world.c.helen}> earned 5 points (answer reused)" in done.text()
    await thread_state(world, new, ThreadState.CLOSED)
    closing = await world.emu.wait_for_bot_message(new, contains="Solved by an earlier thread")
    assert {b["url"] for b in buttons(closing)} >= {f"https://discord.com/channels/{world.c.guild}/{earlier}"}
    await world.emu.wait_for(lambda: world.emu.channel(new)["thread_metadata"]["archived"], what="archived")
    assert await points_of(world, world.c.helen) == 15

    again = await world.emu.user_clicks_button(world.c.bob, new, note_id, custom_id)
    assert "already closed as solved" in again.text()
    await world.restart()
    after_restart = await world.emu.user_clicks_button(world.c.sam, new, note_id, custom_id)
    assert "already closed as solved" in after_restart.text()
    assert await points_of(world, world.c.helen) == 15
    notes = [m for m in world.emu.bot_messages(new) if "Solved by an earlier thread" in m["content"]]
    assert len(notes) == 1

    third = await post(world, PANDAS_AGAIN, world.c.moderator)
    assert "helped 1 more person" in str(welcome(world, third)["embeds"])


async def test_slash_similar_searches_and_explains(world: World) -> None:
    await seed(world)
    earlier, answer = await solve(world, PANDAS, PANDAS_ANSWER)
    found = await similar(world, "pandas read_csv FileNotFoundError")
    assert found.ephemeral and PANDAS[0] in found.text()
    assert f"/{earlier}/{answer}" in str(found.components)
    assert "reuse:" not in str(found.components)  # run outside a help thread: nothing to close

    for odd in ("???", "🙂 🙂", "please thanks", "<@123>"):
        reply = await similar(world, odd)
        assert reply.ephemeral and "meaningful words" in reply.text()
    huge = await similar(world, ("pandas read_csv FileNotFoundError " * 200)[:6000])
    assert PANDAS[0] in huge.text()
    nothing = await similar(world, "kubernetes ingress controller")
    assert "No solved thread matches" in nothing.text()

    mine = await post(world, UNRELATED, world.c.bob)  # in a help thread, a result can close it
    inside = await similar(world, "read_csv FileNotFoundError", where=mine)
    assert f"reuse:{mine}:{earlier}" in str(inside.components)
    clicked = await world.emu.user_clicks_button(
        world.c.bob, mine, inside.message_id, f"reuse:{mine}:{earlier}"
    )
    assert "Closed as solved" in clicked.text()
    await thread_state(world, mine, ThreadState.CLOSED)


async def test_the_index_follows_solve_unsolve_edit_and_delete(world: World) -> None:
    await seed(world)
    earlier, answer = await solve(world, PANDAS, PANDAS_ANSWER)

    async def finds(text: str) -> bool:
        return str(earlier) in str((await similar(world, text)).components)

    assert await finds("pandas read_csv FileNotFoundError")
    await world.emu.user_runs_slash(world.c.alice, earlier, "unsolve")
    await eventually(lambda: _not(finds("pandas read_csv FileNotFoundError")), what="unsolved out of index")
    await world.emu.user_uses_context_menu(world.c.alice, earlier, "Mark as solution", answer)
    await eventually(lambda: finds("pandas read_csv FileNotFoundError"), what="solved again")

    await world.emu.user_edits(world.c.alice, earlier, earlier, "seaborn heatmap colours are all wrong")
    await world.emu.user_edits(world.c.helen, earlier, answer, "Pass cmap='viridis' to sns.heatmap")
    await eventually(lambda: finds("seaborn heatmap colours wrong pandas"), what="edited question indexed")

    async def quotes_new_answer() -> bool:  # the answer's edit is its own event: it may land later
        reply = await similar(world, "seaborn heatmap colours wrong pandas")
        return "Pass cmap='viridis' to sns.heatmap" in reply.text()

    await eventually(quotes_new_answer, what="edited answer quoted")

    await world.emu.delete_channel(earlier)
    await eventually(lambda: _not(finds("seaborn heatmap colours wrong pandas")), what="deleted out of index")


async def _not(check: Any) -> bool:
    return not await check


async def test_titles_only_mode_matches_titles_and_says_so(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(world)
    earlier, _ = await solve(world, ("pandas read_csv FileNotFoundError", "some details"), PANDAS_ANSWER)
    world.runner.env["UNSTUCK_INTENTS__MESSAGE_CONTENT"] = "false"
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        await world.restart()
    assert [r.getMessage() for r in caplog.records if "titles only" in r.getMessage()] != []
    assert len([r for r in caplog.records if "message content intent is off" in r.getMessage()]) == 1
    assert world.bot.services.similar.titles_only

    new = await post(world, ("read_csv FileNotFoundError pandas", "(the bot cannot read this)"), world.c.bob)
    note = welcome(world, new)
    assert PANDAS[0] in str(note["embeds"])
    thread = await world.bot.services.threads.get(new)
    assert thread.question == ""  # content is blank without the intent
    assert f"reuse:{new}:{earlier}" in str(note["components"])
    weak = await post(world, ("pandas question", "(blank)"), world.c.bob)
    assert len(welcome(world, weak)["embeds"]) == 1  # stricter titles-only threshold

    shown = await world.emu.user_runs_slash(world.c.admin, world.c.general, "unstuck config show")
    assert "titles only" in shown.text()
