"""`unstuck demo`, as a newcomer reads it: the whole flow, each note once, no markup or raw ids.

The demo is played once for the module (it takes a few seconds); each test reads the transcript.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import DEFAULT_WELCOME_MESSAGE
from bot.demo import run_demo
from tests.conftest import off_loop
from tests.e2e.harness import LogGuard

ROOT = Path(__file__).resolve().parents[2]
WELCOME_TITLE = "👋 Welcome to your help thread"
DEV_ONLY = ("jsonschema", "referencing", "hypothesis", "pytest", "psutil", "bm25s")

# What a reader should notice, in the order the story tells it.
STORY = [
    "✅ #help-forum is now a help channel.",
    "#help-forum › How do I read a CSV file with pandas?",
    "alice: pd.read_csv says FileNotFoundError :(",
    "#help › Why does pip install fail with Permission denied?",
    "🤖 Unstuck (only mallory sees this): Only the person who asked, or staff, can close this thread.",
    "helen: The path is relative to where you run Python",
    "alice reacted ✅ on helen's answer",
    "🤖 Unstuck: ✅ Solved! @helen's answer was marked as the solution by @alice. [➡️ Jump to the answer]",
    "the post's tags are now: Solved",
    "💤 This thread has been quiet for 3 days, so I archived it. @bob, just write here",
    "bob: Still stuck, sorry!",
    "Bob's thread is open again",
    "bob used Apps › Mark as solution on sam's message",
    "✅ Solution marked as @sam's answer. • @sam earned 10 points (accepted solution).",
    "#help › ✅ Why does pip install fail with Permission denied?",
    "🔎 Solved threads that look like yours 1. How do I read a CSV file with pandas?:",
    "[🧵 1 · Open thread] [💡 1 · Jump to the answer] [✅ 1 · This solved it]",
    "mallory clicked [✅ 1 · This solved it]",
    "• @helen earned 5 points (answer reused).",
    "✅ Solved by an earlier thread: @mallory found the answer in How do I read a CSV file with pandas?",
    "helen used /points show",
    "⭐ Points of helen Total: 15",
    "🏆 Top helpers of the week (Jan 5–11) 🥇 @helen — 15 points 🥈 @sam — 10 points",
    "@Helpers 2 questions have been waiting for over 4 h without an answer. 🆘 Waiting for help · tier 1",
    "1. Tkinter window freezes during a long loop: Open the thread ↗ · waiting 4 h",
    "helen clicked [✋ Claim #1]",
    "✋ Claimed by @helen [✋ Claimed] [✋ Claim #2]",
    "🤖 Unstuck (only helen sees this): ✋ You claimed this question ↗.",
    "@Maintainers 1 question has been waiting for over 1 day without an answer.",
    "1. Regex for nested brackets: Open the thread ↗ · waiting 1 day",
    "alice used /escalate",
    "you can escalate in 20 minutes if nobody has replied by then.",
    "📣 @alice escalated this question: it goes to the helpers with the next escalation digest in "
    "#escalations, in 1 minute.",
    "1. asyncio.gather never returns: Open the thread ↗ · waiting 30 min",
    "alice used /close reason:solved",
    "🔒 Closed by @alice: solved. Use /reopen if you need more help.",
    "alice used /reopen",
    "🔓 Reopened by @alice. Ask away!",
    "sam used /stats period:30d",
    "📊 Help-channel health, the last 30 days Questions asked: 6",
    "Add Unstuck to your server: run `unstuck invite` for the invite link, "
    "then see README.md › Add it to your server.",
]


@dataclass(frozen=True)
class Played:
    exit_code: int
    transcript: str
    errors: list[str]

    @property
    def flowing(self) -> str:
        """The transcript with line wraps and indents folded into single spaces."""
        return re.sub(r"\s+", " ", self.transcript)


@pytest.fixture(scope="module")
def played() -> Played:
    out = io.StringIO()
    with LogGuard() as guard:
        exit_code = off_loop(asyncio.run, run_demo(out=out))
    return Played(exit_code, out.getvalue(), guard.messages())


def test_the_demo_runs_cleanly(played: Played) -> None:
    assert played.exit_code == 0
    assert played.errors == [], "errors reached the log"
    assert "Traceback" not in played.transcript and "ERROR" not in played.transcript


def test_the_demo_shows_every_feature_in_story_order(played: Played) -> None:
    position = 0
    for line in STORY:
        found = played.flowing.find(line, position)
        assert found >= 0, f"missing (or out of order): {line!r}"
        position = found + len(line)


def test_no_answer_is_printed_twice(played: Played) -> None:
    lines = [line for line in played.transcript.splitlines() if "sees this)" in line]
    assert not [a for a, b in itertools.pairwise(lines) if a == b], "a private answer printed twice"


def test_the_welcome_note_is_shown_in_full_once_and_says_how_to_mark_a_solution_once(played: Played) -> None:
    note = " ".join(DEFAULT_WELCOME_MESSAGE.split())
    assert played.flowing.count(note) == 1
    assert played.flowing.count(f"{WELCOME_TITLE} (the same note as above)") == 5
    start = played.transcript.index(WELCOME_TITLE)
    full = played.transcript[start : played.transcript.index("(Use /close", start)]
    assert full.count("solution") == 1, "the note must tell the asker how to mark a solution once"


def test_no_markup_or_raw_id_reaches_the_reader(played: Played) -> None:
    for markup in ("**", "](http", "<@", "<#", "<t:", "__**", "discord.com"):
        assert markup not in played.transcript
    assert re.search(r"\d{17,20}", played.transcript) is None


def test_the_demo_needs_nothing_from_the_dev_extra() -> None:
    """Run `unstuck demo` as a user would, with every dev-only package made unimportable."""
    blocker = (
        "import sys\n"
        f"DEV = {DEV_ONLY!r}\n"
        "class NoDevExtra:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in DEV:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r} (not in the base install)')\n"
        "sys.meta_path.insert(0, NoDevExtra())\n"
        "from bot.__main__ import main\n"
        "sys.exit(main(['demo']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocker], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("then see README.md › Add it to your server.")


def test_a_reader_who_stops_reading_gets_no_traceback() -> None:
    """`unstuck demo | head`: the pipe closes before the demo ends; it stops quietly."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # a reader that is already gone: the demo's first flush meets a broken pipe
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "demo"],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
