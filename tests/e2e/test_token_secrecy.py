"""The bot token never appears in a log line, a message, or anything the bot sends."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.local import BotRunner
from bot.logs import RedactSecrets
from emulator import Emulator
from tests.conftest import sqlite_copy
from tests.e2e.harness import build_community

TOKEN = "MTk4NjIyNDgzNDcx.SECRET-unstuck-token.QeYhV7xZ"


async def test_the_token_reaches_no_log_line_and_no_message(
    clock: FakeClock, tmp_path: Path, sqlite_template: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, discord.py's gateway chatter included
    emu = Emulator(clock=clock.now, token=TOKEN)
    await emu.start()
    emu.configure_discord_py()
    try:
        c = build_community(emu)
        runner = BotRunner(emu, clock, sqlite_copy(sqlite_template, tmp_path), env={"DISCORD_TOKEN": TOKEN})
        bot = await runner.start({c.guild})
        assert TOKEN not in repr(bot.settings) and TOKEN not in bot.settings.model_dump_json()
        await emu.user_runs_slash(
            c.admin, c.general, "unstuck config add-help-channel", options={"channel": c.forum}
        )
        post = await emu.user_posts_in_forum(c.alice, c.forum, "Token question", "what is a token?")
        await emu.wait_for_bot_message(int(post["id"]), contains="Welcome")
        await emu.user_runs_slash(c.admin, c.general, "unstuck config show")
        assert await runner.stop() == []
    finally:
        await emu.stop()
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert len(caplog.records) > 20  # we really looked at the chatter
    assert TOKEN not in logged
    assert all(TOKEN not in json.dumps(m) for channel in emu.world.channels for m in emu.messages(channel))
    assert all(TOKEN not in json.dumps(body, default=str) for _, _, body in emu.requests)


def test_the_log_filter_redacts_a_token_in_messages_and_tracebacks() -> None:
    record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "login with %s failed", (TOKEN,), None)
    try:
        raise RuntimeError(f"bad token {TOKEN}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactSecrets([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage() and "[redacted]" in record.getMessage()
    assert TOKEN not in (record.exc_text or "") and "[redacted]" in (record.exc_text or "")
