"""Leaderboard ranks (bot.services.points): tied members share a rank, across pages."""

from bot.services.points import competition_ranks


def test_tied_members_share_a_rank_across_pages() -> None:
    assert competition_ranks([(1, 30), (2, 20), (3, 20), (4, 10)], 1, 0) == [
        (1, 1, 30),
        (2, 2, 20),
        (2, 3, 20),
        (4, 4, 10),
    ]
    assert competition_ranks([(5, 20), (6, 5)], 9, 10) == [(9, 5, 20), (12, 6, 5)]
