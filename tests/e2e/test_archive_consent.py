"""The public archive's consent on Discord: admins publish a channel with a preview, notes say so,
members choose for themselves with `/privacy`, and what is deleted or withdrawn leaves the site."""

from __future__ import annotations

from pathlib import Path

from bot.archive.build import build_archive
from cogs.archive import PUBLISHED_NOTE
from tests.e2e.conftest import World
from tests.e2e.harness import eventually
from tests.e2e.test_solutions import CHECK, solved_with

QUESTION = ("pandas read_csv fails on umlauts", "UnicodeDecodeError when reading my file")
ANSWER = "Pass encoding='latin-1' to read_csv, it is a zebrafish trick"


async def enable(w: World, who: int | None = None, **options: object) -> object:
    return await w.emu.user_runs_slash(
        who or w.c.admin, w.c.general, "unstuck archive enable", options={"channel": w.c.forum, **options}
    )


async def solved_thread(w: World) -> tuple[int, int]:
    """Alice asks in the forum, Bob remarks, Helen answers, Alice marks it."""
    post = await w.emu.user_posts_in_forum(w.c.alice, w.c.forum, *QUESTION, tags=["Python"])
    thread_id = int(post["id"])
    await w.emu.wait_for_bot_message(thread_id, contains="Welcome")
    async with w.handled("message", lambda m: m.author.id == w.c.bob):
        await w.emu.user_says(w.c.bob, thread_id, "Which pandas version do you use?")
    async with w.handled("message", lambda m: m.author.id == w.c.helen):
        answer = await w.emu.user_says(w.c.helen, thread_id, ANSWER)
    await w.emu.user_reacts(w.c.alice, thread_id, int(answer["id"]), CHECK)
    await solved_with(w, thread_id, int(answer["id"]))
    return thread_id, int(answer["id"])


def site_text(out: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())


async def test_admins_publish_a_channel_after_a_private_preview_and_the_notes_say_so(
    world: World, tmp_path: Path
) -> None:
    refused = await enable(world, world.c.bob)
    assert refused.ephemeral and "only" in refused.text().lower()  # type: ignore[attr-defined]
    first, _ = await solved_thread(world)
    assert PUBLISHED_NOTE not in str(world.emu.bot_messages(first))  # not published: not a word of it
    reply = await enable(world)
    assert reply.ephemeral  # type: ignore[attr-defined]
    preview = reply.text()  # type: ignore[attr-defined]
    assert "1 solved threads will be public" in preview and "umlauts" in preview and "zebrafish" in preview
    thread_id, _ = await solved_thread(world)
    notes = str(world.emu.bot_messages(thread_id))
    assert notes.count(PUBLISHED_NOTE) == 2  # the welcome note and the Solved note
    text_question = await world.emu.user_says(world.c.bob, world.c.text, "pip install fails on my laptop")
    await world.emu.wait_for_bot_message(int(text_question["id"]), contains="Welcome")
    assert PUBLISHED_NOTE not in str(world.emu.bot_messages(int(text_question["id"])))
    out = tmp_path / "site"
    await build_archive(world.bot.services.archive, out, "https://help.example.org/")
    assert (out / f"t/{thread_id}.html").exists() and "zebrafish" in site_text(out)
    disabled = await world.emu.user_runs_slash(
        world.c.admin, world.c.general, "unstuck archive disable", options={"channel": world.c.forum}
    )
    assert "leave the archive" in disabled.text()
    await build_archive(world.bot.services.archive, out, "https://help.example.org/")
    assert not (out / "t").exists() or not any((out / "t").iterdir())


async def test_members_choose_for_themselves_and_forget_me_leaves_nothing_of_them(
    world: World, tmp_path: Path
) -> None:
    await enable(world)
    thread_id, _ = await solved_thread(world)
    out = tmp_path / "site"
    await build_archive(world.bot.services.archive, out, "https://help.example.org/")
    page = (out / f"t/{thread_id}.html").read_text()
    assert "Which pandas version" in page and "bob" in page and "alice" in page
    assert '<span class="tag">Python</span>' in page and '<span class="tag">Solved</span>' not in page
    async with world.handled("thread_update"):
        await world.emu.user_retags(world.c.alice, thread_id, ["Solved"])  # Python taken off
    await build_archive(world.bot.services.archive, out, "https://help.example.org/")
    assert '<span class="tag">' not in (out / f"t/{thread_id}.html").read_text()

    shown = await world.emu.user_runs_slash(world.c.bob, world.c.general, "privacy")
    assert shown.ephemeral and "server's default (public)" in shown.text()
    never = await world.emu.user_runs_slash(
        world.c.bob, world.c.general, "privacy", options={"choice": "never"}
    )
    assert never.ephemeral and "never published" in never.text()
    await build_archive(world.bot.services.archive, out, "https://help.example.org/")
    text = site_text(out)
    assert "Which pandas version" not in text and "(message hidden by its author)" in text

    prompt = await world.emu.user_runs_slash(
        world.c.helen, world.c.general, "privacy", options={"choice": "forget me"}
    )
    assert prompt.ephemeral and "cannot be undone" in prompt.text()
    button = f"privacy:forget:{world.c.helen}"
    await build_archive(world.bot.services.archive, out, "https://help.example.org/")
    assert "zebrafish" in site_text(out)  # nothing is forgotten before the member confirms
    other = await world.emu.user_clicks_button(world.c.bob, world.c.general, prompt.message_id, button)
    assert other.ephemeral and "only" in other.text().lower()
    done = await world.emu.user_clicks_button(world.c.helen, world.c.general, prompt.message_id, button)
    assert "removed" in done.text()
    await build_archive(world.bot.services.archive, out, "https://help.example.org/")
    text = site_text(out)
    assert "zebrafish" not in text and "helen" not in text
    assert (await world.bot.services.points.standing(world.c.guild, world.c.helen)).total == 0


async def test_edits_deletions_and_a_member_who_leaves_show_in_the_next_build(
    world: World, tmp_path: Path
) -> None:
    await enable(world)
    thread_id, _ = await solved_thread(world)
    remark = next(m for m in world.emu.messages(thread_id) if "Which pandas" in m["content"])
    async with world.handled("raw_message_edit"):
        await world.emu.user_edits(world.c.bob, thread_id, int(remark["id"]), "Which Python do you run?")
    out = tmp_path / "site"
    await build_archive(world.bot.services.archive, out, "https://help.example.org/")
    assert "Which Python do you run?" in site_text(out) and "Which pandas version" not in site_text(out)
    async with world.handled("raw_message_delete"):
        await world.emu.user_deletes(world.c.bob, thread_id, int(remark["id"]))
    await build_archive(world.bot.services.archive, out, "https://help.example.org/")
    assert "Which Python" not in site_text(out) and "zebrafish" in site_text(out)
    async with world.handled("raw_member_remove"):
        world.emu.remove_member(world.c.guild, world.c.helen)
    await build_archive(world.bot.services.archive, out, "https://help.example.org/")
    assert "zebrafish" not in site_text(out)

    async def thread_gone() -> bool:
        await build_archive(world.bot.services.archive, out, "https://help.example.org/")
        return not (out / f"t/{thread_id}.html").exists()

    async with world.handled("raw_thread_delete"):
        await world.emu.delete_channel(thread_id)
    await eventually(thread_gone, what="the deleted thread leaves the site")
