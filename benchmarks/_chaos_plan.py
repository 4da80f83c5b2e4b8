"""The chaos benchmark's faults: which event of the crash run's script meets which fault.

Seeded like the script itself, so a run can be repeated exactly. Every fault starts just before the
event at its index; the player (``benchmarks._chaos_run``) injects it and plays the event into it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from benchmarks._crash_script import GATEWAY_KINDS, Event

#: Share of REST calls answered with a 5xx for the whole chaos run.
ERROR_RATE = 0.05
#: A database outage, in seconds of real time (the bot's writes fail meanwhile).
OUTAGE_SECONDS = 2.0
#: How long a hanging Discord call hangs before it is answered.
HANG_SECONDS = 6.0
#: A 429 storm: this many calls in a row on one route answered 429, each with this retry_after.
STORM_CALLS = 5
STORM_RETRY_AFTER = 3.0


@dataclass(frozen=True)
class FaultPlan:
    """Event index -> the faults that start right before it."""

    error_rate: float = 0.0
    drops: dict[int, bool] = field(default_factory=dict)  # True: resumed with replay, False: a gap
    outages: frozenset[int] = frozenset()
    hangs: frozenset[int] = frozenset()
    storms: frozenset[int] = frozenset()

    def counts(self) -> Counter[str]:
        """How many of each fault the plan holds (the 5xx are counted when they happen)."""
        return Counter(
            {
                "gateway_resume_with_replay": sum(self.drops.values()),
                "gateway_gap": sum(not replay for replay in self.drops.values()),
                "database_outage": len(self.outages),
                "hanging_call": len(self.hangs),
                "rate_limit_storm": len(self.storms),
            }
        )


def fault_plan(
    script: list[Event], seed: int, *, drops: int = 20, outages: int = 5, hangs: int = 10, storms: int = 5
) -> FaultPlan:
    """Faults spread over the script: each kind at its own seeded events, never two at once.

    The first ten events (the community's first questions) and the last ten (before the final
    comparison) stay calm, so every fault falls where there is work going on around it. A gateway
    drop falls on an event the gateway delivers (a message or a reaction): that event is what the
    gap hides. Commands need a live connection; Discord tells the user itself when there is none.
    """
    rng = random.Random(seed * 104_729 + 3)
    slots = list(range(10, max(10, len(script) - 10)))
    rng.shuffle(slots)
    gateway = [index for index in slots if script[index].kind in GATEWAY_KINDS]
    if len(gateway) < drops or len(slots) < drops + outages + hangs + storms:
        raise ValueError(f"{len(script)} events are too few for these faults")
    drop_at = gateway[:drops]
    picked = iter(index for index in slots if index not in drop_at)
    return FaultPlan(
        error_rate=ERROR_RATE,
        drops={index: position % 2 == 0 for position, index in enumerate(sorted(drop_at))},
        outages=frozenset(next(picked) for _ in range(outages)),
        hangs=frozenset(next(picked) for _ in range(hangs)),
        storms=frozenset(next(picked) for _ in range(storms)),
    )
