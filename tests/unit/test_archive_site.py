"""The archive's site writer: a rebuild renders only the thread pages whose data changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.archive import site
from bot.domain.archive_consent import Post, PublishedThread

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def thread(thread_id: int, answer: str = "Use a virtualenv.") -> PublishedThread:
    return PublishedThread(
        thread_id=thread_id,
        guild_id=1,
        channel_id=50,
        title=f"Question {thread_id}",
        question=Post(thread_id, "alice", "How do I install it?", T0),
        accepted=Post(thread_id + 1, "helen", answer, T0),
        replies=(),
        solved_at=T0,
        helped=1,
    )


def test_a_rebuild_renders_only_the_threads_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[int] = []
    real = site.thread_page

    def counting(t: PublishedThread, *args: object) -> str:
        rendered.append(t.thread_id)
        return real(t, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(site, "thread_page", counting)
    threads = [thread(100), thread(200)]
    site.write_site(site.site_files(threads, "https://x.org/", "Help"), tmp_path)
    assert sorted(rendered) == [100, 200]
    rendered.clear()
    changed = [threads[0], replace(threads[1], accepted=replace(threads[1].accepted, text="Use pipx."))]  # type: ignore[type-var]
    result = site.write_site(site.site_files(changed, "https://x.org/", "Help"), tmp_path)
    assert rendered == [200] and "Use pipx." in (tmp_path / "t/200.html").read_text()
    assert result.written == 1  # the home and channel pages list titles only: unchanged
    (tmp_path / "t/100.html").unlink()  # a page lost on disk is written again
    site.write_site(site.site_files(changed, "https://x.org/", "Help"), tmp_path)
    assert (tmp_path / "t/100.html").exists()
