"""What of a solved thread the public archive may publish: the consent rules, free of Discord.

A server publishes only the help channels its admins enabled. Each member's messages are shown
with their name, without it, or not at all, by their own choice or else the server's default.
A thread whose question may not be shown is not published at all; a message whose author did not
consent reads "(message hidden by its author)"; deleted messages and threads simply vanish.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

HIDDEN_TEXT = "(message hidden by its author)"
_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_OR_CHANNEL = re.compile(r"<(@&|#)\d+>")
_CUSTOM_EMOJI = re.compile(r"<a?:(\w+):\d+>")
ANONYMOUS_NAME = "A member"


class Choice(StrEnum):
    """What a member chose for their own messages (`/privacy`)."""

    PUBLISH = "publish"
    ANONYMOUS = "anonymous"  # published without their name
    NEVER = "never"


class Shown(StrEnum):
    """How a member's messages appear in the archive."""

    NAMED = "named"
    ANONYMOUS = "anonymous"
    HIDDEN = "hidden"


class MembersDefault(StrEnum):
    """A server's default for members who chose nothing."""

    PUBLIC = "public"  # published unless they opt out
    PRIVATE = "private"  # hidden unless they opt in


@dataclass(frozen=True)
class Consent:
    """A server's consent model."""

    members_default: MembersDefault = MembersDefault.PUBLIC
    hide_leavers: bool = True


@dataclass(frozen=True)
class Member:
    """What the archive knows of one member of a server."""

    choice: Choice | None = None
    name: str | None = None
    left: bool = False
    forgotten: bool = False


def shown_as(member: Member | None, consent: Consent) -> Shown:
    """How ``member``'s messages appear: their own choice first, then the server's default."""
    member = member or Member()
    if member.forgotten or member.choice is Choice.NEVER:
        return Shown.HIDDEN
    if member.left and consent.hide_leavers:
        return Shown.HIDDEN
    if member.choice is Choice.ANONYMOUS:
        return Shown.ANONYMOUS
    if member.choice is Choice.PUBLISH or consent.members_default is MembersDefault.PUBLIC:
        return Shown.NAMED
    return Shown.HIDDEN


@dataclass(frozen=True)
class Message:
    """A stored message of a thread (``text`` is ``None`` when it was never kept or was removed)."""

    message_id: int
    author_id: int
    text: str | None
    created_at: datetime
    deleted: bool = False


@dataclass(frozen=True)
class Thread:
    """A stored help thread with its accepted answer, as the archive reads it."""

    thread_id: int
    guild_id: int
    channel_id: int
    title: str
    question: str
    asker_id: int
    created_at: datetime
    solved_at: datetime | None
    deleted: bool = False
    starter_deleted: bool = False
    answer_message_id: int | None = None
    answer_author_id: int | None = None
    answer_text: str = ""
    helped: int = 0  # later questions its answer solved ("This solved it")
    tags: tuple[str, ...] = ()  # the forum tags members gave it


@dataclass(frozen=True)
class Post:
    """One message as the archive shows it; ``author`` is ``None`` when shown without a name."""

    message_id: int
    author: str | None
    text: str
    created_at: datetime
    hidden: bool = False


@dataclass(frozen=True)
class PublishedThread:
    """What the archive publishes of a thread: the question, the accepted answer, the rest."""

    thread_id: int
    guild_id: int
    channel_id: int
    title: str
    question: Post
    accepted: Post | None
    replies: tuple[Post, ...]
    solved_at: datetime
    helped: int  # people it helped: the asker and everyone whose question its answer solved
    tags: tuple[str, ...] = ()


def publish(
    thread: Thread,
    messages: Sequence[Message],
    members: Mapping[int, Member],
    consent: Consent,
    published_channels: Collection[int],
) -> PublishedThread | None:
    """The public form of ``thread``, or ``None`` when nothing of it may be published.

    Not published: a thread in a channel the server does not publish, one that is not solved, a
    deleted thread, and one whose question was deleted or whose asker does not consent.
    """
    if thread.channel_id not in published_channels or thread.solved_at is None:
        return None
    if thread.deleted or thread.starter_deleted or not thread.title:
        return None

    def post(author_id: int, message_id: int, text: str, at: datetime) -> Post:
        member = members.get(author_id)
        shown = shown_as(member, consent)
        if shown is Shown.HIDDEN or not text.strip():
            return Post(message_id, None, HIDDEN_TEXT, at, hidden=True)
        name = (member.name if member else None) or ANONYMOUS_NAME
        public = public_text(text, members, consent)
        return Post(message_id, name if shown is Shown.NAMED else None, public, at)

    question = post(thread.asker_id, thread.thread_id, thread.question, thread.created_at)
    if question.hidden:
        return None
    accepted = None
    if thread.answer_message_id is not None and thread.answer_author_id is not None:
        accepted_at = next(
            (m.created_at for m in messages if m.message_id == thread.answer_message_id), thread.solved_at
        )
        accepted = post(thread.answer_author_id, thread.answer_message_id, thread.answer_text, accepted_at)
    replies = tuple(
        post(m.author_id, m.message_id, m.text, m.created_at)
        for m in sorted(messages, key=lambda m: m.message_id)
        if _shown(m, members, consent) and m.message_id not in (thread.answer_message_id, thread.thread_id)
    )
    return PublishedThread(
        thread_id=thread.thread_id,
        guild_id=thread.guild_id,
        channel_id=thread.channel_id,
        title=thread.title,
        question=question,
        accepted=accepted,
        replies=replies,
        solved_at=thread.solved_at,
        helped=1 + thread.helped,
        tags=thread.tags,
    )


def _shown(message: Message, members: Mapping[int, Member], consent: Consent) -> bool:
    """Whether a reply appears at all: a deleted one vanishes, and so does one whose text was never
    kept (written before the channel was published); a hidden author's leaves a placeholder."""
    if message.deleted:
        return False
    return message.text is not None or shown_as(members.get(message.author_id), consent) is Shown.HIDDEN


def public_text(text: str, members: Mapping[int, Member], consent: Consent) -> str:
    """A message's text as the archive shows it: no Discord ids. A mention of a member who is shown
    with their name becomes ``@name``, any other ``@member``; roles and channels become ``@role`` and
    ``#channel``, custom emoji their ``:name:``."""

    def mention(match: re.Match[str]) -> str:
        member = members.get(int(match.group(1)))
        if member is not None and member.name and shown_as(member, consent) is Shown.NAMED:
            return f"@{member.name}"
        return "@member"

    text = _MENTION.sub(mention, text)
    text = _ROLE_OR_CHANNEL.sub(lambda m: "@role" if m.group(1) == "@&" else "#channel", text)
    return _CUSTOM_EMOJI.sub(lambda m: f":{m.group(1)}:", text)
