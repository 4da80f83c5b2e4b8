"""The bot's notes keep the nonces they had: a note owed before an upgrade must match the one posted."""

from __future__ import annotations

from bot.services.owed import APPEARANCE_PREFIX, EDIT_PREFIX
from bot.services.stats import HEALTH_KIND
from bot.services.weekly_posts import KIND, weekly_nonce
from cogs._nonces import COMMAND_NOTE, DORMANT_NOTE, REUSE_NOTE, SOLVED_NOTE, WELCOME_NOTE, nonce


def test_each_note_keeps_its_nonce_across_upgrades() -> None:
    about = 1457705189376000054
    made = {prefix: nonce(prefix, about) for prefix in (WELCOME_NOTE, DORMANT_NOTE, SOLVED_NOTE, REUSE_NOTE)}
    assert made == {
        WELCOME_NOTE: f"w{about}",
        DORMANT_NOTE: f"d{about}",
        SOLVED_NOTE: f"s{about}",
        REUSE_NOTE: f"r{about}",
    }
    assert nonce(COMMAND_NOTE, 99) == "i99"  # keyed by the interaction


def test_no_two_kinds_of_note_share_a_prefix() -> None:
    prefixes = [WELCOME_NOTE, DORMANT_NOTE, SOLVED_NOTE, COMMAND_NOTE, REUSE_NOTE]
    assert len(set(prefixes)) == len(prefixes)


def test_no_two_reasons_to_owe_something_share_a_key_prefix() -> None:
    """Owed actions share one table keyed by these: a note's key must never be a weekly post's."""
    weekly = [KIND[0], HEALTH_KIND[0]]  # weekly_nonce starts with the kind's first letter
    prefixes = [WELCOME_NOTE, DORMANT_NOTE, COMMAND_NOTE, REUSE_NOTE, APPEARANCE_PREFIX, EDIT_PREFIX, *weekly]
    assert len(set(prefixes)) == len(prefixes)
    assert weekly_nonce(1457705189376000054, "2026-W03", HEALTH_KIND).startswith("h2603")
