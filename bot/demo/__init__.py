"""`unstuck demo`: a scripted community on the local emulator, printed as a readable transcript.

The real bot runs against the emulator on a throw-away SQLite database, with a fake clock so that
days pass in an instant. The transcript shows what each member does and what they see, including
private (ephemeral) answers, with Discord's markup rendered the way a member's client shows it.
It needs only the base install: no test or benchmark dependency.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from bot.clock import FakeClock
from bot.demo.render import Names
from bot.demo.story import Scene, play
from bot.demo.transcript import Transcript
from bot.demo.world import build_community
from bot.local import BotRunner
from emulator import Emulator

__all__ = ["run_demo"]

INTRO = """\
Unstuck demo: a week in "Python Learners", a Discord server played on a local emulator.
The real bot runs against it on a throw-away database; time is simulated, so days pass in a blink.
Cast: ada, the admin · alice, bob and mallory, who ask · helen, a helper · sam, a maintainer"""

OUTRO = (
    "\nThat's the whole flow.\n"
    "Add Unstuck to your server: run `unstuck invite` for the invite link, "
    "then see README.md › Add it to your server."
)


async def run_demo(speed: float = 0.0, out: TextIO = sys.stdout) -> int:
    """Play the scripted community and print the transcript to ``out``; 0 when it ran cleanly.

    ``speed`` is a pause in seconds after each step, for watching it unfold live.
    """
    logging.basicConfig(level=logging.ERROR)
    try:
        print(INTRO, file=out)
        errors, problems = await _play_on_an_emulator(speed, out)
        print(OUTRO, file=out)
    except BrokenPipeError:
        # The reader stopped reading (`unstuck demo | head`): end quietly, like other command-line tools.
        _discard(out)
        return 0
    return _verdict(errors, problems)


async def _play_on_an_emulator(speed: float, out: TextIO) -> tuple[list[BaseException], list[str]]:
    """Start the emulator and the bot, play the story; returns the bot's unexpected errors and the
    problems the emulator recorded (invalid or unknown requests)."""
    clock = FakeClock()
    emu = Emulator(clock=clock.now, validate=False)
    await emu.start()
    try:
        emu.configure_discord_py()
        community = build_community(emu)
        names = Names(
            users=community.users,
            roles=community.roles,
            channel=lambda channel_id: "#" + str(emu.channel(channel_id)["name"]),
            now=clock.now,
        )
        with tempfile.TemporaryDirectory() as directory:
            runner = BotRunner(emu, clock, f"sqlite+aiosqlite:///{Path(directory) / 'demo.db'}")
            await runner.start({community.guild})
            try:
                await play(Scene(emu, clock, runner, community, Transcript(emu, names, out, speed)))
            finally:
                errors = await runner.stop()
    finally:
        await emu.stop()
    return errors, [str(problem) for problem in emu.problems]


def _discard(out: TextIO) -> None:
    """Point ``out`` at /dev/null, so that the interpreter's last flush raises no second broken pipe."""
    with contextlib.suppress(OSError, ValueError):  # not a file (an in-memory stream): nothing to flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())


def _verdict(errors: list[BaseException], problems: list[str]) -> int:
    """0 when the bot logged no unexpected error and the emulator recorded no problem; else 1."""
    for error in errors:
        print(f"The bot logged an unexpected error: {error!r}", file=sys.stderr)
    for problem in problems:
        print(f"The emulator recorded a problem: {problem}", file=sys.stderr)
    return 1 if errors or problems else 0
