"""`unstuck run` (or another command given as arguments) against the loopback emulator, in a process
of its own (for the shutdown tests).

The emulator serves from a background thread with its own event loop; the main thread runs the
real command line, `unstuck run`, as a person would, with discord.py pointed at the emulator.
Set ``UNSTUCK_DATABASE__URL`` for the database.  The exit status is the command's, or 3 when the
emulator recorded a problem (an invalid or unknown request).

    python -m tests.e2e.cli_on_emulator [COMMAND …]     (default: run)
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading

from bot.cli import main
from emulator import Emulator
from tests.e2e.harness import build_community

EMULATOR_START_TIMEOUT = 60.0


def _serve(started: threading.Event, box: dict[str, Emulator]) -> None:
    """Start the emulator with a small community and serve until the process exits."""

    async def serve() -> None:
        emu = Emulator()
        await emu.start()
        build_community(emu)
        box["emu"] = emu
        started.set()
        await asyncio.Event().wait()

    asyncio.run(serve())


def run(argv: list[str]) -> int:
    started = threading.Event()
    box: dict[str, Emulator] = {}
    threading.Thread(target=_serve, args=(started, box), name="emulator", daemon=True).start()
    if not started.wait(EMULATOR_START_TIMEOUT):
        print("the emulator did not start", file=sys.stderr)
        return 4
    emu = box["emu"]
    emu.configure_discord_py()
    os.environ["DISCORD_TOKEN"] = emu.token
    status = main(argv or ["run"])
    if emu.problems:
        print(f"the emulator recorded problems: {emu.problems!r}", file=sys.stderr)
        return status or 3
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
