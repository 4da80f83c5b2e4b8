"""Thread names a person would pick, from whatever a member posts."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.naming import THREAD_NAME_LIMIT, thread_name_from_message, with_prefix, without_prefix
from bot.domain.text import has_word_char

FALLBACK = "Help for bob"
MENTION = re.compile(r"<@[!&]?\d+>|@everyone|@here|<#\d+>")


def name(content: str) -> str:
    return thread_name_from_message(content, FALLBACK)


def test_first_line_becomes_the_name() -> None:
    assert name("How do I install numpy?\nI tried pip.") == "How do I install numpy?"


def test_identifiers_keep_their_underscores_and_asterisks() -> None:
    content = "`pd.read_csv` raises KeyError: 'user_id' in __init__.py"
    assert name(content) == "pd.read_csv raises KeyError: 'user_id' in __init__.py"
    assert name("my_func(*args, **kwargs) loses user_id") == "my_func(*args, **kwargs) loses user_id"
    assert name("2*3*4 is not 24?") == "2*3*4 is not 24?"


def test_markdown_is_removed_where_it_is_markdown() -> None:
    assert name("**Help** with _really_ odd ~~bug~~ ||spoiler|| __now__ please") == (
        "Help with really odd bug spoiler __now__ please"
    )
    assert name("__underlined words__ here") == "underlined words here"
    assert name("# Heading\nbody") == "Heading"
    assert name("> Why does this fail?") == "Why does this fail?"
    assert name(r"escaped \*stars\* stay") == "escaped *stars* stay"


def test_mentions_custom_emoji_and_links() -> None:
    content = "**Help** <@123> with `asyncio` in <#456> — see [docs](https://x.y) <:blob:789> @everyone"
    assert name(content) == "Help with asyncio in — see docs"
    assert name(":pepe_cry: bot crashed at 12:30:45") == "bot crashed at 12:30:45"


def test_a_line_of_emoji_or_invisible_characters_is_skipped() -> None:
    assert name("🔥🔥🔥 😭😭\nmy bot is down") == "my bot is down"
    assert name("\u200b\u200b\u3164\n<:pepe:1>\nreal question") == "real question"


def test_invisible_characters_inside_words_are_removed() -> None:
    assert name("avat\u00adar_url is\u200b None") == "avatar_url is None"
    assert name("\u202ereversed\u202c text") == "reversed text"


def test_a_one_line_fence_is_inline_code() -> None:
    assert name("```pip install torch```\nit fails with a wheel error") == "pip install torch"
    assert name("```pip install torch``` fails") == "pip install torch fails"


def test_code_fences_and_blank_lines_are_skipped() -> None:
    assert name("\n```py\nimport os\n```\n> Why does this fail?") == "Why does this fail?"


def test_only_code_is_named_after_its_error_then_its_first_words() -> None:
    assert (
        name("```py\nTraceback (most recent call last):\nKeyError: 'user_id'\n```") == "KeyError: 'user_id'"
    )
    assert name("```js\nconst x = require('y')\n```") == "const x = require('y')"


def test_long_lines_are_cut_on_a_word_within_the_limit() -> None:
    long = name("word " * 60)
    assert len(long) <= THREAD_NAME_LIMIT
    assert long.endswith("…")
    assert "  " not in long


def test_unreadable_content_falls_back() -> None:
    assert name("<@1> <@&2>") == FALLBACK
    assert name("🔥🔥 😭") == FALLBACK
    assert thread_name_from_message("", "") == "Help request"
    assert thread_name_from_message("\u200b", "\u3164") == "Help request"


def test_prefix_stays_within_the_limit_and_is_added_once() -> None:
    prefixed = with_prefix("x" * 100, "✅ ")
    assert len(prefixed) <= THREAD_NAME_LIMIT
    assert prefixed.startswith("✅ ")
    assert with_prefix(prefixed, "✅ ") == prefixed
    assert without_prefix("✅ Title", "✅ ") == "Title"


_DISCORDISH = st.sampled_from(
    ["`", "```", "*", "_", "~", "|", "<@", "<@&", ">", "#", ":", "@everyone", "@here", "\n", "\u200b",
     "\u00ad", "\u202e", "\u3164", "🔥", "<:x:1>", "12", "[a](https://x.y)", "\\", " "]
)  # fmt: skip
_HOSTILE = st.lists(st.one_of(st.text(max_size=8), _DISCORDISH), max_size=40).map("".join)


@given(_HOSTILE, st.text(max_size=40))
def test_any_text_gives_a_valid_name(content: str, fallback: str) -> None:
    result = thread_name_from_message(content, fallback)
    assert 1 <= len(result) <= THREAD_NAME_LIMIT
    assert result == result.strip()
    assert has_word_char(result)
    assert not MENTION.search(result)
    assert "\n" not in result
