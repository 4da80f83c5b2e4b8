"""The archive's consent rules: who is shown, how, and which threads are published at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.archive_consent import (
    ANONYMOUS_NAME,
    HIDDEN_TEXT,
    Choice,
    Consent,
    Member,
    MembersDefault,
    Message,
    Shown,
    Thread,
    publish,
    shown_as,
)

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
ASKER, HELPER, OTHER = 1, 2, 3
CHANNEL = 500
PUBLIC = Consent(MembersDefault.PUBLIC)
PRIVATE = Consent(MembersDefault.PRIVATE)


def thread(**changes: object) -> Thread:
    values: dict[str, object] = {
        "thread_id": 100,
        "guild_id": 9,
        "channel_id": CHANNEL,
        "title": "pandas read_csv fails",
        "question": "Why does read_csv fail?",
        "asker_id": ASKER,
        "created_at": T0,
        "solved_at": T0 + timedelta(hours=1),
        "answer_message_id": 102,
        "answer_author_id": HELPER,
        "answer_text": "Pass encoding='latin-1'.",
        "helped": 2,
    }
    values.update(changes)
    return Thread(**values)  # type: ignore[arg-type]


MESSAGES = [
    Message(101, OTHER, "Which version?", T0 + timedelta(minutes=1)),
    Message(102, HELPER, "Pass encoding='latin-1'.", T0 + timedelta(minutes=2)),
    Message(103, ASKER, "Thanks, that worked", T0 + timedelta(minutes=3)),
]
NAMES = {ASKER: Member(name="alice"), HELPER: Member(name="helen"), OTHER: Member(name="olga")}


def test_members_follow_their_choice_then_the_server_default() -> None:
    assert shown_as(None, PUBLIC) is Shown.NAMED
    assert shown_as(None, PRIVATE) is Shown.HIDDEN
    assert shown_as(Member(choice=Choice.PUBLISH), PRIVATE) is Shown.NAMED
    assert shown_as(Member(choice=Choice.ANONYMOUS), PRIVATE) is Shown.ANONYMOUS
    assert shown_as(Member(choice=Choice.NEVER), PUBLIC) is Shown.HIDDEN
    assert shown_as(Member(choice=Choice.PUBLISH, forgotten=True), PUBLIC) is Shown.HIDDEN


def test_a_member_who_left_is_hidden_only_if_the_server_says_so() -> None:
    assert shown_as(Member(left=True), PUBLIC) is Shown.HIDDEN
    assert shown_as(Member(left=True), Consent(hide_leavers=False)) is Shown.NAMED


def test_a_published_thread_shows_the_accepted_answer_apart_and_the_rest_in_order() -> None:
    page = publish(thread(), MESSAGES, NAMES, PUBLIC, {CHANNEL})
    assert page is not None
    assert (page.question.author, page.question.text) == ("alice", "Why does read_csv fail?")
    assert page.accepted is not None and page.accepted.author == "helen"
    assert [r.message_id for r in page.replies] == [101, 103]
    assert page.helped == 3


def test_nothing_is_published_outside_enabled_channels_or_before_a_solve() -> None:
    assert publish(thread(), MESSAGES, NAMES, PUBLIC, set()) is None
    assert publish(thread(solved_at=None), MESSAGES, NAMES, PUBLIC, {CHANNEL}) is None


def test_a_thread_whose_question_is_hidden_is_not_published() -> None:
    never = {**NAMES, ASKER: Member(name="alice", choice=Choice.NEVER)}
    assert publish(thread(), MESSAGES, never, PUBLIC, {CHANNEL}) is None
    assert publish(thread(), MESSAGES, NAMES, PRIVATE, {CHANNEL}) is None
    assert publish(thread(starter_deleted=True), MESSAGES, NAMES, PUBLIC, {CHANNEL}) is None
    assert publish(thread(deleted=True), MESSAGES, NAMES, PUBLIC, {CHANNEL}) is None
    assert publish(thread(title="", question=""), MESSAGES, NAMES, PUBLIC, {CHANNEL}) is None


def test_messages_of_members_who_did_not_consent_are_hidden_and_deleted_ones_vanish() -> None:
    members = {**NAMES, OTHER: Member(name="olga", choice=Choice.NEVER)}
    messages = [*MESSAGES[:2], Message(103, ASKER, "Thanks", T0, deleted=True)]
    page = publish(thread(), messages, members, PUBLIC, {CHANNEL})
    assert page is not None
    assert [(r.message_id, r.author, r.text) for r in page.replies] == [(101, None, HIDDEN_TEXT)]
    assert "olga" not in repr(page) and "Which version?" not in repr(page)


def test_anonymous_members_keep_their_words_without_their_name() -> None:
    members = {**NAMES, HELPER: Member(name="helen", choice=Choice.ANONYMOUS)}
    page = publish(thread(), MESSAGES, members, PUBLIC, {CHANNEL})
    assert page is not None and page.accepted is not None
    assert (page.accepted.author, page.accepted.text) == (None, "Pass encoding='latin-1'.")
    assert "helen" not in repr(page)
    unnamed = publish(thread(), MESSAGES, {}, PUBLIC, {CHANNEL})
    assert unnamed is not None and unnamed.question.author == ANONYMOUS_NAME


def test_replies_whose_text_was_never_kept_are_left_out() -> None:
    messages = [Message(101, OTHER, None, T0), *MESSAGES[1:]]
    page = publish(thread(), messages, NAMES, PUBLIC, {CHANNEL})
    assert page is not None and [r.message_id for r in page.replies] == [103]


def test_mentions_show_names_only_of_members_shown_by_name_and_no_ids_at_all() -> None:
    members = {**NAMES, OTHER: Member(name="olga", choice=Choice.NEVER)}
    text = f"<@{HELPER}> and <@!{OTHER}> see <#555> ping <@&777> <:blobcat:888> <a:party:999>"
    page = publish(thread(question=text), MESSAGES, members, PUBLIC, {CHANNEL})
    assert page is not None
    assert page.question.text == "@helen and @member see #channel ping @role :blobcat: :party:"
