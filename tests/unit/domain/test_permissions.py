"""Who may do what (bot.domain.permissions): moderate a thread, mark a solution, configure the server."""

import pytest

from bot.domain.permissions import (
    Actor,
    ServerRoles,
    can_configure,
    can_mark_solution,
    can_moderate_thread,
    is_helper,
    is_staff,
    reaction_may_mark,
    skips_cooldowns,
)

ROLES = ServerRoles(helper_roles=frozenset({10}), staff_roles=frozenset({20}))
ASKER = 1

ACTORS = {
    "asker": Actor(user_id=ASKER),
    "member": Actor(user_id=2),
    "helper": Actor(user_id=3, role_ids=frozenset({10})),
    "staff": Actor(user_id=4, role_ids=frozenset({20})),
    "manage_threads": Actor(user_id=5, manage_threads=True),
    "manage_guild": Actor(user_id=6, manage_guild=True),
    "bot": Actor(user_id=7, is_bot=True, manage_guild=True, manage_threads=True),
}


@pytest.mark.parametrize(
    ("actor", "moderate", "mark", "configure"),
    [
        ("asker", True, True, False),
        ("member", False, False, False),
        ("helper", False, True, False),
        ("staff", True, True, False),
        ("manage_threads", True, True, False),
        ("manage_guild", True, True, True),
        ("bot", False, False, False),
    ],
)
def test_permission_rules(actor: str, moderate: bool, mark: bool, configure: bool) -> None:
    who = ACTORS[actor]
    assert can_moderate_thread(who, ASKER, ROLES) is moderate
    assert can_mark_solution(who, ASKER, ROLES) is mark
    assert can_configure(who) is configure


def test_staff_are_helpers_but_helpers_are_not_staff() -> None:
    assert is_helper(ACTORS["staff"], ROLES)
    assert not is_staff(ACTORS["helper"], ROLES)


def test_a_reaction_is_judged_before_anything_is_fetched() -> None:
    def may(actor: str, message_id: int = 500, author_id: int | None = 3) -> bool:
        return reaction_may_mark(
            ACTORS[actor], ASKER, ROLES, thread_id=400, message_id=message_id, author_id=author_id, bot_id=99
        )

    assert may("asker") and may("helper") and may("staff") and may("manage_threads")
    assert not may("member") and not may("bot")
    assert not may("asker", message_id=400)  # the question itself
    assert not may("asker", author_id=99)  # the bot's own note
    assert may("asker", author_id=None)  # the event did not say: the full check decides later


def test_helpers_and_staff_skip_cooldowns_members_and_moderators_do_not() -> None:
    skip = {name for name, actor in ACTORS.items() if skips_cooldowns(actor, ROLES)}
    assert skip == {"helper", "staff", "manage_guild"}
