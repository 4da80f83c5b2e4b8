"""Normalisation of Discord message text into index terms."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.text import clean_markup, normalise, stem, terms


def test_case_and_punctuation() -> None:
    assert normalise("How do I INSTALL discord.py?!") == "how do i install discord py"
    assert terms("Installing, installed; INSTALLS!") == [stem("installing")] * 3


def test_accents_are_folded() -> None:
    assert normalise("Café Crème") == "cafe creme"


def test_user_role_and_channel_mentions_removed() -> None:
    for markup in ("<@123456789012345678>", "<@!123456789012345678>", "<@&987654321>", "<#555>"):
        assert normalise(f"hey {markup} bot crashes") == "hey bot crashes"
    assert terms("<@!42> <#7> <@&9>") == []


def test_custom_and_unicode_emoji_removed() -> None:
    assert normalise("bot crashes <:pepe_cry:123456> <a:dance:98765>") == "bot crashes"
    assert normalise("bot crashes 😭👍🏽 ❤️ 🇫🇷 👨‍👩‍👧") == "bot crashes"
    assert normalise("bot crashes :sob: again") == "bot crashes again"


def test_urls_removed_and_masked_links_keep_their_text() -> None:
    assert normalise("see https://docs.python.org/3/library/asyncio.html?x=1#y now") == "see now"
    assert normalise("read <https://example.com/a> and www.example.org/b") == "read and"
    assert normalise("the [asyncio docs](https://docs.python.org/3/) say") == "the asyncio docs say"


def test_timestamps_and_slash_command_mentions_removed() -> None:
    assert normalise("since <t:1700000000:R> with </ban user:123>") == "since with"


def test_fenced_code_keeps_error_names_and_messages_only() -> None:
    text = (
        "my bot won't start\n```py\nimport discord\nclient = discord.Client()\n"
        'Traceback (most recent call last):\n  File "bot.py", line 1\n'
        "ModuleNotFoundError: No module named 'discord'\n```"
    )
    out = normalise(text)
    assert "modulenotfounderror" in out
    assert "no module named discord" in out
    assert "client" not in out and "traceback" not in out


def test_unterminated_code_block_and_qualified_error_names() -> None:
    out = normalise("help\n```\naiohttp.client_exceptions.ClientConnectorError: cannot connect")
    assert out == "help clientconnectorerror cannot connect"


def test_inline_code_is_kept() -> None:
    assert normalise("run `pip install -U discord.py` first") == "run pip install u discord py first"


def test_terms_drop_stopwords_and_filler_and_stem() -> None:
    assert terms("Hi guys, can anyone please help? Thanks in advance!") == ["help"]
    assert terms("visas applying") == [stem("visa"), stem("apply")]
    assert stem("visas") == stem("visa")


def test_terms_drop_long_numbers_keep_short_ones() -> None:
    assert terms("error 404 on port 8080 ticket 123456789") == ["error", "404", "port", "8080", "ticket"]


def test_terms_limit() -> None:
    assert terms("alpha beta gamma delta", limit=2) == ["alpha", "beta"]


def test_clean_markup_plain_text_untouched() -> None:
    assert clean_markup("plain words only") == "plain words only"


@given(st.text(max_size=300))
def test_normalise_never_fails_and_is_idempotent(text: str) -> None:
    out = normalise(text)
    assert normalise(out) == out
    assert out == out.strip() and "  " not in out
