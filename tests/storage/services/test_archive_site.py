"""The archive's static site, built from the database: consent, forgetting, deletion, XSS, increments."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.archive.build import build_archive
from bot.clock import FakeClock
from bot.domain.archive_consent import HIDDEN_TEXT, Choice
from bot.domain.permissions import Actor
from bot.services.archive import ArchiveService
from bot.services.help_threads import NewThread
from bot.services.solutions import AnswerRef, Via
from storage.engine import Database
from tests.storage.services.answers import ASKER, GUILD, HELPER, OTHER, Svc
from tests.storage.services.test_archive import ADMIN, FORUM, archive
from tests.storage.services.test_help_threads import FakePort

BASE = "https://help.example.org/"
XSS = "<script>alert('pwned')</script> and <img src=x onerror=alert(1)> [click](javascript:alert(2))"


async def thread(svc: Svc, thread_id: int, question: str, answer: str, side: str = "Which version?") -> None:
    new = NewThread(
        thread_id, GUILD, FORUM, "forum", ASKER, f"Question {thread_id}", question, svc.clock.now()
    )
    await svc.threads.open_thread(new, FakePort())
    for message_id, author, name, text in ((1, OTHER, "olga", side), (2, HELPER, "helen", answer)):
        await svc.threads.record_message(
            thread_id=thread_id,
            message_id=thread_id + message_id,
            author_id=author,
            author_is_bot=False,
            created_at=svc.clock.now(),
            content=text,
            author_name=name,
        )
    ref = AnswerRef(thread_id + 2, thread_id, HELPER, False, answer)
    await svc.solutions.mark(thread_id, ref, Actor(ASKER), Via.COMMAND)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "site"  # the test database lives in tmp_path too


def qapage(page: str) -> dict[str, Any]:
    """The page's JSON-LD, checked against what schema.org and Google's QAPage rules require."""
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(found) == 1
    data = json.loads(found[0])
    assert (data["@context"], data["@type"]) == ("https://schema.org", "QAPage")
    question = data["mainEntity"]
    assert question["@type"] == "Question" and question["name"] and isinstance(question["text"], str)
    assert isinstance(question["answerCount"], int) and question["author"]["name"]
    accepted = [question["acceptedAnswer"]] if "acceptedAnswer" in question else []
    answers = [*accepted, *question.get("suggestedAnswer", [])]
    assert question["answerCount"] == len(answers)
    for answer in answers:
        assert answer["@type"] == "Answer" and answer["text"] and answer["author"]["name"]
        assert answer["url"].startswith(BASE) and isinstance(answer["upvoteCount"], int)
        datetime.fromisoformat(answer["dateCreated"])
    datetime.fromisoformat(question["dateCreated"])
    return data


def site_text(out: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())


async def built(db: Database, clock: FakeClock) -> tuple[Svc, ArchiveService]:
    svc, service, _ = await archive(db, clock)
    await service.enable(GUILD, FORUM, ADMIN, "help-forum")
    await service.choose(GUILD, ASKER, Choice.PUBLISH, "alice")
    return svc, service


async def test_a_thread_page_shows_the_accepted_answer_first_with_qapage_data(
    db: Database, clock: FakeClock, out: Path
) -> None:
    svc, service = await built(db, clock)
    await thread(svc, 1000, "Why does read_csv fail?", "Pass `encoding='latin-1'`.")
    result = await build_archive(service, out, BASE)
    page = (out / "t/1000.html").read_text()
    shown = page.split("<main>")[1]
    assert shown.index("Accepted answer") < shown.index("Which version?")
    assert '<link rel="canonical" href="https://help.example.org/t/1000.html">' in page
    assert 'property="og:title"' in page and "Helped 1 person" in page and "#help-forum" in page
    data = qapage(page)
    assert data["mainEntity"]["acceptedAnswer"]["author"]["name"] == "helen"
    assert "https://help.example.org/t/1000.html" in (out / "sitemap.xml").read_text()
    assert "Sitemap: https://help.example.org/sitemap.xml" in (out / "robots.txt").read_text()
    assert (out / "404.html").exists() and (out / f"c/{FORUM}.html").exists()
    assert result.written == result.pages


async def test_what_a_member_typed_cannot_inject_script(db: Database, clock: FakeClock, out: Path) -> None:
    svc, service = await built(db, clock)
    await thread(svc, 1000, XSS, XSS, side="</script><script>alert(3)</script>")
    await build_archive(service, out, BASE)
    page = (out / "t/1000.html").read_text()
    assert qapage(page)["mainEntity"]["text"] == XSS  # data, not markup: intact and inert
    assert page.count("<script") == 1  # the JSON-LD element alone
    assert "<img" not in page and 'href="javascript:' not in page
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page or "&lt;script&gt;" in page


async def test_forgotten_members_words_and_name_are_nowhere_in_the_site(
    db: Database, clock: FakeClock, out: Path
) -> None:
    svc, service = await built(db, clock)
    await thread(
        svc, 1000, "Why does read_csv fail?", "Pass encoding latin-1 zebrafish", side="olga's remark"
    )
    await build_archive(service, out, BASE)
    assert "zebrafish" in site_text(out) and "helen" in site_text(out)
    await service.forget(GUILD, HELPER)
    await build_archive(service, out, BASE)
    text = site_text(out)
    assert "zebrafish" not in text and "helen" not in text
    data = qapage((out / "t/1000.html").read_text())["mainEntity"]  # a hidden answer is no answer
    assert "acceptedAnswer" not in data and data["answerCount"] == 1
    assert HIDDEN_TEXT in text and "olga's remark" in text


async def test_deleted_and_withdrawn_threads_leave_the_site_and_rebuilds_write_only_changes(
    db: Database, clock: FakeClock, out: Path
) -> None:
    svc, service = await built(db, clock)
    await thread(svc, 1000, "First question", "First answer")
    await thread(svc, 2000, "Second question", "Second answer")
    await build_archive(service, out, BASE)
    again = await build_archive(service, out, BASE)
    assert again.written == 0 and again.removed == 0
    await service.message_deleted(1001)
    after_delete = await build_archive(service, out, BASE)
    assert after_delete.written == 1  # only the page of the thread that changed
    assert "Which version?" not in (out / "t/1000.html").read_text()
    await svc.threads.thread_deleted(2000)
    gone = await build_archive(service, out, BASE)
    assert gone.removed == 1 and not (out / "t/2000.html").exists()
    assert "Second question" not in site_text(out)
    await service.choose(GUILD, ASKER, Choice.NEVER)
    await build_archive(service, out, BASE)
    assert not (out / "t/1000.html").exists() and "First question" not in site_text(out)


async def test_the_sitemap_is_split_past_its_limit(db: Database, clock: FakeClock, out: Path) -> None:
    svc, service = await built(db, clock)
    for n in range(3):
        await thread(svc, 1000 * (n + 1), f"Question {n}", f"Answer {n}")
    await build_archive(service, out, BASE, sitemap_limit=2)
    index = (out / "sitemap.xml").read_text()
    assert "<sitemapindex" in index and "sitemap-3.xml" in index
    listed = "".join((out / f"sitemap-{n}.xml").read_text() for n in (1, 2, 3))
    assert listed.count("<loc>") == 5  # 3 threads, 1 channel, the home page
