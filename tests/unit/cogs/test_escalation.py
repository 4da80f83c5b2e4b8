"""The public note `/escalate` leaves in the thread: when the next digest goes out, or why not yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services.escalation import EscalateResult
from cogs.escalation import escalated_text

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return f"<t:{int(moment.timestamp())}:R>"


def test_the_next_digest_goes_out_at_the_next_tick_or_after_the_sweep_interval() -> None:
    soon = escalated_text("@alice", EscalateResult(7, NOW, False, None), NOW)
    assert soon == (
        "📣 @alice escalated this question: it goes to the helpers with the next escalation digest "
        f"in <#7>, {stamp(NOW + timedelta(seconds=30))}."
    )
    later = escalated_text("@alice", EscalateResult(7, NOW + timedelta(minutes=2), False, None), NOW)
    assert later.endswith(f"in <#7>, {stamp(NOW + timedelta(minutes=2))}.")


def test_quiet_hours_and_a_broken_set_up_say_so() -> None:
    quiet = escalated_text("@alice", EscalateResult(7, NOW + timedelta(hours=8), True, None), NOW)
    assert (
        f"quiet hours on this server, so the helpers will be notified {stamp(NOW + timedelta(hours=8))}"
        in quiet
    )
    broken = escalated_text("@alice", EscalateResult(None, None, False, "Tier 1: no channel"), NOW)
    assert "not fully set up" in broken and "`/escalations`" in broken
