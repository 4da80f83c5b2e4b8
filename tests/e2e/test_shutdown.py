"""Stopping `unstuck run` with SIGTERM (``docker stop``, systemd) is as clean as Ctrl-C."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY = "Unstuck is running as"


# `start` is the Quick start's command: with a token it runs the bot exactly as `run` does.
@pytest.mark.parametrize("command", ["run", "start"])
def test_sigterm_stops_the_bot_cleanly(tmp_path: Path, command: str) -> None:
    database = tmp_path / "unstuck.db"
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.update({"UNSTUCK_DATABASE__URL": f"sqlite+aiosqlite:///{database}", "UNSTUCK_LOGGING__LEVEL": "INFO"})
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.cli_on_emulator", command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    log: list[str] = []
    try:
        for line in process.stderr:  # wait for the readiness line, however long start-up takes
            log.append(line)
            if READY in line:
                break
        else:
            pytest.fail("unstuck run stopped before it was ready:\n" + "".join(log))
        process.send_signal(signal.SIGTERM)
        log.append(process.communicate(timeout=60)[1])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = "".join(log)
    assert process.returncode == 0, text
    assert "Received SIGTERM: letting running handlers finish, then stopping." in text
    assert "Unstuck stopped cleanly." in text
    assert "Traceback" not in text
    # Storage was closed: the last connection folded the write-ahead log back into the file.
    assert not Path(f"{database}-wal").exists()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
