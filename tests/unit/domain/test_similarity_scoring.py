"""The signals and the two models behind Match.score: ranking, and whether to suggest anything."""

from __future__ import annotations

from bot.domain.matching import DEFAULT_MIN_SCORE, SimilarityIndex, SolvedThreadDoc
from bot.domain.similarity_scoring import (
    FEATURES,
    FULL_MODEL,
    FULL_SHOW_MODEL,
    QUERY_SIZE_CAP,
    TITLES_SHOW_MODEL,
    DocTerms,
    TermStats,
    features,
    score_many,
)

G = 1
THREADS = [
    ("Voice: bot joins channel but plays no audio", "ffmpeg is installed, the bot joins voice, no sound"),
    ("Rate limited when editing messages in a loop", "I edit a message every second: 429 too many requests"),
    ("How to get the member count of a guild", "guild.member_count returns None, how do I count members?"),
    ("Slash commands not showing up in my server", "I registered app commands but they never appear, sync?"),
    ("ModuleNotFoundError: No module named 'discord'", "installed discord.py but: no module named discord"),
]


def _index() -> SimilarityIndex:
    idx = SimilarityIndex()
    idx.add_many(SolvedThreadDoc(i, G, 1, t, q, "") for i, (t, q) in enumerate(THREADS, start=1))
    return idx


def _stats(*docs: DocTerms) -> TermStats:
    return TermStats.from_documents(docs)


def test_show_models_use_known_signals_and_give_scores_in_0_1() -> None:
    for model in (FULL_SHOW_MODEL, TITLES_SHOW_MODEL):
        assert model.weights and set(model.weights) <= set(FEATURES)
        assert 0.0 <= model.score(dict.fromkeys(FEATURES, 0.0)) <= 1.0
        assert 0.0 <= model.score(dict.fromkeys(FEATURES, 1e9)) <= 1.0


def test_cos_question_measures_both_posts_asking_the_same() -> None:
    same = DocTerms(("bot",), ("voic", "channel", "record"))
    wider = DocTerms(("bot",), ("voic", "channel", "record", "ffmpeg", "sound", "instal", "join"))
    unrelated = DocTerms(("embed",), ("imag", "url"))
    stats = _stats(same, wider, unrelated, DocTerms(("sqlite",), ("prefix",)))
    query = ["bot", "voic", "channel", "record"]
    f_same, f_wider, f_unrelated = features(query, [same, wider, unrelated], stats)
    assert abs(f_same["cos_question"] - 1.0) < 1e-9
    # the wider thread covers the whole query too, but most of its own question is not asked here
    assert f_wider["cover_question"] == f_same["cover_question"]
    assert 0.0 < f_wider["cos_question"] < f_same["cos_question"]
    assert f_unrelated["cos_question"] == 0.0


def test_first_score_is_the_show_estimate_and_the_order_is_the_ranking() -> None:
    docs = [
        DocTerms(("bank", "loan"), ("interest", "rate")),
        DocTerms(("bank", "account"), ("open", "document")),
        DocTerms(("visa",), ("renew",)),
    ]
    stats = _stats(*docs, DocTerms(("car",), ("insur",)))
    query = ["open", "bank", "account", "document"]
    ranks = score_many(query, docs, stats, show=None)
    shown = score_many(query, docs, stats)
    assert ranks == [FULL_MODEL.score(f) for f in features(query, docs, stats)]
    best = max(range(3), key=ranks.__getitem__)
    assert best == 1
    assert shown[best] == FULL_SHOW_MODEL.score(features(query, docs, stats)[best])
    assert sorted(range(3), key=lambda i: -shown[i]) == sorted(range(3), key=lambda i: -ranks[i])
    assert all(0.0 <= s <= 1.0 for s in shown)


def test_question_sharing_words_but_asking_something_else_gets_nothing() -> None:
    idx = _index()
    # shares "bot", "voice", "channel" with thread 1, but asks for something no thread solves
    other = "is there a way to record what people say in a voice channel with my bot? for transcripts"
    assert idx.search(G, other, min_score=DEFAULT_MIN_SCORE) == []
    got = idx.search(G, "my bot joins the voice channel fine but no sound comes out, ffmpeg is installed")
    assert got and got[0].thread_id == 1 and got[0].score >= DEFAULT_MIN_SCORE


def test_a_weak_best_candidate_that_barely_stands_out_is_not_shown() -> None:
    idx = _index()
    # a few shared words spread evenly over several threads: no candidate stands out
    got = idx.search(G, "bot commands message server")
    assert not got or got[0].score < DEFAULT_MIN_SCORE


_PAD = (
    "I have been coding for about two years, mostly small side projects for friends and for my team at "
    "work, and I usually figure things out by reading the docs, but this one has me stuck for a whole "
    "evening. I tried restarting everything, reinstalling, and asking a colleague. Any pointer is welcome."
)


def test_a_long_off_topic_post_is_not_trusted_for_being_long() -> None:
    idx = _index()
    bread = (
        "what's a good sourdough starter feeding schedule for my bot channel? mine smells like acetone and "
        "the loaf comes out flat even after a long bulk ferment at room temperature, flour is whole wheat, "
        "hydration about 75 percent, I bake in a dutch oven and post the photos to the server every day"
    )
    assert idx.search(G, bread, min_score=DEFAULT_MIN_SCORE) == []
    # the same length of chatter around a real match does not hide it
    got = idx.search(G, f"my bot joins the voice channel but no sound comes out, ffmpeg is installed. {_PAD}")
    assert got and got[0].thread_id == 1 and got[0].score >= DEFAULT_MIN_SCORE


def test_words_no_thread_has_do_not_crowd_out_the_ones_that_match() -> None:
    idx = _index()
    unseen = " ".join(f"zq{chr(97 + i)}{chr(97 + j)}xv" for i in range(6) for j in range(6))  # 36 new words
    got = idx.search(G, f"{unseen} ffmpeg voice sound")
    assert got and got[0].thread_id == 1


def test_query_size_stops_counting_past_a_typical_question() -> None:
    docs = [DocTerms(("bank",), ("loan",)), DocTerms(("visa",), ("renew",))]
    stats = _stats(*docs)
    short = features(["bank", "loan"], docs, stats)[0]
    long_ = features([f"w{i}" for i in range(10 * QUERY_SIZE_CAP)] + ["bank"], docs, stats)[0]
    longer = features([f"w{i}" for i in range(20 * QUERY_SIZE_CAP)] + ["bank"], docs, stats)[0]
    assert short["query_size"] < long_["query_size"] == longer["query_size"]


def test_shared_rare_counts_the_rare_words_both_posts_have() -> None:
    docs = [
        DocTerms(("ffmpeg", "voic"), ("sound",)),
        DocTerms(("voic",), ("channel",)),
        DocTerms(("bank",), ()),
    ]
    stats = _stats(*docs, DocTerms(("voic", "bank"), ()))
    both, one, none = features(["ffmpeg", "voic", "sound"], docs, stats)
    assert both["shared_rare"] > one["shared_rare"] > none["shared_rare"] == 0.0
