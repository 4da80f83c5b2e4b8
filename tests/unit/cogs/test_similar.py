"""The suggestions block always fits Discord's limits, and "This solved it" round-trips its custom id."""

from __future__ import annotations

import re

import discord

from bot.services.similar import Suggestion
from cogs.similar import ReuseButton, suggestion_field, welcome_message


def suggestion(n: int, *, long: bool = True, answer: int | None = 7) -> Suggestion:
    return Suggestion(
        thread_id=1000 + n,
        guild_id=1,
        channel_id=2,
        title=("a very long title " * 10)[:100] if long else f"title {n}",
        excerpt=("word " * 60)[:140] if long else "",
        answer_message_id=answer,
        solved_ago="3 days ago",
        helped=n,
        score=0.9,
    )


def test_five_long_suggestions_fit_every_limit() -> None:
    welcome = discord.Embed(title="👋 Welcome", description="x" * 1500)
    embeds, view = welcome_message(welcome, [suggestion(n) for n in range(5)], thread_id=99)
    assert view is not None and len(embeds) == 2
    assert sum(len(e) for e in embeds) <= 6000
    assert all(len(f.name or "") <= 256 and len(f.value or "") <= 1024 for f in embeds[1].fields)
    rows = view.to_components()
    assert len(rows) == 5 and all(len(row["components"]) <= 5 for row in rows)


def test_nothing_to_suggest_means_no_block_at_all() -> None:
    welcome = discord.Embed(title="👋 Welcome")
    assert welcome_message(welcome, [], thread_id=99) == ([welcome], None)


def test_suggestions_that_would_pass_the_size_limit_are_dropped_whole() -> None:
    huge = discord.Embed(title="👋 Welcome", description="x" * 4096)
    huge.add_field(name="n" * 256, value="v" * 1024)
    embeds, view = welcome_message(huge, [suggestion(n) for n in range(5)], thread_id=99)
    assert sum(len(e) for e in embeds) <= 6000
    assert view is None or len(embeds[1].fields) == len(view.to_components())


def test_a_field_without_answer_text_or_answer_message_still_reads_well() -> None:
    assert "Open the thread to read the answer." in suggestion_field(1, suggestion(0, long=False))[1]
    name, value = suggestion_field(2, suggestion(1, long=False, answer=None))
    assert name == "2. title 1" and "without a specific answer" in value and "helped 1 more person" in value


def test_the_reuse_button_carries_both_thread_ids() -> None:
    button = ReuseButton(123, 456, number=2)
    assert button.item.custom_id == "reuse:123:456"
    match = re.fullmatch(ReuseButton.__discord_ui_compiled_template__, "reuse:123:456")
    assert match is not None and (match["thread"], match["source"]) == ("123", "456")
