"""Who can view a channel (bot.domain.channel_access): Discord's overwrite order, and audiences."""

from __future__ import annotations

from itertools import chain, combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.channel_access import (
    GuildAccess,
    Overwrite,
    Viewer,
    audience_can_view,
    can_view,
    shared_with_audience,
    viewable,
)

VIEW = 1 << 10
SEND = 1 << 11
ADMIN = 1 << 3
GUILD, OWNER = 1000, 1
STAFF, HELPERS, MUTED, ADMINS, VIEWERS = 11, 12, 13, 14, 15
PUBLIC, STAFF_ONLY, UNKNOWN = 500, 501, 599


def role(target: int, allow: int = 0, deny: int = 0) -> Overwrite:
    return Overwrite(target, is_member=False, allow=allow, deny=deny)


def member(target: int, allow: int = 0, deny: int = 0) -> Overwrite:
    return Overwrite(target, is_member=True, allow=allow, deny=deny)


def server(channels: dict[int, tuple[Overwrite, ...]], everyone: int = VIEW | SEND) -> GuildAccess:
    """A server whose @everyone holds ``everyone`` and whose channels have these overwrites."""
    return GuildAccess(
        guild_id=GUILD,
        owner_id=OWNER,
        role_permissions={GUILD: everyone, STAFF: 0, HELPERS: 0, MUTED: 0, ADMINS: ADMIN, VIEWERS: VIEW},
        overwrites=channels,
    )


STAFF_FORUM = (role(GUILD, deny=VIEW), role(STAFF, allow=VIEW))
ACCESS = server({PUBLIC: (), STAFF_ONLY: STAFF_FORUM})


def who(user_id: int = 7, *roles: int) -> Viewer:
    return Viewer(user_id, frozenset(roles))


@pytest.mark.parametrize(
    ("viewer", "sees_public", "sees_staff_only"),
    [
        (who(7), True, False),  # an ordinary member
        (who(8, STAFF), True, True),  # the staff role's allow beats the @everyone deny
        (who(9, HELPERS), True, False),  # a role the channel says nothing about
        (who(10, ADMINS), True, True),  # ADMINISTRATOR is above overwrites
        (who(OWNER), True, True),  # so is the owner
    ],
)
def test_a_staff_only_channel_is_hidden_from_everyone_but_staff(
    viewer: Viewer, sees_public: bool, sees_staff_only: bool
) -> None:
    assert can_view(ACCESS, PUBLIC, viewer) is sees_public
    assert can_view(ACCESS, STAFF_ONLY, viewer) is sees_staff_only
    expected = {c for c, seen in ((PUBLIC, sees_public), (STAFF_ONLY, sees_staff_only)) if seen}
    assert viewable(ACCESS, viewer, [PUBLIC, STAFF_ONLY, UNKNOWN]) == expected


def test_a_member_overwrite_allows_when_a_role_denies_and_denies_when_a_role_allows() -> None:
    access = server(
        {
            1: (role(MUTED, deny=VIEW), member(7, allow=VIEW)),
            2: (role(STAFF, allow=VIEW), member(8, deny=VIEW)),
        }
    )
    assert can_view(access, 1, who(7, MUTED)) and not can_view(access, 1, who(9, MUTED))
    assert not can_view(access, 2, who(8, STAFF)) and can_view(access, 2, who(9, STAFF))


def test_any_role_allow_beats_any_role_deny_whatever_the_order() -> None:
    access = server({1: (role(MUTED, deny=VIEW), role(HELPERS, allow=VIEW))})
    assert can_view(access, 1, who(7, MUTED, HELPERS)) and can_view(access, 1, who(7, HELPERS, MUTED))
    assert not can_view(access, 1, who(7, MUTED))


def test_the_server_wide_grant_comes_from_everyone_and_the_roles_before_overwrites() -> None:
    # @everyone may not view anything server-wide; a role that grants View Channel opens channels
    # no overwrite closes, and an @everyone allow opens a channel to all.
    access = server({1: (), 2: (role(GUILD, allow=VIEW),), 3: (role(GUILD, deny=VIEW),)}, everyone=SEND)
    assert not can_view(access, 1, who(7)) and can_view(access, 1, who(7, VIEWERS))
    assert can_view(access, 2, who(7))
    assert not can_view(access, 3, who(7, VIEWERS))  # the @everyone overwrite applies to everyone


def test_a_role_overwrite_for_the_everyone_role_id_is_applied_once_not_as_a_held_role() -> None:
    # discord.py lists @everyone among a member's roles: it must not count as a role overwrite too.
    access = server({1: (role(GUILD, deny=VIEW), role(STAFF, allow=VIEW))})
    assert not can_view(access, 1, who(7, GUILD))


def test_a_channel_the_bot_cannot_see_shows_nothing_even_to_admins() -> None:
    # Deleted, or hidden from the bot: its audience is unknown, so its threads are never shown.
    assert not can_view(ACCESS, UNKNOWN, who(7, STAFF))
    assert not can_view(ACCESS, UNKNOWN, who(7, ADMINS)) and not can_view(ACCESS, UNKNOWN, who(OWNER))


# ---- audiences ----------------------------------------------------------------------------------


def test_a_staff_channel_may_show_public_threads_but_not_the_other_way_round() -> None:
    assert audience_can_view(ACCESS, STAFF_ONLY, PUBLIC)
    assert not audience_can_view(ACCESS, PUBLIC, STAFF_ONLY)
    assert audience_can_view(ACCESS, STAFF_ONLY, STAFF_ONLY) and audience_can_view(ACCESS, UNKNOWN, UNKNOWN)
    assert shared_with_audience(ACCESS, PUBLIC, [PUBLIC, STAFF_ONLY, UNKNOWN]) == {PUBLIC}
    assert shared_with_audience(ACCESS, STAFF_ONLY, [PUBLIC, STAFF_ONLY, UNKNOWN]) == {PUBLIC, STAFF_ONLY}


def test_channels_with_the_same_rules_share_their_audience() -> None:
    access = server({1: STAFF_FORUM, 2: STAFF_FORUM})
    assert audience_can_view(access, 1, 2) and audience_can_view(access, 2, 1)


def test_a_member_let_into_one_channel_alone_keeps_it_apart() -> None:
    access = server({1: (*STAFF_FORUM, member(7, allow=VIEW)), 2: STAFF_FORUM})
    assert not audience_can_view(access, 1, 2)  # member 7 sees 1 but not 2
    assert audience_can_view(access, 2, 1)


def test_a_member_kept_out_of_the_other_channel_keeps_it_apart() -> None:
    access = server({1: STAFF_FORUM, 2: (*STAFF_FORUM, member(8, deny=VIEW))})
    assert not audience_can_view(access, 1, 2)
    # ... unless they can never see the first one either.
    access = server({1: (*STAFF_FORUM, member(8, deny=VIEW)), 2: (*STAFF_FORUM, member(8, deny=VIEW))})
    assert audience_can_view(access, 1, 2)


def test_the_check_is_conservative_a_combination_nobody_holds_still_counts() -> None:
    # The public channel keeps muted members out. A muted staff member would see the staff channel
    # but not the public one: refused, even if no staff member is muted today.
    access = server({1: (role(MUTED, deny=VIEW),), 2: STAFF_FORUM})
    assert not audience_can_view(access, 2, 1)


def test_when_everyone_is_an_administrator_everything_is_shared() -> None:
    access = server({1: (), 2: STAFF_FORUM}, everyone=ADMIN)
    assert audience_can_view(access, 1, 2)


# The audience check against brute force: every role combination and every member named in an
# overwrite, compared with can_view, on random small servers.

ROLES = [STAFF, HELPERS, MUTED, ADMINS, VIEWERS, 16]
MEMBERS = [7, 8]
BITS = st.sampled_from([0, VIEW, SEND, VIEW | SEND])


@st.composite
def overwrites(draw: st.DrawFn) -> tuple[Overwrite, ...]:
    targets = draw(st.lists(st.sampled_from([GUILD, *ROLES]), unique=True, max_size=4))
    found = [role(t, draw(BITS), draw(BITS)) for t in targets]
    found += [
        member(m, draw(BITS), draw(BITS)) for m in draw(st.lists(st.sampled_from(MEMBERS), unique=True))
    ]
    return tuple(found)


@st.composite
def servers(draw: st.DrawFn) -> GuildAccess:
    perms = {GUILD: draw(st.sampled_from([0, VIEW, SEND, ADMIN]))}
    perms |= {r: draw(st.sampled_from([0, 0, VIEW, ADMIN])) for r in ROLES[:-1]}  # 16: no role of its own
    return GuildAccess(GUILD, OWNER, perms, {1: draw(overwrites()), 2: draw(overwrites())})


def every_member() -> list[Viewer]:
    role_sets = chain.from_iterable(combinations(ROLES, n) for n in range(len(ROLES) + 1))
    return [Viewer(m, frozenset(rs)) for rs in role_sets for m in (*MEMBERS, 9)]


EVERY_MEMBER = every_member()


@settings(max_examples=400, deadline=None)
@given(servers())
def test_the_audience_check_is_exact_over_every_role_combination(access: GuildAccess) -> None:
    for a, b in ((1, 2), (2, 1)):
        hidden = [v for v in EVERY_MEMBER if can_view(access, a, v) and not can_view(access, b, v)]
        assert audience_can_view(access, a, b) is (not hidden), hidden[:1]
