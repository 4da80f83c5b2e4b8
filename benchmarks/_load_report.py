"""The load benchmark's figures: one row per step, the table, the highest rate meeting the targets,
and the chart (matplotlib, from the ``bench`` extra, imported only when a chart is drawn)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._load_traffic import INTERACTIONS, Event

TARGET_COMMIT_P99_MS = 50.0
TARGET_INTERACTION_P99_MS = 250.0
LATE_S = 3.0  # Discord's deadline for the first response to an interaction


@dataclass
class StepRow:
    database: str
    offered_rate: float
    seconds: float
    events: int
    achieved_rate: float  # events done (committed or answered) per second of the step and its drain
    commit_p50_ms: float
    commit_p99_ms: float
    commit_max_ms: float
    interaction_p50_ms: float  # from the scheduled time to the first response (the acknowledgement)
    interaction_p99_ms: float
    answer_p99_ms: float  # to the answer itself (a deferred command's follow-up)
    errors: int
    late_interactions: int
    skipped: int
    uncommitted: int
    sweeps: int
    sweep_p99_ms: float
    emulator_lag_p99_ms: float  # how late the emulator sent events: it must not be the bottleneck
    emulator_cpu: float  # cores the emulator and load script used, over the step and its drain
    bot_cpu: float  # cores the bot processes used (summed), over the step and its drain
    meets_targets: bool
    sweep_work: dict[str, int] = field(default_factory=dict)  # digests, weekly posts, archived threads


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def commit_times(events: list[Event], reports: dict[str, list[float]]) -> dict[int, float]:
    """When each gateway event's handling ended, by the event's index; events that share a key
    (a reaction added, removed, added again) are paired with the reports in order."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for index, event in enumerate(events):
        for key in event.keys:
            by_key[key].append(index)
    done: dict[int, float] = {}
    missing: set[int] = set()
    for key, indexes in by_key.items():
        times = sorted(reports.get(key, []))
        for n, index in enumerate(sorted(indexes, key=lambda i: events[i].scheduled)):
            if n >= len(times):
                missing.add(index)
            else:
                done[index] = max(done.get(index, 0.0), times[n])
    return {index: t for index, t in done.items() if index not in missing}


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def step_row(
    database: str,
    rate: float,
    seconds: float,
    events: list[Event],
    reports: dict[str, list[float]],
    bot_errors: int,
    ticks: list[float],
    cores: tuple[float, float],
) -> StepRow:
    committed = commit_times(events, reports)
    gateway = [i for i, e in enumerate(events) if e.keys]
    commits = [committed[i] - events[i].scheduled for i in gateway if i in committed]
    uncommitted = sum(i not in committed for i in gateway)
    answered = [e for e in events if e.kind in INTERACTIONS and e.acknowledged is not None]
    acks = [e.acknowledged - e.scheduled for e in answered if e.acknowledged is not None]
    answers = [e.answered - e.scheduled for e in answered if e.answered is not None]
    failed = sum(e.error is not None and not e.skipped for e in events)
    lags = [e.sent - e.scheduled for e in events if e.sent is not None]
    ends = [committed[i] for i in committed] + [e.answered for e in answered if e.answered is not None]
    start = min((e.scheduled for e in events), default=0.0)
    span = max(ends, default=start) - start
    done = len(commits) + len(answered)
    row = StepRow(
        database=database,
        offered_rate=rate,
        seconds=seconds,
        events=len(events),
        achieved_rate=round(done / span, 1) if span > 0 else 0.0,
        commit_p50_ms=ms(percentile(commits, 0.5)),
        commit_p99_ms=ms(percentile(commits, 0.99)),
        commit_max_ms=ms(max(commits, default=0.0)),
        interaction_p50_ms=ms(percentile(acks, 0.5)),
        interaction_p99_ms=ms(percentile(acks, 0.99)),
        answer_p99_ms=ms(percentile(answers, 0.99)),
        errors=bot_errors + failed + uncommitted,
        late_interactions=sum(a > LATE_S for a in acks),
        skipped=sum(e.skipped for e in events),
        uncommitted=uncommitted,
        sweeps=len(ticks),
        sweep_p99_ms=ms(percentile(ticks, 0.99)),
        emulator_lag_p99_ms=ms(percentile(lags, 0.99)),
        emulator_cpu=round(cores[0], 2),
        bot_cpu=round(cores[1], 2),
        meets_targets=False,
    )
    row.meets_targets = (
        bool(commits)
        and row.commit_p99_ms <= TARGET_COMMIT_P99_MS
        and row.interaction_p99_ms <= TARGET_INTERACTION_P99_MS
    )
    return row


def max_rate(rows: list[StepRow], database: str) -> float | None:
    """The highest offered rate whose step, and every slower one, met both p99 targets."""
    best = None
    for row in sorted((r for r in rows if r.database == database), key=lambda r: r.offered_rate):
        if not row.meets_targets:
            break
        best = row.offered_rate
    return best


COLUMNS = (
    ("db", "database", 9),
    ("offered/s", "offered_rate", 10),
    ("done/s", "achieved_rate", 8),
    ("commit p50", "commit_p50_ms", 11),
    ("p99", "commit_p99_ms", 11),
    ("max", "commit_max_ms", 11),
    ("ack p50", "interaction_p50_ms", 9),
    ("ack p99", "interaction_p99_ms", 10),
    ("answer p99", "answer_p99_ms", 12),
    ("errors", "errors", 7),
    ("late", "late_interactions", 5),
    ("sweeps", "sweeps", 7),
    ("emu lag p99", "emulator_lag_p99_ms", 12),
    ("emu cpu", "emulator_cpu", 8),
    ("bot cpu", "bot_cpu", 8),
)


def print_table(rows: list[StepRow]) -> None:
    print("".join(f"{title:>{width}}" for title, _, width in COLUMNS) + "  ok")
    for row in rows:
        cells = "".join(f"{getattr(row, name)!s:>{width}}" for _, name, width in COLUMNS)
        print(cells + ("  yes" if row.meets_targets else "  no"))
    print(
        "(latencies in ms from each event's scheduled time; targets: "
        f"commit p99 <= {TARGET_COMMIT_P99_MS:g}, ack p99 <= {TARGET_INTERACTION_P99_MS:g}; cpu in cores)"
    )


def write_chart(rows: list[StepRow], path: Path) -> None:
    """p99 latencies against the offered rate, one line per database and measure, targets dashed."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    for database in sorted({r.database for r in rows}):
        mine = sorted((r for r in rows if r.database == database), key=lambda r: r.offered_rate)
        rates = [r.offered_rate for r in mine]
        axes.plot(
            rates, [r.commit_p99_ms for r in mine], marker="o", label=f"{database}: event to commit p99"
        )
        axes.plot(
            rates, [r.interaction_p99_ms for r in mine], marker="s", label=f"{database}: interaction p99"
        )
    axes.axhline(TARGET_COMMIT_P99_MS, linestyle="--", color="grey", linewidth=1)
    axes.axhline(TARGET_INTERACTION_P99_MS, linestyle=":", color="grey", linewidth=1)
    axes.set_xscale("log", base=2)
    axes.set_xticks(sorted({r.offered_rate for r in rows}))
    axes.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda rate, _: f"{rate:g}"))
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_yscale("log")
    axes.set_xlabel("offered events per second (open loop, Poisson)")
    axes.set_ylabel("p99 latency, ms (log)")
    axes.set_title("Unstuck under mixed load (targets: 50 ms commit, 250 ms interaction)")
    axes.legend(fontsize="small")
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
