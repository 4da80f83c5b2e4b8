"""The demo's rendering: Discord markup shown as a member's client shows it, with names for ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.demo.render import Names, buttons, embed_lines, plain, relative

NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
HELEN, HELPERS, FORUM, THREAD = (
    1457705189376000001,
    1457705189376000002,
    1457705189376000003,
    1460196605952000001,
)
NAMES = Names(
    users={HELEN: "helen"},
    roles={HELPERS: "Helpers"},
    channel=lambda channel_id: {FORUM: "#help-forum", THREAD: "#Tkinter freezes"}[channel_id],
    now=lambda: NOW,
)


def stamp(moment: datetime, style: str = "R") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


@pytest.mark.parametrize(
    ("markup", "shown"),
    [
        ("✅ **Solved!** by ***you***", "✅ Solved! by you"),
        ("*really* _quite_ __underlined__ ~~gone~~ ||secret||", "really quite underlined gone secret"),
        ("Run `/solved` or ``a `b` c``", "Run /solved or a `b` c"),
        ("Try `Path(__file__).parent` not __this__", "Try Path(__file__).parent not this"),
        ("```py\nx = a * b * c\n```", "x = a * b * c\n"),
        ("## Heading\n-# small print\n- item\n> quoted", "Heading\nsmall print\n• item\n│ quoted"),
        (r"a \*literal\* star and snake_case_name", "a *literal* star and snake_case_name"),
    ],
)
def test_markdown_is_applied_not_shown(markup: str, shown: str) -> None:
    assert plain(markup, NAMES) == shown


def test_links_show_their_titles_and_discord_links_the_channel_name() -> None:
    url = f"https://discord.com/channels/{FORUM}/{THREAD}"
    assert plain(f"1. [Open the thread]({url}) · waiting 4 h", NAMES) == "1. Open the thread ↗ · waiting 4 h"
    assert plain(f"see {url}/{HELEN}", NAMES) == "see #Tkinter freezes ↗"


def test_mentions_and_commands_show_names_never_ids() -> None:
    text = f"<@{HELEN}> <@!{HELEN}> <@&{HELPERS}> <#{FORUM}> </points show:{THREAD}> <:party:{HELEN}> <@42>"
    assert plain(text, NAMES) == "@helen @helen @Helpers #help-forum /points show :party: @unknown-user"


def test_timestamps_are_shown_relative_to_the_demo_clock() -> None:
    assert plain(f"escalate {stamp(NOW + timedelta(minutes=20))}", NAMES) == "escalate in 20 minutes"
    assert plain(stamp(NOW - timedelta(days=3, hours=2)), NAMES) == "3 days ago"
    assert plain(stamp(NOW, "t"), NAMES) == "09:00"
    assert plain(stamp(NOW, "F"), NAMES) == "Monday, 12 January 2026 09:00"
    assert relative(timedelta(hours=1)) == "in 1 hour"
    assert relative(timedelta(seconds=-5)) == "1 minute ago"


def test_an_embed_reads_top_to_bottom_with_fields_as_name_and_value() -> None:
    embed = {
        "title": "📊 **Health**",
        "description": f"In <#{FORUM}>",
        "fields": [
            {"name": "Questions asked", "value": "**6**"},
            {"name": "Escalated", "value": "tier 1: **50%**\ntier 2: **17%**"},
        ],
        "footer": {"text": "Use /stats for any period."},
    }
    assert embed_lines(embed, NAMES) == [
        "📊 Health",
        "In #help-forum",
        "Questions asked: 6",
        "Escalated:",
        "  tier 1: 50%",
        "  tier 2: 17%",
        "(Use /stats for any period.)",
    ]


def test_buttons_show_their_emoji_and_label_one_row_per_line() -> None:
    rows = [
        {
            "components": [
                {"type": 2, "style": 5, "label": "Open thread", "emoji": {"name": "🧵"}, "url": "https://x"},
                {"type": 2, "style": 3, "label": "This solved it", "emoji": {"name": "✅"}, "custom_id": "r"},
            ]
        },
        {"components": [{"type": 2, "style": 2, "label": "Claimed", "disabled": True, "custom_id": "c"}]},
    ]
    assert buttons(rows) == ["[🧵 Open thread] [✅ This solved it]", "[Claimed]"]
