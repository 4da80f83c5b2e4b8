"""Similar solved-thread matching: a per-server lexical index plus a calibrated score.

Design
------
* Text -> index terms with :mod:`bot.domain.text` (markup stripped, identifiers whole and split,
  stop-words removed, Snowball-stemmed). A thread keeps four fields: title, question, the
  identifiers of the question's code blocks, and the accepted answer.
* Candidates come from a tantivy (Lucene-like, Rust) in-memory index: a BM25 disjunction of the
  query's terms over ``text`` (question + code + answer) and ``title`` (boosted), restricted to
  the server (and, when asked, to channels) by required term clauses, excluding threads by a
  must-not clause. Tantivy's block-max WAND keeps top-k search fast on large corpora.
* The top ``CANDIDATES`` are scored by :func:`bot.domain.similarity_scoring.score_many`: BM25F
  with the server's own statistics, how far the best candidate stands out, title and coverage
  signals and rapidfuzz fuzzy matching. A ranking model orders the candidates; a show model,
  looking at the best one only, estimates whether the answer is there at all, and that estimate
  is the first suggestion's score in [0, 1], the one the per-server threshold applies to. The
  signals are relative to the query and to the other candidates, so one threshold means the same
  on short developer questions and long forum posts.
* Writes are cheap: a tantivy commit costs ~5-10 ms, so added/removed threads are first kept in a
  small pending overlay (searched directly, always visible to the next search) and committed in
  batches of ``COMMIT_EVERY`` changes, or by :meth:`SimilarityIndex.flush`.

Used from one asyncio event loop: no locking; every call is short enough to run inline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import tantivy

from bot.domain.similarity_scoring import (
    FIELD_WEIGHTS,
    FULL_MODEL,
    FULL_SHOW_MODEL,
    TITLES_MODEL,
    TITLES_SHOW_MODEL,
    DocTerms,
    TermStats,
    features,
    score_many,
)
from bot.domain.text import split_terms, terms

__all__ = [
    "DEFAULT_MIN_SCORE",
    "DEFAULT_MIN_SCORE_TITLES_ONLY",
    "FOLLOW_UP_SHARE",
    "Match",
    "SimilarityIndex",
    "SolvedThreadDoc",
    "doc_terms",
    "query_terms",
    "shown_count",
]

# The shipped per-server threshold on Match.score (``similar.threshold``); below it the bot shows
# no suggestion block. The show models' intercepts are set (``python -m benchmarks._rerank tune``)
# so that 0.40 is the operating point chosen on devhelp train+dev, from cross-validated scores
# (each question scored by models fitted without it): the most questions whose first suggestion is
# right while at most one no-match question in eight is shown anything.
# ``python -m benchmarks.similar`` shows what it means on each data set.
DEFAULT_MIN_SCORE = 0.40
# Titles-only mode: the same meaning, with the model fitted on titles.
DEFAULT_MIN_SCORE_TITLES_ONLY = 0.40
# Once the first suggestion clears the threshold, the next ones need only this share of it: the
# block is shown anyway, and when the first guess is wrong the right thread is often second with a
# modest score (devhelp train+dev, cross-validated scores: shares from 0.1 to 0.6 show the same
# right threads; lower ones show more wrong extra threads).
FOLLOW_UP_SHARE = 0.4

BODY_TERM_LIMIT = 200  # index terms kept from a thread's question (long pastes add nothing)
CODE_TERM_LIMIT = 200  # identifiers kept from its code blocks
ANSWER_TERM_LIMIT = 200  # index terms kept from its accepted answer
QUERY_TERM_LIMIT = 300  # index terms of a query used for scoring
QUERY_SEARCH_TERMS = 16  # highest-IDF query terms sent to the lexical index (more: slower, no better)
CANDIDATES = 15  # lexical candidates scored per search (at least 2 x limit)
COMMIT_EVERY = 64  # pending writes before a tantivy commit
TITLE_BOOST = 1.0  # extra weight of a title hit in the lexical index
TITLE_ONLY_FIELDS = {"title": 1.0}
_WRITER_HEAP = 15_000_000


@dataclass(frozen=True)
class SolvedThreadDoc:
    thread_id: int
    guild_id: int
    channel_id: int
    title: str
    question: str  # may be "" (titles-only mode)
    answer: str  # may be ""; how the problem was fixed (names the same library, error, function)


@dataclass(frozen=True)
class Match:
    thread_id: int
    channel_id: int
    score: float


def shown_count(scores: Sequence[float], min_score: float) -> int:
    """How many of ``scores`` (best first) are shown: none unless the first reaches ``min_score``,
    then every next one reaching ``FOLLOW_UP_SHARE`` of it."""
    if not scores or scores[0] < min_score:
        return 0
    follow = min_score * FOLLOW_UP_SHARE
    return 1 + next((i for i, s in enumerate(scores[1:]) if s < follow), len(scores) - 1)


def doc_terms(title: str, question: str, answer: str = "") -> DocTerms:
    """The index terms of a solved thread, by field."""
    question_terms = split_terms(question)
    return DocTerms(
        tuple(terms(title)),
        tuple(question_terms.prose[:BODY_TERM_LIMIT]),
        tuple(question_terms.code[:CODE_TERM_LIMIT]),
        tuple(terms(answer, limit=ANSWER_TERM_LIMIT)),
    )


def query_terms(text: str) -> list[str]:
    """The index terms of a new question: what it says, then its code's identifiers."""
    got = split_terms(text)
    return (got.prose + got.code)[:QUERY_TERM_LIMIT]


@dataclass(frozen=True, slots=True)
class _Entry:
    thread_id: int
    guild_id: int
    channel_id: int
    terms: DocTerms


class SimilarityIndex:
    """Solved threads of every server, searched one server at a time.

    ``titles_only=True`` (no message-content intent): documents and queries are titles only, and the
    model fitted on titles is used.
    """

    def __init__(self, *, titles_only: bool = False) -> None:
        self.titles_only = titles_only
        self._model = TITLES_MODEL if titles_only else FULL_MODEL
        self._show = TITLES_SHOW_MODEL if titles_only else FULL_SHOW_MODEL
        self._fields = TITLE_ONLY_FIELDS if titles_only else FIELD_WEIGHTS
        sb = tantivy.SchemaBuilder()
        sb.add_integer_field("tid", stored=True, indexed=True)
        sb.add_integer_field("guild", stored=True, indexed=True)
        sb.add_integer_field("channel", stored=True, indexed=True)
        sb.add_integer_field("n_body", stored=True, indexed=False)
        sb.add_integer_field("n_code", stored=True, indexed=False)
        sb.add_text_field("title", stored=True, tokenizer_name="whitespace", index_option="freq")
        # "text" = question + code + answer terms, in that order (n_body / n_code tell them apart)
        sb.add_text_field("text", stored=True, tokenizer_name="whitespace", index_option="freq")
        self._schema = sb.build()
        self._index = tantivy.Index(self._schema)
        self._index.config_reader("Manual", 0)
        self._writer = self._index.writer(heap_size=_WRITER_HEAP, num_threads=1)
        self._searcher = self._index.searcher()
        self._stats: dict[int, TermStats] = {}
        self._pending: dict[int, _Entry] = {}  # written since the last commit (latest version)
        self._stale: set[int] = set()  # committed versions deleted/replaced since the last commit
        self._count = 0

    # --- writes ---------------------------------------------------------------------------------

    def add(self, doc: SolvedThreadDoc) -> None:
        """Index ``doc``, replacing any earlier version with the same thread id."""
        self._add(doc)
        self._maybe_commit()

    def add_many(self, docs: Iterable[SolvedThreadDoc]) -> None:
        """Bulk load (start-up): one commit at the end."""
        for doc in docs:
            self._add(doc)
        self.flush()

    def remove(self, thread_id: int) -> None:
        old = self._lookup(thread_id)
        if old is None:
            return
        self._forget(old)
        self._writer.delete_documents_by_term("tid", thread_id)
        self._pending.pop(thread_id, None)
        self._stale.add(thread_id)
        self._maybe_commit()

    def flush(self) -> None:
        """Commit pending writes to the lexical index (searches see them before that too)."""
        if not self._pending and not self._stale:
            return
        self._writer.commit()
        self._index.reload()
        self._searcher = self._index.searcher()
        self._pending.clear()
        self._stale.clear()

    def __len__(self) -> int:
        return self._count

    def _add(self, doc: SolvedThreadDoc) -> None:
        old = self._lookup(doc.thread_id)
        if old is not None:
            self._forget(old)
            self._writer.delete_documents_by_term("tid", doc.thread_id)
            self._stale.add(doc.thread_id)
        dt = (
            doc_terms(doc.title, "", "")
            if self.titles_only
            else doc_terms(doc.title, doc.question, doc.answer)
        )
        entry = _Entry(doc.thread_id, doc.guild_id, doc.channel_id, dt)
        self._writer.add_document(
            tantivy.Document(
                tid=doc.thread_id,
                guild=doc.guild_id,
                channel=doc.channel_id,
                n_body=len(dt.body),
                n_code=len(dt.code),
                title=" ".join(dt.title),
                text=" ".join(dt.body + dt.code + dt.answer),
            )
        )
        self._pending[doc.thread_id] = entry
        stats = self._stats.get(doc.guild_id)
        if stats is None:
            stats = self._stats[doc.guild_id] = TermStats()
        stats.add(dt)
        self._count += 1

    def _forget(self, entry: _Entry) -> None:
        stats = self._stats.get(entry.guild_id)
        if stats is not None:
            stats.discard(entry.terms)
            if stats.n_docs == 0:
                del self._stats[entry.guild_id]
        self._count -= 1

    def _maybe_commit(self) -> None:
        if len(self._pending) + len(self._stale) >= COMMIT_EVERY:
            self.flush()

    def _lookup(self, thread_id: int) -> _Entry | None:
        entry = self._pending.get(thread_id)
        if entry is not None:
            return entry
        if thread_id in self._stale:
            return None
        q = tantivy.Query.term_query(self._schema, "tid", thread_id)
        hits = self._searcher.search(q, 1, count=False).hits
        if not hits:
            return None
        return self._entry(self._searcher.doc(hits[0][1]))

    @staticmethod
    def _entry(doc: Any) -> _Entry:
        d = doc.to_dict()
        title = tuple(d.get("title", [""])[0].split())
        text = tuple(d.get("text", [""])[0].split())
        n_body, n_code = d["n_body"][0], d["n_code"][0]
        body, code, answer = text[:n_body], text[n_body : n_body + n_code], text[n_body + n_code :]
        return _Entry(d["tid"][0], d["guild"][0], d["channel"][0], DocTerms(title, body, code, answer))

    # --- search ---------------------------------------------------------------------------------

    def search(
        self,
        guild_id: int,
        text: str,
        *,
        limit: int = 3,
        channel_ids: Collection[int] | None = None,
        exclude: Collection[int] = (),
        min_score: float = 0.0,
    ) -> list[Match]:
        """Up to ``limit`` solved threads of ``guild_id`` most likely to answer ``text``, best first,
        each with a score in [0, 1]: none unless the first reaches ``min_score`` (see
        :func:`shown_count` for the next ones)."""
        if limit <= 0:
            return []
        scored = self._scored(guild_id, text, max(CANDIDATES, 2 * limit), channel_ids, exclude)[:limit]
        n = shown_count([s for _, s in scored], min_score)
        return [Match(e.thread_id, e.channel_id, round(s, 4)) for e, s in scored[:n]]

    def explain(
        self, guild_id: int, text: str, *, candidates: int = CANDIDATES
    ) -> list[tuple[int, dict[str, float]]]:
        """The candidates a search of ``text`` scores and their signals (for fitting the model)."""
        cands, q, stats = self._candidates(guild_id, text, candidates, None, ())
        if not cands or stats is None:
            return []
        signals = features(q, [e.terms for e in cands], stats, self._fields)
        return [(e.thread_id, f) for e, f in zip(cands, signals, strict=True)]

    def _scored(
        self,
        guild_id: int,
        text: str,
        k: int,
        channel_ids: Collection[int] | None,
        exclude: Collection[int],
    ) -> list[tuple[_Entry, float]]:
        cands, q, stats = self._candidates(guild_id, text, k, channel_ids, exclude)
        if not cands or stats is None:
            return []
        scores = score_many(q, [e.terms for e in cands], stats, self._model, self._fields, self._show)
        ranked = sorted(zip(scores, range(len(cands)), strict=True), key=lambda t: (-t[0], t[1]))
        return [(cands[i], s) for s, i in ranked]

    def _candidates(
        self,
        guild_id: int,
        text: str,
        k: int,
        channel_ids: Collection[int] | None,
        exclude: Collection[int],
    ) -> tuple[list[_Entry], list[str], TermStats | None]:
        """Lexical candidates (the pending overlay included) and the query's terms."""
        stats = self._stats.get(guild_id)
        if stats is None or (channel_ids is not None and not channel_ids):
            return [], [], None
        q = terms(text, limit=QUERY_TERM_LIMIT) if self.titles_only else query_terms(text)
        if not q:
            return [], q, stats
        cands = self._lexical_candidates(guild_id, q, stats, channel_ids, exclude, k)
        if self._pending:
            qset = set(q)
            seen = {e.thread_id for e in cands}
            for e in self._pending.values():
                if (
                    e.guild_id == guild_id
                    and e.thread_id not in seen
                    and e.thread_id not in exclude
                    and (channel_ids is None or e.channel_id in channel_ids)
                    and not qset.isdisjoint(e.terms.all())
                ):
                    cands.append(e)
        return cands, q, stats

    def _lexical_candidates(
        self,
        guild_id: int,
        q: list[str],
        stats: TermStats,
        channel_ids: Collection[int] | None,
        exclude: Collection[int],
        k: int,
    ) -> list[_Entry]:
        schema = self._schema
        Q, Occur = tantivy.Query, tantivy.Occur
        tf = Counter(q)
        # the rarest words the server has seen: a word no thread has matches nothing, and a long
        # post's many unseen words would otherwise crowd out every useful one
        seen = [w for w in tf if w in stats.df]
        uniq = sorted(seen, key=stats.idf, reverse=True)[:QUERY_SEARCH_TERMS]
        if not uniq:
            return []
        should: list[tuple[Any, Any]] = []
        for w in uniq:
            n = float(tf[w])  # a word repeated in the question matters more
            should.append((Occur.Should, Q.boost_query(Q.term_query(schema, "title", w), TITLE_BOOST * n)))
            should.append((Occur.Should, Q.boost_query(Q.term_query(schema, "text", w), n)))
        clauses: list[tuple[Any, Any]] = [
            (Occur.Must, Q.boolean_query(should)),
            (Occur.Must, Q.term_query(schema, "guild", guild_id)),
        ]
        if channel_ids is not None:
            clauses.append((Occur.Must, Q.term_set_query(schema, "channel", list(channel_ids))))
        if exclude:
            clauses.append((Occur.MustNot, Q.term_set_query(schema, "tid", list(exclude))))
        hits = self._searcher.search(Q.boolean_query(clauses), k + len(self._stale), count=False).hits
        out: list[_Entry] = []
        for _, addr in hits:
            e = self._entry(self._searcher.doc(addr))
            if e.thread_id not in self._stale:
                out.append(e)
        return out[:k]
