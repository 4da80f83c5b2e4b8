"""`/solved message:` takes a message link or a bare id; anything else is politely refused."""

from __future__ import annotations

import pytest

from cogs.solutions import parse_message_ref


def test_a_link_gives_its_channel_and_message() -> None:
    link = "https://discord.com/channels/1/1163000000000000002/1163000000000000001"
    assert parse_message_ref(link) == (1163000000000000002, 1163000000000000001)


def test_a_bare_id_gives_the_message() -> None:
    assert parse_message_ref(" 1163000000000000001 ") == (None, 1163000000000000001)


@pytest.mark.parametrize("text", ["1163000000000000001³", "¹¹⁶³⁰⁰⁰⁰⁰⁰⁰⁰⁰⁰⁰⁰⁰⁰⁰¹", "12", "hello"])
def test_what_is_not_an_id_is_refused_not_crashed_on(text: str) -> None:
    assert parse_message_ref(text) is None
