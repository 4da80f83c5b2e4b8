"""How suggestions read: ping-free one-line excerpts, "how long ago", the threshold in force."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.matching import DEFAULT_MIN_SCORE_TITLES_ONLY
from bot.domain.suggestions import answer_excerpt, effective_threshold, time_ago


def test_an_excerpt_is_one_line_and_pings_nobody() -> None:
    text = "Hi <@123>, <@!456> and <@&789>:\n\n> use `venv`\n```py\npython -m venv .venv\n```\n"
    text += "@everyone @here"
    excerpt = answer_excerpt(text)
    assert "\n" not in excerpt
    assert "<@" not in excerpt
    assert "@everyone" not in excerpt and "@here" not in excerpt
    assert excerpt == (
        "Hi @member, @member and @role: use `venv` python -m venv .venv @\u200beveryone @\u200bhere"
    )


def test_an_excerpt_keeps_link_texts_and_is_cut_at_a_word() -> None:
    assert answer_excerpt("See [the docs](https://docs.python.org/3/) first") == "See the docs first"
    long = "word " * 100
    excerpt = answer_excerpt(long, limit=40)
    assert len(excerpt) <= 40 and excerpt.endswith("word…")
    assert answer_excerpt("x" * 300, limit=20) == "x" * 19 + "…"


def test_an_inline_code_span_cut_in_half_loses_its_backticks() -> None:
    excerpt = answer_excerpt("Run " + "`" + "a " * 100 + "`", limit=30)
    assert "`" not in excerpt


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=30), "just now"),
        (timedelta(minutes=5), "5 min ago"),
        (timedelta(hours=3, minutes=59), "3 h ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=13), "1 week ago"),
        (timedelta(days=45), "1 month ago"),
        (timedelta(days=800), "2 years ago"),
        (timedelta(seconds=-5), "just now"),
    ],
)
def test_time_ago(delta: timedelta, text: str) -> None:
    assert time_ago(delta) == text


def test_titles_only_matching_never_goes_below_its_own_threshold() -> None:
    assert effective_threshold(0.4, titles_only=False) == 0.4
    assert effective_threshold(0.1, titles_only=True) == DEFAULT_MIN_SCORE_TITLES_ONLY
    assert effective_threshold(0.8, titles_only=True) == 0.8
