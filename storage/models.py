"""SQLAlchemy models. Storage knows ids and values only, never Discord objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.domain.lifecycle import ThreadState
from storage.types import ThreadStateType, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), int: BigInteger(), dict[str, Any]: JSON()}


class Guild(Base):
    """A server that uses Unstuck, with the settings its admins changed from the defaults."""

    __tablename__ = "guilds"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    escalation_channel_id: Mapped[int | None]
    leaderboard_channel_id: Mapped[int | None]
    created_at: Mapped[datetime]


class HelpChannel(Base):
    """A forum or text channel whose questions Unstuck tracks."""

    __tablename__ = "help_channels"

    channel_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guilds.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "forum" | "text"
    # Newest top-level message seen in a text channel: start-up catches up from here.
    last_seen_message_id: Mapped[int | None]
    added_at: Mapped[datetime]


class GuildRole(Base):
    """A role the server named as helper or staff."""

    __tablename__ = "guild_roles"

    guild_id: Mapped[int] = mapped_column(ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "helper" | "staff"


class HelpThread(Base):
    """One question: a forum post or a thread opened from a help-channel message."""

    __tablename__ = "help_threads"
    __table_args__ = (
        Index("ix_help_threads_guild_state", "guild_id", "state"),
        Index("ix_help_threads_dormant_due", "dormant_due_at"),
        # What the start-up catch-up looks at: threads that may have changed on Discord meanwhile.
        Index(
            "ix_help_threads_unsettled",
            "guild_id",
            sqlite_where=text("deleted = 0 AND archived_on_discord = 0"),
            postgresql_where=text("deleted = false AND archived_on_discord = false"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # the thread's channel id
    guild_id: Mapped[int] = mapped_column(ForeignKey("guilds.id", ondelete="CASCADE"))
    channel_id: Mapped[int]  # the help channel (the thread's parent)
    kind: Mapped[str] = mapped_column(String(8))  # "forum" | "text"
    asker_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[ThreadState] = mapped_column(ThreadStateType())
    created_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    first_responder_id: Mapped[int | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None]
    close_reason: Mapped[str | None] = mapped_column(String(200))
    dormant_at: Mapped[datetime | None]
    # When the thread goes dormant if nobody writes: kept up to date on activity, NULL unless live,
    # so the sweep is an index range scan instead of per-guild arithmetic over every thread.
    dormant_due_at: Mapped[datetime | None]
    last_seen_message_id: Mapped[int | None]
    starter_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    solved_at: Mapped[datetime | None]
    origin: Mapped[str] = mapped_column(String(8), default="live")  # live | backfill (imported history)
    # Known to be archived on Discord (from THREAD_UPDATE or a look at start-up): such a thread
    # can't change until it becomes active again, so the restart catch-up skips it.
    archived_on_discord: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The forum tags members gave the post (names; the bot's own Solved/Unanswered included), shown
    # by the public archive; NULL when none are known.
    tags: Mapped[list[str] | None] = mapped_column(JSON)


class ThreadMessage(Base):
    """A human message seen in a help thread: ids and times, and its text only where the server
    publishes the channel's threads (the public archive).

    The primary key makes a message delivered twice count once.
    """

    __tablename__ = "thread_messages"
    __table_args__ = (Index("ix_thread_messages_thread_author", "thread_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    thread_id: Mapped[int] = mapped_column(ForeignKey("help_threads.id", ondelete="CASCADE"))
    author_id: Mapped[int]
    created_at: Mapped[datetime]
    # Kept only in channels the server publishes; NULL once deleted on Discord or forgotten.
    content: Mapped[str | None] = mapped_column(Text)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Solution(Base):
    """The accepted answer of a thread. The primary key makes "one solution per thread" a database fact."""

    __tablename__ = "solutions"

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("help_threads.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    guild_id: Mapped[int] = mapped_column(index=True)
    message_id: Mapped[int | None]  # NULL: solved without crediting an answer (`/solved` alone)
    author_id: Mapped[int | None]
    marked_by_id: Mapped[int]
    via: Mapped[str] = mapped_column(String(10))  # reaction | menu | command | reuse
    emoji: Mapped[str | None] = mapped_column(String(64))  # the reaction that made the mark
    answer: Mapped[str] = mapped_column(Text, default="")  # the answer's text, for similar-thread search
    source_thread_id: Mapped[int | None]  # solved by reusing an earlier thread's answer
    marked_at: Mapped[datetime]


# An id that autoincrements on SQLite (which needs INTEGER PRIMARY KEY) and is 64-bit elsewhere.
LedgerId = BigInteger().with_variant(Integer(), "sqlite")


class PointEntry(Base):
    """One line of the points ledger. Totals are sums of unrevoked lines; nothing is a bare counter."""

    __tablename__ = "points_ledger"
    __table_args__ = (
        # Window queries (week, month) read only this covering index.
        Index("ix_points_window", "guild_id", "created_at", "member_id", "amount", "revoked_at"),
        Index("ix_points_member", "guild_id", "member_id", "created_at"),
        # One live award of each kind per member and thread: a repeated event cannot pay twice.
        Index(
            "ux_points_award_once",
            "thread_id",
            "member_id",
            "kind",
            unique=True,
            sqlite_where=text("revoked_at IS NULL AND thread_id IS NOT NULL"),
            postgresql_where=text("revoked_at IS NULL AND thread_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(LedgerId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int]
    member_id: Mapped[int]
    amount: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))  # solution | assist | reuse | grant | revoke
    rule: Mapped[str] = mapped_column(String(40))  # the rule that produced it, e.g. "accepted solution"
    reason: Mapped[str] = mapped_column(String(300), default="")
    thread_id: Mapped[int | None]
    message_id: Mapped[int | None]
    awarded_by_id: Mapped[int | None]  # the asker (awards) or the staff member (grants)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(300))


class MemberPoints(Base):
    """All-time totals per member, kept in step with the ledger in the same transaction.

    Derived data, maintained only so the all-time leaderboard is an index scan at a million rows;
    ``PointsRepo.rebuild_totals`` recomputes it from the ledger.
    """

    __tablename__ = "member_points"
    __table_args__ = (Index("ix_member_points_rank", "guild_id", "total"),)

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    member_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    total: Mapped[int] = mapped_column(default=0)
    solutions: Mapped[int] = mapped_column(default=0)


class WeeklyPost(Base):
    """A weekly post (leaderboard, health report) of one server and ISO week: the key makes it exactly
    once, and the transaction that writes it owes the post (``owed_actions``, keyed by its nonce)."""

    __tablename__ = "weekly_posts"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    week: Mapped[str] = mapped_column(String(8), primary_key=True)  # e.g. "2026-W03"
    kind: Mapped[str] = mapped_column(String(12), primary_key=True, default="leaderboard")
    status: Mapped[str] = mapped_column(String(10))  # posted (owed) | skipped | posting (legacy)
    scheduled_for: Mapped[datetime]
    channel_id: Mapped[int | None]
    message_id: Mapped[int | None]  # set by versions before owed actions; now the owed action's result
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime]


class ThreadReuse(Base):
    """A new thread solved by an earlier thread's answer ("This solved it"): one per new thread."""

    __tablename__ = "thread_reuses"

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("help_threads.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    source_thread_id: Mapped[int] = mapped_column(
        ForeignKey("help_threads.id", ondelete="CASCADE"), index=True
    )
    guild_id: Mapped[int]
    reused_by_id: Mapped[int]
    created_at: Mapped[datetime]


class BackfillProgress(Base):
    """Where an import of a help channel's history stands, so it can resume and never import twice."""

    __tablename__ = "backfill_progress"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    channel_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(10))  # running | done
    cursor: Mapped[str | None] = mapped_column(String(64))  # paging position in the channel's history
    scanned: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class EscalationDelivery(Base):
    """One tier of one thread's escalation: due at a time, then listed in exactly one digest.

    Rows are written when the thread is opened, one per tier (``tier`` is the 0-based position in the
    server's tier list). ``pending`` rows are the queue; a sweep claims a row by moving it to
    ``sending`` with a conditional UPDATE, so it is delivered once whatever runs twice.
    """

    __tablename__ = "escalation_deliveries"
    __table_args__ = (
        # The sweep reads only due pending rows: a partial index keeps delivered history out of it.
        Index(
            "ix_escalation_deliveries_due",
            "due_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_escalation_deliveries_guild_status", "guild_id", "status"),
        Index("ix_escalation_deliveries_digest", "digest_id", "position"),
    )

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("help_threads.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    tier: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    guild_id: Mapped[int]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10))  # pending | sending | sent | cancelled
    digest_id: Mapped[int | None]
    position: Mapped[int | None] = mapped_column(Integer)  # order within the digest
    message_id: Mapped[int | None]  # the digest message that lists it (a digest may span several)
    updated_at: Mapped[datetime]


class EscalationDigest(Base):
    """One digest: the threads of one tier that one sweep brought to one channel, pinging once."""

    __tablename__ = "escalation_digests"
    __table_args__ = (
        Index(
            "ix_escalation_digests_sending",
            "guild_id",
            sqlite_where=text("status = 'sending'"),
            postgresql_where=text("status = 'sending'"),
        ),
    )

    id: Mapped[int] = mapped_column(LedgerId, primary_key=True, autoincrement=True)
    guild_id: Mapped[int]
    tier: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int]
    role_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10))  # sending | sent
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # Ids of the messages sent so far, by part: a retry after a crash sends only what is missing.
    message_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class EscalationThread(Base):
    """What people did about one thread's escalation: the asker's `/escalate` and the claim."""

    __tablename__ = "escalation_threads"
    # The `/escalate` cooldown looks up a member's latest request in a server.
    __table_args__ = (
        Index("ix_escalation_threads_requester", "guild_id", "requested_by_id", "requested_at"),
    )

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("help_threads.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    guild_id: Mapped[int]
    requested_by_id: Mapped[int | None]
    requested_at: Mapped[datetime | None]
    claimed_by_id: Mapped[int | None]
    claimed_at: Mapped[datetime | None]


class SolutionReaction(Base):
    """A solved-emoji reaction in a help thread, as the bot last handled it.

    Discord does not replay reactions added or removed while the bot was down; comparing these rows
    with the reactions Discord shows after a restart tells exactly what changed.
    """

    __tablename__ = "solution_reactions"

    message_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    emoji: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("help_threads.id", ondelete="CASCADE"), index=True)


class OwedAction(Base):
    """A Discord action owed by a committed change, written in the same transaction as it.

    One worker (:mod:`bot.services.delivery`) delivers the due ones while the bot runs, with backoff.
    ``key`` is unique per reason to act and doubles as the Discord nonce of a message. A
    desired-state action (a thread's appearance) is one row per thread, owed again by setting it
    back to ``pending``: five quick changes cost one edit, worked out from the database when it is
    delivered. ``version`` grows each time, so a delivery that read older state never settles it.
    """

    __tablename__ = "owed_actions"
    __table_args__ = (
        # The worker reads only pending rows: a partial index keeps delivered history out of it.
        Index(
            "ix_owed_actions_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_owed_actions_refused",
            "guild_id",
            sqlite_where=text("status = 'refused'"),
            postgresql_where=text("status = 'refused'"),
        ),
    )

    key: Mapped[str] = mapped_column(String(25), primary_key=True)
    guild_id: Mapped[int]
    channel_id: Mapped[int]  # where it happens: a channel or thread (deliveries per channel run in order)
    kind: Mapped[str] = mapped_column(String(12))  # send | appearance
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(8))  # pending | done | refused
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    # An attempt whose outcome is unknown (a timeout, a reset): look before sending again.
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    queued_at: Mapped[datetime]  # when it was last owed (order of delivery within a channel)
    next_attempt_at: Mapped[datetime]
    result: Mapped[int | None]  # the message id a send (or a thread's solved note) ended with
    refusal: Mapped[str | None] = mapped_column(String(200))  # Discord's final refusal, shown to staff
    settled_at: Mapped[datetime | None]


class ArchiveSettings(Base):
    """A server's consent model for the public archive (no row: the defaults)."""

    __tablename__ = "archive_settings"

    guild_id: Mapped[int] = mapped_column(
        ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # public: members' messages are published unless they opt out; private: only if they opt in.
    members_default: Mapped[str] = mapped_column(String(8), default="public")
    hide_leavers: Mapped[bool] = mapped_column(Boolean, default=True)  # a member who leaves is hidden
    updated_at: Mapped[datetime]


class ArchiveChannel(Base):
    """A help channel whose solved threads the server publishes."""

    __tablename__ = "archive_channels"

    channel_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guilds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))  # the channel's name when enabled, the site's heading
    enabled_by_id: Mapped[int]
    enabled_at: Mapped[datetime]


class ArchiveMember(Base):
    """A member's own archive choice, the name the archive shows, and whether they left or were forgotten."""

    __tablename__ = "archive_members"

    guild_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    member_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    choice: Mapped[str | None] = mapped_column(String(10))  # publish | anonymous | never; NULL: default
    display_name: Mapped[str | None] = mapped_column(String(100))
    left_at: Mapped[datetime | None]
    forgotten_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
