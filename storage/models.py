"""SQLAlchemy models. Storage knows ids and values only, never Discord objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime


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
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # the thread's channel id
    guild_id: Mapped[int] = mapped_column(ForeignKey("guilds.id", ondelete="CASCADE"))
    channel_id: Mapped[int]  # the help channel (the thread's parent)
    kind: Mapped[str] = mapped_column(String(8))  # "forum" | "text"
    asker_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10))
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
    # Bot messages that belong to the thread; NULL while a note is still owed (see reconcile).
    welcome_message_id: Mapped[int | None]
    dormant_note_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_message_id: Mapped[int | None]
    starter_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class ThreadMessage(Base):
    """A human message seen in a help thread (ids and times only, no content).

    The primary key makes a message delivered twice count once.
    """

    __tablename__ = "thread_messages"
    __table_args__ = (Index("ix_thread_messages_thread_author", "thread_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    thread_id: Mapped[int] = mapped_column(ForeignKey("help_threads.id", ondelete="CASCADE"))
    author_id: Mapped[int]
    created_at: Mapped[datetime]
