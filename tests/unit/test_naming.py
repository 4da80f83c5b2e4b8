from bot.domain.naming import THREAD_NAME_LIMIT, thread_name_from_message, with_prefix, without_prefix


def test_first_line_becomes_the_name() -> None:
    assert thread_name_from_message("How do I install numpy?\nI tried pip.", "x") == "How do I install numpy?"


def test_mentions_markdown_and_links_are_stripped() -> None:
    content = "**Help** <@123> with `asyncio` in <#456> — see [docs](https://x.y) <:blob:789> @everyone"
    assert thread_name_from_message(content, "x") == "Help with asyncio in — see docs blob"


def test_code_fences_and_blank_lines_are_skipped() -> None:
    content = "\n```py\nimport os\n```\n> Why does this fail?"
    assert thread_name_from_message(content, "x") == "Why does this fail?"


def test_long_lines_are_cut_on_a_word_within_the_limit() -> None:
    name = thread_name_from_message("word " * 60, "x")
    assert len(name) <= THREAD_NAME_LIMIT
    assert name.endswith("…")
    assert "  " not in name


def test_unreadable_content_falls_back() -> None:
    assert thread_name_from_message("<@1> <@&2>", "Help for alice") == "Help for alice"
    assert thread_name_from_message("", "") == "Help request"


def test_prefix_stays_within_the_limit_and_is_added_once() -> None:
    name = with_prefix("x" * 100, "✅ ")
    assert len(name) <= THREAD_NAME_LIMIT
    assert name.startswith("✅ ")
    assert with_prefix(name, "✅ ") == name
    assert without_prefix("✅ Title", "✅ ") == "Title"
