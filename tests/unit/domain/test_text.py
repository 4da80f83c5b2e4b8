"""Text as developers write it: Unicode clean-up, markdown only where it is markdown, index terms."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.text import clean_markup, normalise, normalize, split_terms, stem, terms
from bot.domain.text.markdown import Kind, segments


def test_case_and_punctuation() -> None:
    assert normalise("How do I INSTALL discord.py?!") == "how do i install discord.py"
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
    assert normalise("run `pip install -U discord.py` first") == "run pip install u discord.py first"


def test_terms_drop_stopwords_and_filler_and_stem() -> None:
    assert terms("Hi guys, can anyone please help? Thanks in advance!") == ["help"]
    assert terms("visas applying") == [stem("visa"), stem("apply")]
    assert stem("visas") == stem("visa")


def test_terms_drop_long_numbers_keep_short_ones() -> None:
    assert terms("error 40005 on port 8080 ticket 123456789") == ["error", "40005", "port", "8080", "ticket"]


def test_terms_limit() -> None:
    assert terms("alpha beta gamma delta", limit=2) == ["alpha", "beta"]


def test_clean_markup_plain_text_untouched() -> None:
    assert clean_markup("plain words only") == "plain words only"


def test_nfkc_folds_look_alike_forms() -> None:
    assert normalize("ｆｕｌｌ ｗｉｄｔｈ ﬁle 𝐛𝐨𝐥𝐝") == "full width file bold"


def test_invisible_and_format_characters_are_removed() -> None:
    for ch in ("\u200b", "\u00ad", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2066", "\u200e"):
        assert normalize(f"avat{ch}ar_url") == "avatar_url", repr(ch)
    assert normalize("a\r\nb\u2028c") == "a\nb\nc"
    assert terms("avatar\u00ad_url") == terms("avatar_url")


def test_identifiers_are_kept_whole_and_split() -> None:
    assert terms("read_csv") == ["read_csv", "read", "csv"]
    assert terms("useEffect") == ["useeffect", "use", "effect"]
    assert terms("__init__.py") == ["__init__.py", "init", "py"]
    assert terms("ERR_REQUIRE_ESM") == ["err_require_esm", "err", stem("require"), "esm"]
    assert terms("HTTPServer") == ["httpserver", "http", "server"]
    assert set(terms("avatar URL")) <= set(terms("avatar_url"))


def test_markdown_is_removed_only_where_it_is_markdown() -> None:
    assert normalise("**bold** _italic_ ~~gone~~ ||secret||") == "bold italic gone secret"
    assert normalise("`pd.read_csv` KeyError: 'user_id' in __init__.py") == (
        "pd.read_csv keyerror user_id in __init__.py"
    )
    assert normalise(":pepe_cry: my_var") == "my_var"


def test_a_one_line_fence_is_inline_code() -> None:
    parts = segments("```pip install torch``` fails\nnext line")
    assert [p.kind for p in parts] == [Kind.INLINE, Kind.PROSE]
    assert normalise("```pip install torch``` fails") == "pip install torch fails"


def test_code_block_identifiers_are_kept_apart() -> None:
    got = split_terms(
        "items moved\n```rust\nlet total = items.len();\nerror[E0382]: borrow of moved value\n```"
    )
    assert "borrow" in got.prose and "total" not in got.prose
    assert "total" in got.code and "items.len" in got.code


@given(st.text(max_size=300))
def test_terms_never_fail(text: str) -> None:
    for term in terms(text):
        assert term and term == term.strip()


@given(st.text(max_size=300))
def test_normalise_never_fails_and_is_idempotent(text: str) -> None:
    out = normalise(text)
    assert normalise(out) == out
    assert out == out.strip() and "  " not in out
