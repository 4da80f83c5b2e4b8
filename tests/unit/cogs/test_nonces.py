"""The bot's notes keep the nonces they had: a note owed before an upgrade must match the one posted."""

from __future__ import annotations

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
