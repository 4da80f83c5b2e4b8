"""The nonces of the bot's own notes: one prefix per reason to post, then what the note is about.

Discord returns the first message when a second one carries the same nonce, so a post retried after a
crash cannot appear twice. A nonce must therefore be the same for the same action, always: never
change these strings, or a note owed before an upgrade would not match the one it already posted.
The other owed posts make theirs where they are built: weekly posts (``bot.services.weekly_posts``)
and escalation digests (``bot.domain.escalation.digest_nonce``).
"""

from __future__ import annotations

WELCOME_NOTE = "w"  # + thread id: the note every new help thread gets
DORMANT_NOTE = "d"  # + thread id: "this thread has been quiet, so I archived it"
SOLVED_NOTE = "s"  # + thread id: "Solved!", posted once and then edited
COMMAND_NOTE = "i"  # + interaction id: the public note of `/close` or `/reopen` (an owed message)
REUSE_NOTE = "r"  # + thread id: "solved by an earlier thread" (an owed message)


def nonce(prefix: str, about: int) -> str:
    """The nonce of the note ``prefix`` names, about the thread or interaction ``about``."""
    return f"{prefix}{about}"
