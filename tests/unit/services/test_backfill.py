"""Backfill rules and display: which marked message is the answer, progress, the CLI without a token."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.domain.permissions import Actor, ServerRoles
from bot.services.backfill import BackfillStatus, HistoricThread, MarkedMessage, pick_answer

ROOT = Path(__file__).resolve().parents[3]
T = datetime(2025, 1, 1, tzinfo=UTC)
ASKER, HELPER, STRANGER, HELPER_ROLE = 1, 2, 3, 10
ROLES = ServerRoles(helper_roles=frozenset({HELPER_ROLE}))


def marked(message_id: int, *reactors: Actor, author: int = HELPER, bot: bool = False) -> MarkedMessage:
    return MarkedMessage(message_id, author, bot, "text", T, reactors)


def thread(*marks: MarkedMessage) -> HistoricThread:
    return HistoricThread(500, 9, 8, "text", ASKER, "title", "question", T, None, T, None, marks)


def test_the_answer_is_the_latest_message_marked_by_someone_who_may_mark() -> None:
    helper = Actor(HELPER, role_ids=frozenset({HELPER_ROLE}))
    answer = pick_answer(
        thread(marked(600, Actor(ASKER)), marked(700, helper), marked(800, Actor(STRANGER))), ROLES
    )
    assert answer is not None and (answer.message.message_id, answer.marked_by_id) == (700, HELPER)


def test_the_asker_is_credited_as_the_marker_when_they_reacted() -> None:
    helper = Actor(HELPER, role_ids=frozenset({HELPER_ROLE}))
    answer = pick_answer(thread(marked(600, helper, Actor(ASKER))), ROLES)
    assert answer is not None and answer.marked_by_id == ASKER


def test_bots_the_question_and_strangers_never_make_an_answer() -> None:
    assert pick_answer(thread(marked(600, Actor(STRANGER))), ROLES) is None
    assert pick_answer(thread(marked(600, Actor(ASKER), author=99, bot=True)), ROLES) is None
    assert pick_answer(thread(marked(500, Actor(ASKER), author=ASKER)), ROLES) is None  # the question itself
    assert pick_answer(thread(marked(600, Actor(ASKER, is_bot=True))), ROLES) is None
    manager = Actor(STRANGER, manage_threads=True)
    assert pick_answer(thread(marked(600, manager)), ROLES) is not None


def test_the_progress_bar() -> None:
    assert BackfillStatus(0, 0, 0).describe(width=4) == "[████] 0/0 threads checked · 0 imported"
    assert BackfillStatus(1, 4, 1).describe(width=4) == "[█░░░] 1/4 threads checked · 1 imported"
    assert BackfillStatus(4, 4, 2).describe(width=4) == "[████] 4/4 threads checked · 2 imported"


def test_the_command_line_backfill_needs_a_token(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    environment["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "backfill", "--guild", "123"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr and "unstuck backfill --guild" in result.stderr
    assert "Traceback" not in result.stderr
