"""SimilarityIndex behaviour and the absolute meaning of its score."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import matching
from bot.domain.matching import DEFAULT_MIN_SCORE, Match, SimilarityIndex, SolvedThreadDoc, shown_count
from bot.domain.similarity_scoring import FEATURES, FULL_MODEL, TITLES_MODEL, DocTerms, TermStats, score_many

G1, G2 = 111, 222
HELP, OTHER = 10, 20

THREADS = [
    (
        1,
        "ModuleNotFoundError: No module named 'discord'",
        "I installed discord.py but running my bot gives ModuleNotFoundError no module named discord",
    ),
    (
        2,
        "Bot does not respond to commands",
        "My prefix commands do nothing, on_message works. I think the message content intent is missing",
    ),
    (
        3,
        "How to send an embed with an image",
        "I want my bot to send an embed that shows a picture from a url, how do I set the image?",
    ),
    (
        4,
        "Slash commands not showing up in my server",
        "I registered app commands with the tree but they never appear, do I need to sync?",
    ),
    (
        5,
        "Best way to store per-guild settings",
        "Should I use sqlite or json files to save the prefix and settings for each server?",
    ),
    (
        6,
        "Voice: bot joins channel but plays no audio",
        "ffmpeg is installed and the bot joins the voice channel, but there is no sound at all",
    ),
    (
        7,
        "Rate limited when editing messages in a loop",
        "I edit a message every second to show a countdown and I get 429 too many requests",
    ),
    (
        8,
        "How to get the member count of a guild",
        "guild.member_count returns None for me, how do I get the number of members?",
    ),
]


def doc(tid: int, title: str, question: str, *, guild: int = G1, channel: int = HELP) -> SolvedThreadDoc:
    return SolvedThreadDoc(tid, guild, channel, title, question, "solved")


@pytest.fixture()
def index() -> SimilarityIndex:
    idx = SimilarityIndex()
    for tid, title, q in THREADS:
        idx.add(doc(tid, title, q))
    return idx


def test_models_use_known_signals_and_give_scores_in_0_1() -> None:
    for model in (FULL_MODEL, TITLES_MODEL):
        assert set(model.weights) <= set(FEATURES)
        assert 0.0 <= model.score(dict.fromkeys(FEATURES, 0.0)) <= 1.0
        assert 0.0 <= model.score(dict.fromkeys(FEATURES, 1e9)) <= 1.0


def test_obvious_paraphrase_scores_above_threshold(index: SimilarityIndex) -> None:
    got = index.search(G1, "no module named discord error when I run my bot, but I installed discord.py")
    assert got and got[0].thread_id == 1
    assert got[0].score >= DEFAULT_MIN_SCORE
    got = index.search(G1, "my slash commands don't show up in the server. Do I need to sync the tree?")
    assert got[0].thread_id == 4 and got[0].score >= DEFAULT_MIN_SCORE


def test_unrelated_question_scores_below_threshold(index: SimilarityIndex) -> None:
    got = index.search(G1, "What is a good recipe for banana bread with walnuts?")
    assert all(m.score < DEFAULT_MIN_SCORE for m in got)
    assert index.search(G1, "What is a good recipe for banana bread?", min_score=DEFAULT_MIN_SCORE) == []


def test_identical_question_scores_near_one(index: SimilarityIndex) -> None:
    tid, title, q = THREADS[2]
    got = index.search(G1, f"{title}\n{q}", limit=1)
    assert got[0].thread_id == tid and got[0].score >= 0.75
    assert 0.0 <= got[0].score <= 1.0


def test_empty_or_markup_only_query_gives_nothing(index: SimilarityIndex) -> None:
    assert index.search(G1, "") == []
    assert index.search(G1, "<@123> 👍 https://example.com") == []


def test_results_are_matches_sorted_and_limited(index: SimilarityIndex) -> None:
    got = index.search(G1, "bot commands server message", limit=5)
    assert 0 < len(got) <= 5
    assert all(isinstance(m, Match) and m.channel_id == HELP for m in got)
    assert [m.score for m in got] == sorted((m.score for m in got), reverse=True)
    assert len(index.search(G1, "bot commands server message")) <= 3


def test_guild_isolation() -> None:
    idx = SimilarityIndex()
    idx.add(doc(1, "ModuleNotFoundError no module named discord", "", guild=G1))
    idx.add(doc(2, "ModuleNotFoundError no module named discord", "", guild=G2))
    assert [m.thread_id for m in idx.search(G1, "no module named discord")] == [1]
    assert [m.thread_id for m in idx.search(G2, "no module named discord")] == [2]
    assert idx.search(333, "no module named discord") == []


def test_channel_filter(index: SimilarityIndex) -> None:
    index.add(doc(100, "No module named discord after pip install", "ModuleNotFoundError", channel=OTHER))
    both = {m.thread_id for m in index.search(G1, "no module named discord", limit=5)}
    assert {1, 100} <= both
    only_other = index.search(G1, "no module named discord", channel_ids={OTHER})
    assert [m.thread_id for m in only_other] == [100]
    assert all(m.thread_id != 100 for m in index.search(G1, "no module named discord", channel_ids=[HELP]))
    assert index.search(G1, "no module named discord", channel_ids=[]) == []


def test_exclude(index: SimilarityIndex) -> None:
    got = index.search(G1, "no module named discord", exclude={1})
    assert all(m.thread_id != 1 for m in got)


def test_add_replaces_same_thread_id(index: SimilarityIndex) -> None:
    n = len(index)
    index.add(doc(3, "Music bot has no sound in voice channel", "ffmpeg installed, silence"))
    assert len(index) == n
    assert all(m.thread_id != 3 for m in index.search(G1, "send an embed with an image"))
    assert 3 in {m.thread_id for m in index.search(G1, "music bot no sound in voice", limit=5)}
    index.flush()
    assert len(index) == n
    assert all(m.thread_id != 3 for m in index.search(G1, "send an embed with an image"))


def test_add_replaces_after_commit_and_can_move_guild(index: SimilarityIndex) -> None:
    index.flush()
    index.add(doc(1, "ModuleNotFoundError: No module named 'discord'", "moved", guild=G2))
    assert all(m.thread_id != 1 for m in index.search(G1, "no module named discord"))
    assert [m.thread_id for m in index.search(G2, "no module named discord")] == [1]
    index.flush()
    assert [m.thread_id for m in index.search(G2, "no module named discord")] == [1]
    assert len(index) == len(THREADS)


@pytest.mark.parametrize("flush_first", [False, True])
def test_remove(index: SimilarityIndex, flush_first: bool) -> None:
    if flush_first:
        index.flush()
    index.remove(1)
    assert len(index) == len(THREADS) - 1
    assert all(m.thread_id != 1 for m in index.search(G1, "no module named discord"))
    index.remove(1)  # absent: no error
    index.remove(999_999)
    index.flush()
    assert len(index) == len(THREADS) - 1
    assert all(m.thread_id != 1 for m in index.search(G1, "no module named discord"))


def test_many_writes_cross_commit_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "COMMIT_EVERY", 3)
    idx = SimilarityIndex()
    for i in range(20):
        idx.add(doc(i, f"question number {i} about webhooks", "webhook"))
    for i in range(0, 20, 2):
        idx.remove(i)
    for i in range(1, 20, 4):
        idx.add(doc(i, f"question {i} about reactions", "reaction roles"))
    assert len(idx) == 10
    got = {m.thread_id for m in idx.search(G1, "webhooks", limit=20)}
    assert got == {3, 7, 11, 15, 19}
    got = {m.thread_id for m in idx.search(G1, "reaction roles", limit=20)}
    assert got == {1, 5, 9, 13, 17}


def test_snowflake_sized_ids() -> None:
    idx = SimilarityIndex()
    tid, gid, cid = 1_234_567_890_123_456_789, 987_654_321_098_765_432, 1_111_111_111_111_111_111
    idx.add(SolvedThreadDoc(tid, gid, cid, "bot token leaked what to do", "", ""))
    idx.flush()
    got = idx.search(gid, "leaked my bot token")
    assert [(m.thread_id, m.channel_id) for m in got] == [(tid, cid)]
    idx.remove(tid)
    assert len(idx) == 0 and idx.search(gid, "leaked my bot token") == []


def test_titles_only_mode_ignores_question_text() -> None:
    idx = SimilarityIndex(titles_only=True)
    idx.add(doc(1, "Bot does not respond to commands", "message content intent"))
    idx.add(doc(2, "Embed image not showing", "commands respond bot"))
    got = idx.search(G1, "bot not responding to my commands")
    assert got[0].thread_id == 1 and got[0].score >= DEFAULT_MIN_SCORE
    # the question text of thread 1 was not indexed
    assert idx.search(G1, "message content intent") == []


def test_typo_tolerance_via_fuzzy_signal() -> None:
    stats = TermStats.from_documents(
        DocTerms(t, ()) for t in (("account", "bank"), ("visa", "renew"), ("bank", "loan"), ("open", "door"))
    )
    typo, exact, loan, other = score_many(
        ["open", "bank", "accoount"],
        [
            DocTerms(("bank", "accoount"), ()),
            DocTerms(("bank", "account"), ()),
            DocTerms(("bank", "loan"), ()),
            DocTerms(("visa",), ()),
        ],
        stats,
    )
    assert typo >= exact > loan > other


def test_identifiers_and_invisible_characters_still_match() -> None:
    idx = SimilarityIndex()
    idx.add(doc(1, "user.avatar_url is None", "after updating discord.py `member.avatar_url` gives an error"))
    idx.add(doc(2, "How to get the member count of a guild", "guild.member_count returns None"))
    idx.add(doc(3, "Slash commands not showing up", "app commands never appear"))
    for text in ("avatar URL is none for a member", "avat\u00adar_url is None", "avatar\u200b_url None"):
        got = idx.search(G1, text)
        assert got and got[0].thread_id == 1, text
        assert got[0].score >= DEFAULT_MIN_SCORE, text


@given(st.text(max_size=400))
@settings(max_examples=60, deadline=None)
def test_any_text_indexes_and_searches_without_error(text: str) -> None:
    _HOSTILE_INDEX.add(doc(1000, text[:50], text))
    for m in _HOSTILE_INDEX.search(G1, text, limit=3):
        assert 0.0 <= m.score <= 1.0
    _HOSTILE_INDEX.remove(1000)


_HOSTILE_INDEX = SimilarityIndex()
for _tid, _title, _q in THREADS:
    _HOSTILE_INDEX.add(doc(_tid, _title, _q))


def test_follow_up_suggestions_need_only_a_share_of_the_threshold() -> None:
    assert shown_count([0.9, 0.3, 0.1], 0.5) == 2
    assert shown_count([0.45, 0.9], 0.5) == 0  # nothing unless the first is confident
    assert shown_count([0.5, 0.5, 0.5], 0.5) == 3
    assert shown_count([], 0.5) == 0
